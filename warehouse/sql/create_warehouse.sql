-- The warehouse's tables. Only pseudonyms and allow-listed fields ever reach them.
CREATE SCHEMA IF NOT EXISTS intake;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS mart;

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
    excluded_bezwaar INTEGER NOT NULL,
    fault_codes      VARCHAR NOT NULL,     -- comma-separated file-level fault codes (empty if none)
    config_hash      VARCHAR NOT NULL      -- the configuration it was judged under
);

CREATE TABLE IF NOT EXISTS staging.trajectories (
    delivery_id    VARCHAR NOT NULL,
    provider       VARCHAR NOT NULL,
    month          VARCHAR NOT NULL,
    row_number     INTEGER NOT NULL,
    trajectory_id  VARCHAR NOT NULL,  -- keyed pseudonym of (provider, traject_id)
    client_id      VARCHAR NOT NULL,  -- keyed pseudonym of the BSN, else of (provider, clientnummer)
    birth_year     INTEGER,
    age_at_start   INTEGER,
    geslacht       VARCHAR,
    pc4            VARCHAR,
    team           VARCHAR,
    interventie    VARCHAR,
    hulpvorm       VARCHAR,
    startdatum     DATE,
    einddatum      DATE,
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
    instrument     VARCHAR,
    schaal         VARCHAR,
    informant      VARCHAR,
    meetmoment     VARCHAR,
    datum          DATE,
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
    trajectory_id  VARCHAR            -- pseudonym, when the row had a traject_id
);

-- Validated deliveries waiting to be staged (written by the read step, emptied by staging).
CREATE TABLE IF NOT EXISTS intake.trajectories AS SELECT * FROM staging.trajectories WITH NO DATA;
CREATE TABLE IF NOT EXISTS intake.measurements AS SELECT * FROM staging.measurements WITH NO DATA;
CREATE TABLE IF NOT EXISTS intake.quarantine AS SELECT * FROM staging.quarantine WITH NO DATA;
CREATE TABLE IF NOT EXISTS intake.deliveries AS SELECT * FROM staging.deliveries WITH NO DATA;

-- The latest valid state per trajectory and de-duplicated measurements (outcome-metrics §1).
CREATE TABLE IF NOT EXISTS core.trajectories (
    provider       VARCHAR NOT NULL,
    trajectory_id  VARCHAR NOT NULL,
    client_id      VARCHAR NOT NULL,
    birth_year     INTEGER,
    age_at_start   INTEGER,
    geslacht       VARCHAR,
    pc4            VARCHAR,
    team           VARCHAR,
    interventie    VARCHAR,
    hulpvorm       VARCHAR,
    startdatum     DATE,
    einddatum      DATE,
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
    datum          DATE NOT NULL,
    score          DOUBLE NOT NULL,
    delivery_id    VARCHAR NOT NULL,
    month          VARCHAR NOT NULL
);

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
