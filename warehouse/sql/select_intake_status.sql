-- The status and identity of the intake waiting for (provider, month), if any.
SELECT status, delivery_id FROM intake.deliveries WHERE provider = $provider AND month = $month;
