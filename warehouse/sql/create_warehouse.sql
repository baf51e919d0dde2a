-- The warehouse's tables. Only pseudonyms and allow-listed fields ever reach them.
CREATE SCHEMA IF NOT EXISTS intake;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS privacy;

-- Every delivery attempt, accepted or rejected: the lineage of every staged row.
CREATE TABLE IF NOT EXISTS staging.deliveries (
    delivery_id      VARCHAR PRIMARY KEY,  -- content hash of provider, month and the files' bytes
    provider         VARCHAR NOT NULL,
    month            VARCHAR NOT NULL,     -- YYYY-MM, the reporting month
    files            VARCHAR NOT NULL,     -- JSON: name, sha256 and size per file
    received_at      TIMESTAMP NOT NULL,   -- when the pipeline first processed these bytes
    status           VARCHAR NOT NULL,     -- accepted | accepted_with_quarantine | rejected
    is_current       BOOLEAN NOT NULL,     -- the accepted version of (provider, month) in force
    rows_trajecten   INTEGER NOT NULL,
    rows_metingen    INTEGER NOT NULL,
    quarantined_trajecten INTEGER NOT NULL,
    quarantined_metingen  INTEGER NOT NULL,
    excluded_bezwaar INTEGER NOT NULL,     -- trajecten rows left out by objection
    fault_codes      VARCHAR NOT NULL,     -- comma-separated file-level fault codes (empty if none)
    config_hash      VARCHAR NOT NULL,     -- the configuration it was judged under
    excluded_bezwaar_metingen INTEGER      -- metingen rows left out by objection (schemas/counts.py)
);
-- Deliveries recorded before metingen exclusions were counted keep NULL there: their 'loaded'
-- is unknown rather than wrong.
ALTER TABLE staging.deliveries ADD COLUMN IF NOT EXISTS excluded_bezwaar_metingen INTEGER;

CREATE TABLE IF NOT EXISTS staging.trajectories (
    delivery_id    VARCHAR NOT NULL,
    provider       VARCHAR NOT NULL,
    month          VARCHAR NOT NULL,
    row_number     INTEGER NOT NULL,
    trajectory_id  VARCHAR NOT NULL,  -- keyed pseudonym of (provider, traject_id)
    client_id      VARCHAR NOT NULL,  -- keyed pseudonym of the BSN, else of (provider, clientnummer)
    local_client_id VARCHAR,          -- keyed pseudonym of (provider, clientnummer): AVG requests
    birth_year     INTEGER,           -- only with a documented use (privacy.toml [uses])
    age_at_start   INTEGER,           -- whole years on the start date (case-mix, outcome-metrics §8)
    geslacht       VARCHAR,
    pc4            VARCHAR,           -- only with a documented use: four digits or two (region)
    team           VARCHAR,
    interventie    VARCHAR,
    hulpvorm       VARCHAR,
    start_month    DATE,              -- first day of the start's month (or year): PRIVACY.md §1
    end_month      DATE,              -- first day of the end's month (or year); NULL while running
    start_day      INTEGER,           -- the start on the trajectory's keyed clock (pseudonymise/clock.py)
    end_day        INTEGER,           -- the end on that clock: end_day - start_day is the length in days
    reden_einde    INTEGER,
    doelrealisatie INTEGER,
    tevredenheid   DOUBLE
);

CREATE TABLE IF NOT EXISTS staging.measurements (
    delivery_id    VARCHAR NOT NULL,
    provider       VARCHAR NOT NULL,
    month          VARCHAR NOT NULL,
    row_number     INTEGER NOT NULL,
    trajectory_id  VARCHAR NOT NULL,
    local_client_id VARCHAR,
    instrument     VARCHAR,
    schaal         VARCHAR,
    informant      VARCHAR,
    meetmoment     VARCHAR,
    measured_day   INTEGER,          -- the date on the trajectory's keyed clock: minus start_day, days since the start
    score          DOUBLE
);

