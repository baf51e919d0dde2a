-- `databank status` while a run holds the warehouse: freshness from the published deliveries in
-- force (accepted only, so first and newest delivered are accepted months too).
SELECT
    organisation AS provider,
    min(month) AS first_month,
    max(month) AS newest_month,
    max(month) AS newest_accepted_month,
    list(DISTINCT month ORDER BY month) AS accepted_months
FROM mart.deliveries
GROUP BY organisation
ORDER BY organisation;
