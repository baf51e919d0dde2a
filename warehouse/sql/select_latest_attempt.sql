-- The newest recorded delivery attempt for one (provider, month). Intake is not an attempt: an
-- intake left by a crash before staging is read again, not skipped.
SELECT delivery_id, status, config_hash
FROM staging.deliveries
WHERE provider = $provider AND month = $month
ORDER BY received_at DESC
LIMIT 1;
