-- `databank status`, on the analysts' copy: which build it holds, the published marts' row
-- counts and how many rows are suppressed.
SELECT
    (SELECT build_id FROM mart.build_info ORDER BY built_at DESC LIMIT 1) AS build_id,
    (SELECT max(built_at) FROM mart.build_info) AS built_at,
    (SELECT count(*) FROM mart.outcome_scores) AS outcome_scores,
    (SELECT count(*) FILTER (WHERE suppressed) FROM mart.outcome_scores) AS outcome_scores_suppressed,
    (SELECT count(*) FROM mart.trajectory_indicators) AS trajectory_indicators,
    (SELECT count(*) FILTER (WHERE suppressed) FROM mart.trajectory_indicators) AS trajectory_indicators_suppressed;
