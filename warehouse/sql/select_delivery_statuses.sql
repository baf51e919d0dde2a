-- The recorded verdict of the given deliveries, for the run summary.
SELECT provider, month, status
FROM staging.deliveries
WHERE list_contains($delivery_ids, delivery_id)
ORDER BY provider, month;
