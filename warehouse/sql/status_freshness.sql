-- `databank status`: per provider that has delivered at least once, its first month delivered
-- (any verdict: from then on every month is expected), the newest month delivered (any verdict),
-- the newest accepted month, and every month with an accepted delivery (a rejected attempt does
-- not count; an accepted one that a rejected correction followed still does).
SELECT
    provider,
    min(month) AS first_month,
    max(month) AS newest_month,
    max(month) FILTER (WHERE status <> 'rejected') AS newest_accepted_month,
    coalesce(list(DISTINCT month ORDER BY month) FILTER (WHERE status <> 'rejected'), []) AS accepted_months
FROM staging.deliveries
GROUP BY provider
ORDER BY provider;
