-- Row counts of core and marts for run metadata: counts only, never values.
SELECT
    (SELECT count(*) FROM core.trajectories),
    (SELECT count(*) FROM core.measurements),
    (SELECT count(*) FROM mart.outcome_scores),
    (SELECT count(*) FILTER (WHERE suppressed) FROM mart.outcome_scores),
    (SELECT count(*) FROM mart.trajectory_indicators),
    (SELECT count(*) FILTER (WHERE suppressed) FROM mart.trajectory_indicators);
