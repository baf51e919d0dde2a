-- Staged intakes leave intake in the same transaction that staged them.
DELETE FROM intake.trajectories WHERE provider = $provider;
DELETE FROM intake.measurements WHERE provider = $provider;
DELETE FROM intake.quarantine WHERE provider = $provider;
DELETE FROM intake.deliveries WHERE provider = $provider;
DELETE FROM intake.objections WHERE provider = $provider;
