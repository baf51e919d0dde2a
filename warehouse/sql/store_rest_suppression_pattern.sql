-- The suppression pattern of the rest-of-the-consortium groups, from the groups just built and
-- the pattern of the consortium's own tables (still in trajectory_suppression and
-- score_suppression), which it then replaces for create_outcome_scores and
-- create_trajectory_indicators. 'primary': fewer than $k trajectories. 'secondary': the
-- organisation's row or the consortium's row for the same period (and measure) is hidden;
-- otherwise consortium − rest would give away the hidden count, or organisation + rest the
-- consortium's. So a shown rest row only ever equals consortium − organisation of two shown rows.
CREATE OR REPLACE TEMP TABLE rest_trajectory_suppression AS
SELECT
    g.level, g.organisation, g.team, g.intervention, g.period,
    CASE WHEN g.n_ended < $k THEN 'primary'
         WHEN o.reason IS NOT NULL OR c.reason IS NOT NULL THEN 'secondary' END AS reason
FROM trajectory_groups AS g
LEFT JOIN trajectory_suppression AS o
    ON o.level = 'organisation' AND o.organisation = g.organisation AND o.period = g.period
LEFT JOIN trajectory_suppression AS c
    ON c.level = 'consortium' AND c.period = g.period;
CREATE OR REPLACE TEMP TABLE rest_score_suppression AS
SELECT
    g.level, g.organisation, g.team, g.intervention, g.period,
    g.instrument, g.schaal, g.informant,
    CASE WHEN g.n_paired < $k THEN 'primary'
         WHEN o.reason IS NOT NULL OR c.reason IS NOT NULL THEN 'secondary' END AS reason
FROM score_groups AS g
LEFT JOIN score_suppression AS o
    ON o.level = 'organisation' AND o.organisation = g.organisation AND o.period = g.period
    AND o.instrument = g.instrument AND o.schaal = g.schaal AND o.informant = g.informant
LEFT JOIN score_suppression AS c
    ON c.level = 'consortium' AND c.period = g.period
    AND c.instrument = g.instrument AND c.schaal = g.schaal AND c.informant = g.informant;
CREATE OR REPLACE TEMP TABLE trajectory_suppression AS SELECT * FROM rest_trajectory_suppression;
CREATE OR REPLACE TEMP TABLE score_suppression AS SELECT * FROM rest_score_suppression;
DROP TABLE rest_trajectory_suppression;
DROP TABLE rest_score_suppression;
