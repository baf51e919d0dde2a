-- Row count and an order-independent sum of row hashes of every table the warehouse guard reads:
-- any change to core or marts since their validation changes it (computed in well under a second).
SELECT concat_ws(' ',
    (SELECT count(*) || ':' || coalesce(sum(hash(t)::HUGEINT), 0) FROM core.trajectories AS t),
    (SELECT count(*) || ':' || coalesce(sum(hash(t)::HUGEINT), 0) FROM core.measurements AS t),
    (SELECT count(*) || ':' || coalesce(sum(hash(t)::HUGEINT), 0) FROM mart.outcome_scores AS t),
    (SELECT count(*) || ':' || coalesce(sum(hash(t)::HUGEINT), 0) FROM mart.trajectory_indicators AS t),
    (SELECT count(*) || ':' || coalesce(sum(hash(t)::HUGEINT), 0) FROM mart.deliveries AS t)
) AS digest;
