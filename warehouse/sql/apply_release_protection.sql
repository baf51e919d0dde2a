-- Release protection applied to the marts just built (warehouse/release.py), table by table:
-- 1. every mart row gets `held` and `held_from_build`;
-- 2. with $protect, a row hidden only to protect a release ('release': its trajectories changed
--    by fewer than k since it was last published; 'secondary': hidden so that such a figure does
--    not follow from the others) shows its last published figures instead, marked as held with
--    the build they are from; a row never published before stays suppressed;
-- 3. with $protect, figures carry no more precision than a reader needs (means 2 decimals,
--    shares 3);
-- 4. the figures shown now are remembered (privacy.shown_*), and every cell of this release is
--    recorded with its size and whether it was shown (privacy.cell_publications).

-- mart.outcome_scores
ALTER TABLE mart.outcome_scores ADD COLUMN held BOOLEAN DEFAULT false;
ALTER TABLE mart.outcome_scores ADD COLUMN held_from_build VARCHAR;
CREATE TABLE IF NOT EXISTS privacy.shown_outcome_scores AS
SELECT *, NULL::VARCHAR AS cell FROM mart.outcome_scores WITH NO DATA;
CREATE OR REPLACE TEMP TABLE release_held AS
SELECT s.cell, m.suppression_reason AS reason
FROM mart.outcome_scores AS m
JOIN privacy.shown_outcome_scores AS s ON s.cell = release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period)
WHERE $protect AND m.suppression_reason IN ('release', 'secondary');
DELETE FROM mart.outcome_scores AS m WHERE release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period) IN (SELECT cell FROM release_held);
INSERT INTO mart.outcome_scores BY NAME
SELECT s.* EXCLUDE (cell, suppression_reason, held), true AS held, h.reason AS suppression_reason
FROM privacy.shown_outcome_scores AS s JOIN release_held AS h USING (cell);
UPDATE mart.outcome_scores SET
    mean_start = round(mean_start, 2),
    mean_end = round(mean_end, 2),
    mean_improvement = round(mean_improvement, 2),
    sd_improvement = round(sd_improvement, 2),
    ci_low = round(ci_low, 2),
    ci_high = round(ci_high, 2),
    effect_size = round(effect_size, 2),
    response_rate = round(response_rate, 3),
    pct_improved = round(pct_improved, 3),
    pct_unchanged = round(pct_unchanged, 3),
    pct_deteriorated = round(pct_deteriorated, 3),
    pct_recovered = round(pct_recovered, 3)
WHERE $protect AND NOT held;
INSERT INTO privacy.cell_publications
SELECT c.cell, $seq, c.n, f.shown, f.protects_other
FROM (SELECT release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period) AS cell, NOT m.suppressed AND NOT m.held AS shown,
             coalesce(m.suppression_reason = 'secondary', false) AS protects_other
      FROM mart.outcome_scores AS m) AS f
JOIN release_cells_now AS c USING (cell);
DELETE FROM privacy.shown_outcome_scores WHERE cell IN (
    SELECT release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period) FROM mart.outcome_scores AS m WHERE NOT m.suppressed AND NOT m.held);
INSERT INTO privacy.shown_outcome_scores BY NAME
SELECT m.* EXCLUDE (held_from_build), release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period) AS cell, $build_id AS held_from_build
FROM mart.outcome_scores AS m WHERE NOT m.suppressed AND NOT m.held;
CREATE OR REPLACE TABLE mart.outcome_scores AS
SELECT * FROM mart.outcome_scores
ORDER BY level, organisation NULLS FIRST, team NULLS FIRST, intervention NULLS FIRST, period, instrument, schaal, informant;