-- Quarantined rows: pseudonyms, reason and place in the steward's file; never the row's values.
CREATE TABLE IF NOT EXISTS staging.quarantine (
    delivery_id    VARCHAR NOT NULL,
    provider       VARCHAR NOT NULL,
    month          VARCHAR NOT NULL,
    table_name     VARCHAR NOT NULL,  -- trajecten | metingen
    row_number     INTEGER NOT NULL,  -- physical line in the steward's file (header = 1)
    column_name    VARCHAR,
    reason_code    VARCHAR NOT NULL,
    trajectory_id  VARCHAR,           -- pseudonym, when the row had a traject_id
    local_client_id VARCHAR           -- pseudonym, when the row had a clientnummer
);

-- Warehouses made before a column existed get it here (new tables already have it).
ALTER TABLE staging.trajectories ADD COLUMN IF NOT EXISTS local_client_id VARCHAR;
ALTER TABLE staging.measurements ADD COLUMN IF NOT EXISTS local_client_id VARCHAR;
ALTER TABLE staging.quarantine ADD COLUMN IF NOT EXISTS local_client_id VARCHAR;

-- Clients who object (bezwaar = ja): kept as pseudonyms only, so that their data in earlier
-- months, and in later re-deliveries of those months, are removed and stay removed.
CREATE TABLE IF NOT EXISTS privacy.objections (
    provider        VARCHAR NOT NULL,
    client_id       VARCHAR,           -- BSN-based pseudonym, when the row had a valid BSN
    local_client_id VARCHAR NOT NULL,
    month           VARCHAR NOT NULL,  -- the delivery that carried the objection
    recorded_at     TIMESTAMP NOT NULL
);

