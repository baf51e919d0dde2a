-- `databank status` while a run holds the warehouse: the deliveries in force, as published.
-- The published copy has neither rejected attempts nor objection counts.
SELECT
    organisation AS provider,
    month,
    delivery_id,
    status,
    received_at,
    rows_trajecten,
    rows_metingen,
    quarantined_trajecten,
    quarantined_metingen
FROM mart.deliveries
ORDER BY organisation, month;
