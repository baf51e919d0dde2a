-- `databank status`: per provider that has delivered at least once, the newest month delivered
-- (any verdict), the newest accepted month, and whether $expected_month has an accepted delivery.
SELECT
    provider,
    max(month) AS newest_month,
    max(month) FILTER (WHERE status <> 'rejected') AS newest_accepted_month,
    coalesce(bool_or(month = $expected_month AND status <> 'rejected'), false) AS expected_accepted
FROM staging.deliveries
GROUP BY provider
ORDER BY provider;
