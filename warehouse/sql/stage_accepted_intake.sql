-- A correction replaces its month whole (delivery-format §1, §9.6): the month's staged rows and
-- quarantine make way for the accepted intake, and the delivery becomes the version in force.
DELETE FROM staging.trajectories WHERE provider = $provider AND month = $month;
DELETE FROM staging.measurements WHERE provider = $provider AND month = $month;
DELETE FROM staging.quarantine WHERE provider = $provider AND month = $month;
UPDATE staging.deliveries SET is_current = false WHERE provider = $provider AND month = $month;
INSERT INTO staging.trajectories BY NAME SELECT * FROM intake.trajectories WHERE provider = $provider AND month = $month;
INSERT INTO staging.measurements BY NAME SELECT * FROM intake.measurements WHERE provider = $provider AND month = $month;
INSERT INTO staging.quarantine BY NAME SELECT * FROM intake.quarantine WHERE provider = $provider AND month = $month;
INSERT OR REPLACE INTO staging.deliveries BY NAME
SELECT * REPLACE (true AS is_current) FROM intake.deliveries WHERE provider = $provider AND month = $month;
INSERT INTO privacy.objections BY NAME
SELECT * FROM intake.objections WHERE provider = $provider AND month = $month;
