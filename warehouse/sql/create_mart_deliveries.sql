-- Which deliveries the published figures rest on, so analysts can see what changed a number.
CREATE OR REPLACE TABLE mart.deliveries AS
SELECT
    provider AS organisation,
    month,
    delivery_id,
    received_at,
    status,
    rows_trajecten,
    rows_metingen,
    quarantined_trajecten,
    quarantined_metingen
FROM staging.deliveries
WHERE is_current
ORDER BY provider, month;
