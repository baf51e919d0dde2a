-- `databank status`: the newest attempt of every (provider, month), how many attempts there were
-- and when the accepted version in force (if any) was received. Counts and codes only; what they
-- mean is defined once in schemas/counts.py.
SELECT
    provider,
    month,
    delivery_id,
    status,
    received_at,
    rows_trajecten,
    rows_metingen,
    quarantined_trajecten,
    quarantined_metingen,
    excluded_bezwaar,
    excluded_bezwaar_metingen,
    is_current,
    attempts,
    in_force_received_at
FROM (
    SELECT
        *,
        row_number() OVER (PARTITION BY provider, month ORDER BY received_at DESC, delivery_id) AS newest,
        count(*) OVER (PARTITION BY provider, month) AS attempts,
        max(received_at) FILTER (WHERE is_current) OVER (PARTITION BY provider, month) AS in_force_received_at
    FROM staging.deliveries
)
WHERE newest = 1
ORDER BY provider, month;