-- mart.trajectory_indicators
ALTER TABLE mart.trajectory_indicators ADD COLUMN held BOOLEAN DEFAULT false;
ALTER TABLE mart.trajectory_indicators ADD COLUMN held_from_build VARCHAR;
CREATE TABLE IF NOT EXISTS privacy.shown_trajectory_indicators AS
SELECT *, NULL::VARCHAR AS cell FROM mart.trajectory_indicators WITH NO DATA;
CREATE OR REPLACE TEMP TABLE release_held AS
SELECT s.cell, m.suppression_reason AS reason
FROM mart.trajectory_indicators AS m
JOIN privacy.shown_trajectory_indicators AS s ON s.cell = release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period)
WHERE $protect AND m.suppression_reason IN ('release', 'secondary');
DELETE FROM mart.trajectory_indicators AS m WHERE release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period) IN (SELECT cell FROM release_held);
INSERT INTO mart.trajectory_indicators BY NAME
SELECT s.* EXCLUDE (cell, suppression_reason, held), true AS held, h.reason AS suppression_reason
FROM privacy.shown_trajectory_indicators AS s JOIN release_held AS h USING (cell);
UPDATE mart.trajectory_indicators SET
    pct_planned_end = round(pct_planned_end, 3),
    pct_goals_achieved = round(pct_goals_achieved, 3),
    mean_satisfaction = round(mean_satisfaction, 2)
WHERE $protect AND NOT held;
INSERT INTO privacy.cell_publications
SELECT c.cell, $seq, c.n, f.shown, f.protects_other
FROM (SELECT release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period) AS cell, NOT m.suppressed AND NOT m.held AS shown,
             coalesce(m.suppression_reason = 'secondary', false) AS protects_other
      FROM mart.trajectory_indicators AS m) AS f
JOIN release_cells_now AS c USING (cell);
DELETE FROM privacy.shown_trajectory_indicators WHERE cell IN (
    SELECT release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period) FROM mart.trajectory_indicators AS m WHERE NOT m.suppressed AND NOT m.held);
INSERT INTO privacy.shown_trajectory_indicators BY NAME
SELECT m.* EXCLUDE (held_from_build), release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period) AS cell, $build_id AS held_from_build
FROM mart.trajectory_indicators AS m WHERE NOT m.suppressed AND NOT m.held;
CREATE OR REPLACE TABLE mart.trajectory_indicators AS
SELECT * FROM mart.trajectory_indicators
ORDER BY level, organisation NULLS FIRST, team NULLS FIRST, intervention NULLS FIRST, period;

-- mart.outcome_scores_rest
ALTER TABLE mart.outcome_scores_rest ADD COLUMN held BOOLEAN DEFAULT false;
ALTER TABLE mart.outcome_scores_rest ADD COLUMN held_from_build VARCHAR;
CREATE TABLE IF NOT EXISTS privacy.shown_outcome_scores_rest AS
SELECT *, NULL::VARCHAR AS cell FROM mart.outcome_scores_rest WITH NO DATA;
CREATE OR REPLACE TEMP TABLE release_held AS
SELECT s.cell, m.suppression_reason AS reason
FROM mart.outcome_scores_rest AS m
JOIN privacy.shown_outcome_scores_rest AS s ON s.cell = release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period)
WHERE $protect AND m.suppression_reason IN ('release', 'secondary');
DELETE FROM mart.outcome_scores_rest AS m WHERE release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period) IN (SELECT cell FROM release_held);
INSERT INTO mart.outcome_scores_rest BY NAME
SELECT s.* EXCLUDE (cell, suppression_reason, held), true AS held, h.reason AS suppression_reason
FROM privacy.shown_outcome_scores_rest AS s JOIN release_held AS h USING (cell);
UPDATE mart.outcome_scores_rest SET
    mean_start = round(mean_start, 2),
    mean_end = round(mean_end, 2),
    mean_improvement = round(mean_improvement, 2),
    sd_improvement = round(sd_improvement, 2),
    ci_low = round(ci_low, 2),
    ci_high = round(ci_high, 2),
    effect_size = round(effect_size, 2),
    response_rate = round(response_rate, 3),
    pct_improved = round(pct_improved, 3),
    pct_unchanged = round(pct_unchanged, 3),
    pct_deteriorated = round(pct_deteriorated, 3),
    pct_recovered = round(pct_recovered, 3)
