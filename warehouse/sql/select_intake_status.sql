-- The status of the intake waiting for (provider, month), if any.
SELECT status FROM intake.deliveries WHERE provider = $provider AND month = $month;
