-- `databank status` while a run holds the warehouse: freshness from the published deliveries in
-- force (accepted only, so newest delivered = newest accepted month).
SELECT
    organisation AS provider,
    max(month) AS newest_month,
    max(month) AS newest_accepted_month,
    coalesce(bool_or(month = $expected_month), false) AS expected_accepted
FROM mart.deliveries
GROUP BY organisation
ORDER BY organisation;