-- What was done for AVG requests and key management: counts and times, never an identifier.
CREATE TABLE IF NOT EXISTS privacy.erasures (
    erased_at        TIMESTAMP NOT NULL,
    provider         VARCHAR NOT NULL,
    requested_by     VARCHAR NOT NULL,  -- 'bsn' | 'clientnummer'
    trajectories     INTEGER NOT NULL,
    measurements     INTEGER NOT NULL,
    quarantine_rows  INTEGER NOT NULL
);
-- The suppression list of erased clients: the read step leaves out every delivered row that
-- matches a token, so no later delivery brings the client back. A token is a one-way keyed
-- digest of one of the client's pseudonyms under a subkey of its own (pseudonymise/pseudonyms.py),
-- never a pseudonym, so the erased values are gone from this file's bytes (PRIVACY.md §4).
CREATE TABLE IF NOT EXISTS privacy.erasure_tokens (
    token        VARCHAR NOT NULL,  -- ER1-<root key id>-<digest>
    provider     VARCHAR,           -- the provider it applies to; NULL: every provider (a BSN)
    recorded_at  TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS privacy.key_rotations (
    rotated_at       TIMESTAMP NOT NULL,
    from_key_id      VARCHAR NOT NULL,
    to_key_id        VARCHAR NOT NULL,
    pseudonyms_rekeyed INTEGER NOT NULL
);

-- The keys every stored pseudonym was made with, oldest first: the authority on which key file
-- can read and extend this warehouse (warehouse/pseudonym_keys.py). Key ids only, never a key.
-- Older warehouses get this table empty here and a record derived when first checked.
CREATE TABLE IF NOT EXISTS privacy.pseudonym_keys (
    position     BIGINT NOT NULL,     -- 1 = the first key; a pseudonym is keyed by each in turn
    key_id       VARCHAR NOT NULL,
    recorded_at  TIMESTAMP NOT NULL
);

-- Validated deliveries waiting to be staged (written by the read step, emptied by staging).
CREATE TABLE IF NOT EXISTS intake.trajectories AS SELECT * FROM staging.trajectories WITH NO DATA;
CREATE TABLE IF NOT EXISTS intake.measurements AS SELECT * FROM staging.measurements WITH NO DATA;
CREATE TABLE IF NOT EXISTS intake.quarantine AS SELECT * FROM staging.quarantine WITH NO DATA;
CREATE TABLE IF NOT EXISTS intake.deliveries AS SELECT * FROM staging.deliveries WITH NO DATA;
CREATE TABLE IF NOT EXISTS intake.objections AS SELECT * FROM privacy.objections WITH NO DATA;
ALTER TABLE intake.trajectories ADD COLUMN IF NOT EXISTS local_client_id VARCHAR;
ALTER TABLE intake.measurements ADD COLUMN IF NOT EXISTS local_client_id VARCHAR;
ALTER TABLE intake.quarantine ADD COLUMN IF NOT EXISTS local_client_id VARCHAR;
ALTER TABLE intake.deliveries ADD COLUMN IF NOT EXISTS excluded_bezwaar_metingen INTEGER;

-- The latest valid state per trajectory and de-duplicated measurements (outcome-metrics §1).
CREATE TABLE IF NOT EXISTS core.trajectories (
    provider       VARCHAR NOT NULL,
    trajectory_id  VARCHAR NOT NULL,
    client_id      VARCHAR NOT NULL,
    local_client_id VARCHAR,
    birth_year     INTEGER,           -- only with a documented use (privacy.toml [uses])
    age_at_start   INTEGER,           -- whole years on the start date (case-mix, outcome-metrics §8)
    geslacht       VARCHAR,
    pc4            VARCHAR,           -- only with a documented use: four digits or two (region)
    team           VARCHAR,
    interventie    VARCHAR,
    hulpvorm       VARCHAR,
    start_month    DATE,              -- first day of the start's month (or year): PRIVACY.md §1
    end_month      DATE,              -- first day of the end's month (or year); NULL while running
    start_day      INTEGER,           -- the start on the trajectory's keyed clock (pseudonymise/clock.py)
    end_day        INTEGER,           -- the end on that clock: end_day - start_day is the length in days
    reden_einde    INTEGER,
    doelrealisatie INTEGER,
    tevredenheid   DOUBLE,
    delivery_id    VARCHAR NOT NULL,  -- the delivery whose row won
    month          VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.measurements (
    provider       VARCHAR NOT NULL,
    trajectory_id  VARCHAR NOT NULL,
    instrument     VARCHAR NOT NULL,
    schaal         VARCHAR NOT NULL,
    informant      VARCHAR NOT NULL,
    meetmoment     VARCHAR NOT NULL,
    measured_day   INTEGER NOT NULL,
    score          DOUBLE NOT NULL,
    delivery_id    VARCHAR NOT NULL,
    month          VARCHAR NOT NULL
);

ALTER TABLE core.trajectories ADD COLUMN IF NOT EXISTS local_client_id VARCHAR;

-- Warehouses made before data minimisation (privacy.toml 2026-12) stored calendar dates: they get
-- the new columns here, empty; warehouse/minimise.py fills them from the old ones with the key
-- (the first `databank run`, read step, `extract` or `rotate-key`) and drops the old columns in
-- the same transaction. Until then no build runs on them.
ALTER TABLE intake.trajectories ADD COLUMN IF NOT EXISTS start_month DATE;
ALTER TABLE intake.trajectories ADD COLUMN IF NOT EXISTS end_month DATE;
ALTER TABLE intake.trajectories ADD COLUMN IF NOT EXISTS start_day INTEGER;
ALTER TABLE intake.trajectories ADD COLUMN IF NOT EXISTS end_day INTEGER;
ALTER TABLE staging.trajectories ADD COLUMN IF NOT EXISTS start_month DATE;
ALTER TABLE staging.trajectories ADD COLUMN IF NOT EXISTS end_month DATE;
ALTER TABLE staging.trajectories ADD COLUMN IF NOT EXISTS start_day INTEGER;
ALTER TABLE staging.trajectories ADD COLUMN IF NOT EXISTS end_day INTEGER;
ALTER TABLE core.trajectories ADD COLUMN IF NOT EXISTS start_month DATE;
ALTER TABLE core.trajectories ADD COLUMN IF NOT EXISTS end_month DATE;
ALTER TABLE core.trajectories ADD COLUMN IF NOT EXISTS start_day INTEGER;
ALTER TABLE core.trajectories ADD COLUMN IF NOT EXISTS end_day INTEGER;
ALTER TABLE intake.measurements ADD COLUMN IF NOT EXISTS measured_day INTEGER;
ALTER TABLE staging.measurements ADD COLUMN IF NOT EXISTS measured_day INTEGER;
ALTER TABLE core.measurements ADD COLUMN IF NOT EXISTS measured_day INTEGER;

-- The instrument registry as loaded for the current build (config/instruments.csv).
CREATE TABLE IF NOT EXISTS ref.instruments (
    instrument      VARCHAR NOT NULL,
    schaal          VARCHAR NOT NULL,
    min             DOUBLE NOT NULL,
    max             DOUBLE NOT NULL,
    higher_is_worse BOOLEAN NOT NULL,
    sd_ref          DOUBLE NOT NULL,
    r               DOUBLE NOT NULL,
    cutoff          DOUBLE NOT NULL,
    PRIMARY KEY (instrument, schaal)
);

-- Every build of core and marts: what it was made from, so an unchanged nightly is a no-op and
-- "why did this number change" can name the deliveries that changed between two builds.
CREATE TABLE IF NOT EXISTS staging.builds (
    build_id      VARCHAR PRIMARY KEY,
    built_at      TIMESTAMP NOT NULL,
    fingerprint   VARCHAR NOT NULL,   -- of the deliveries in force, objections, erasures, keys, config
    delivery_ids  VARCHAR[] NOT NULL  -- the deliveries in force at this build
);

-- The warehouse guard's verdicts, each with a digest of the core and marts it read: a run with
-- nothing new may leave the guard out only while they are exactly what last passed it.
CREATE TABLE IF NOT EXISTS staging.validations (
    build_id      VARCHAR NOT NULL,
    validated_at  TIMESTAMP NOT NULL,
    digest        VARCHAR NOT NULL,
    passed        BOOLEAN NOT NULL
);

-- Release protection's memory (warehouse/release.py): what each release published, so that a
-- figure is never republished from a set of trajectories that differs by fewer than k from one
-- a reader already has. Counts, hashes and published aggregates only; never a pseudonym.
CREATE TABLE IF NOT EXISTS privacy.releases (
    seq          INTEGER PRIMARY KEY,  -- 1, 2, ...: every build is a release
    build_id     VARCHAR NOT NULL,
    released_at  TIMESTAMP NOT NULL
);
-- One row per version of a trajectory in a comparison atom (provider, team, intervention, end
-- year), per table the figures come from ('trajectories', or 'scores' per measure), with the
-- releases it was part of. trajectory_ref is md5 of the trajectory pseudonym (re-derived at
-- rotation, replaced by a random reference at erasure); value_hash is md5 of the values the
-- figures use, so a correction is a new version; component_hashes has one md5 per figure
-- component (a start score, a flag, ...), so that a version that changed its end score is known
-- to add the same start score as before (warehouse/release.py).
CREATE TABLE IF NOT EXISTS privacy.release_tokens (
    family          VARCHAR NOT NULL,
    instrument      VARCHAR,
    schaal          VARCHAR,
    informant       VARCHAR,
    trajectory_ref  VARCHAR NOT NULL,
    value_hash      VARCHAR NOT NULL,
    provider        VARCHAR NOT NULL,
    team            VARCHAR,
    intervention    VARCHAR,
    year            VARCHAR NOT NULL,
    first_seq       INTEGER NOT NULL,
    last_seq        INTEGER            -- null while current
);
ALTER TABLE privacy.release_tokens ADD COLUMN IF NOT EXISTS component_hashes VARCHAR[];
-- true for a version whose reference a key rotation could not follow (rekey_release_tokens.sql)
ALTER TABLE privacy.release_tokens ADD COLUMN IF NOT EXISTS unlinked BOOLEAN DEFAULT false;
-- Every cell of every release: its size, and whether that release showed its figures (its
-- members follow from release_tokens). A cell hidden to protect another may still be pinned
-- down in part (a hidden year = 'all' minus the other years), so its later sets are compared
-- with it too.
CREATE TABLE IF NOT EXISTS privacy.cell_publications (
    cell     VARCHAR NOT NULL,
    seq      INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    shown    BOOLEAN NOT NULL DEFAULT true,   -- figures of this set were published
    protects_other BOOLEAN NOT NULL DEFAULT false  -- hidden (secondary) to protect another figure
);
