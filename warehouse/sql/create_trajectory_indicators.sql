-- mart.trajectory_indicators (outcome-metrics §6), suppressed below $k ended trajectories (§5).
CREATE OR REPLACE TABLE mart.trajectory_indicators AS
SELECT
    level, organisation, team, intervention, period,
    CASE WHEN n_ended >= $k THEN n_ended END AS n_ended,
    CASE WHEN n_ended >= $k AND n_planned_denominator > 0
         THEN n_planned_end::DOUBLE / n_planned_denominator END AS pct_planned_end,
    CASE WHEN n_ended >= $k AND n_goals_known > 0
         THEN n_goals_achieved::DOUBLE / n_goals_known END AS pct_goals_achieved,
    CASE WHEN n_ended >= $k THEN mean_satisfaction END AS mean_satisfaction,
    n_ended < $k AS suppressed
FROM trajectory_groups
ORDER BY level, organisation NULLS FIRST, team NULLS FIRST, intervention NULLS FIRST, period;
