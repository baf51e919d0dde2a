-- mart.trajectory_indicators (outcome-metrics §6) with the suppression pattern of this build
-- (§5): a row whose reason is set ('primary': fewer than $k ended trajectories; 'secondary':
-- hidden so that no suppressed count follows from subtracting shown ones) shows no figure and
-- no count. n_ended goes through published_count (rounding when $round_to > 1); the shares and
-- the mean use the true counts.
CREATE OR REPLACE TABLE mart.trajectory_indicators AS
SELECT
    g.level, g.organisation, g.team, g.intervention, g.period,
    CASE WHEN s.reason IS NULL THEN published_count(g.n_ended, $round_to, $k) END AS n_ended,
    CASE WHEN s.reason IS NULL AND g.n_planned_denominator > 0
         THEN g.n_planned_end::DOUBLE / g.n_planned_denominator END AS pct_planned_end,
    CASE WHEN s.reason IS NULL AND g.n_goals_known > 0
         THEN g.n_goals_achieved::DOUBLE / g.n_goals_known END AS pct_goals_achieved,
    CASE WHEN s.reason IS NULL THEN g.mean_satisfaction END AS mean_satisfaction,
    s.reason IS NOT NULL AS suppressed,
    s.reason AS suppression_reason
FROM trajectory_groups AS g
-- Null means "not grouped by this column", so null must match null.
JOIN trajectory_suppression AS s
    ON s.level = g.level
    AND s.organisation IS NOT DISTINCT FROM g.organisation
    AND s.team IS NOT DISTINCT FROM g.team
    AND s.intervention IS NOT DISTINCT FROM g.intervention
    AND s.period = g.period
ORDER BY level, organisation NULLS FIRST, team NULLS FIRST, intervention NULLS FIRST, period;
