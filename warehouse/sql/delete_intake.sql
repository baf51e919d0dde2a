-- An intake waiting for staging is replaced whole by a newer read of the same (provider, month).
DELETE FROM intake.trajectories WHERE provider = $provider AND month = $month;
DELETE FROM intake.measurements WHERE provider = $provider AND month = $month;
DELETE FROM intake.quarantine WHERE provider = $provider AND month = $month;
DELETE FROM intake.deliveries WHERE provider = $provider AND month = $month;
DELETE FROM intake.objections WHERE provider = $provider AND month = $month;
