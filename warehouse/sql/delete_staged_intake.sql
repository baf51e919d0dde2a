-- Staged intakes leave intake in the same transaction that staged them.
DELETE FROM intake.trajectories;
DELETE FROM intake.measurements;
DELETE FROM intake.quarantine;
DELETE FROM intake.deliveries;
DELETE FROM intake.objections;
