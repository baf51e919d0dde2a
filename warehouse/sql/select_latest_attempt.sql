-- The newest delivery attempt for one (provider, month), staged or waiting in intake.
SELECT delivery_id, status, config_hash
FROM (
    SELECT delivery_id, status, config_hash, received_at FROM intake.deliveries
    WHERE provider = $provider AND month = $month
    UNION ALL
    SELECT delivery_id, status, config_hash, received_at FROM staging.deliveries
    WHERE provider = $provider AND month = $month
)
ORDER BY received_at DESC
LIMIT 1;