WHERE $protect AND NOT held;
INSERT INTO privacy.cell_publications
SELECT c.cell, $seq, c.n, f.shown, f.protects_other
FROM (SELECT release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period) AS cell, NOT m.suppressed AND NOT m.held AS shown,
             coalesce(m.suppression_reason = 'secondary', false) AS protects_other
      FROM mart.outcome_scores_rest AS m) AS f
JOIN release_cells_now AS c USING (cell);
DELETE FROM privacy.shown_outcome_scores_rest WHERE cell IN (
    SELECT release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period) FROM mart.outcome_scores_rest AS m WHERE NOT m.suppressed AND NOT m.held);
INSERT INTO privacy.shown_outcome_scores_rest BY NAME
SELECT m.* EXCLUDE (held_from_build), release_cell('scores', m.instrument, m.schaal, m.informant, m.level, m.organisation, m.team, m.intervention, m.period) AS cell, $build_id AS held_from_build
FROM mart.outcome_scores_rest AS m WHERE NOT m.suppressed AND NOT m.held;
CREATE OR REPLACE TABLE mart.outcome_scores_rest AS
SELECT * FROM mart.outcome_scores_rest
ORDER BY level, organisation NULLS FIRST, team NULLS FIRST, intervention NULLS FIRST, period, instrument, schaal, informant;

-- mart.trajectory_indicators_rest
ALTER TABLE mart.trajectory_indicators_rest ADD COLUMN held BOOLEAN DEFAULT false;
ALTER TABLE mart.trajectory_indicators_rest ADD COLUMN held_from_build VARCHAR;
CREATE TABLE IF NOT EXISTS privacy.shown_trajectory_indicators_rest AS
SELECT *, NULL::VARCHAR AS cell FROM mart.trajectory_indicators_rest WITH NO DATA;
CREATE OR REPLACE TEMP TABLE release_held AS
SELECT s.cell, m.suppression_reason AS reason
FROM mart.trajectory_indicators_rest AS m
JOIN privacy.shown_trajectory_indicators_rest AS s ON s.cell = release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period)
WHERE $protect AND m.suppression_reason IN ('release', 'secondary');
DELETE FROM mart.trajectory_indicators_rest AS m WHERE release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period) IN (SELECT cell FROM release_held);
INSERT INTO mart.trajectory_indicators_rest BY NAME
SELECT s.* EXCLUDE (cell, suppression_reason, held), true AS held, h.reason AS suppression_reason
FROM privacy.shown_trajectory_indicators_rest AS s JOIN release_held AS h USING (cell);
UPDATE mart.trajectory_indicators_rest SET
    pct_planned_end = round(pct_planned_end, 3),
    pct_goals_achieved = round(pct_goals_achieved, 3),
    mean_satisfaction = round(mean_satisfaction, 2)
WHERE $protect AND NOT held;
INSERT INTO privacy.cell_publications
SELECT c.cell, $seq, c.n, f.shown, f.protects_other
FROM (SELECT release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period) AS cell, NOT m.suppressed AND NOT m.held AS shown,
             coalesce(m.suppression_reason = 'secondary', false) AS protects_other
      FROM mart.trajectory_indicators_rest AS m) AS f
JOIN release_cells_now AS c USING (cell);
DELETE FROM privacy.shown_trajectory_indicators_rest WHERE cell IN (
    SELECT release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period) FROM mart.trajectory_indicators_rest AS m WHERE NOT m.suppressed AND NOT m.held);
INSERT INTO privacy.shown_trajectory_indicators_rest BY NAME
SELECT m.* EXCLUDE (held_from_build), release_cell('trajectories', NULL, NULL, NULL, m.level, m.organisation, m.team, m.intervention, m.period) AS cell, $build_id AS held_from_build
FROM mart.trajectory_indicators_rest AS m WHERE NOT m.suppressed AND NOT m.held;
CREATE OR REPLACE TABLE mart.trajectory_indicators_rest AS
SELECT * FROM mart.trajectory_indicators_rest
ORDER BY level, organisation NULLS FIRST, team NULLS FIRST, intervention NULLS FIRST, period;
DROP TABLE IF EXISTS release_held;
