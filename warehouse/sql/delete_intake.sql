-- An intake waiting for staging is replaced whole by a newer read of the same (provider, month):
-- every (provider, month) of the registered `intake_keys`.
DELETE FROM intake.trajectories WHERE (provider, month) IN (SELECT (provider, month) FROM intake_keys);
DELETE FROM intake.measurements WHERE (provider, month) IN (SELECT (provider, month) FROM intake_keys);
DELETE FROM intake.quarantine WHERE (provider, month) IN (SELECT (provider, month) FROM intake_keys);
DELETE FROM intake.deliveries WHERE (provider, month) IN (SELECT (provider, month) FROM intake_keys);
DELETE FROM intake.objections WHERE (provider, month) IN (SELECT (provider, month) FROM intake_keys);
