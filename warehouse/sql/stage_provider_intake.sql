-- A correction replaces its month whole (delivery-format §1, §9.6): each accepted month's staged
-- rows and quarantine make way for its intake, and the delivery becomes the version in force. A
-- rejected delivery is only recorded; its month's staged data stay as they were (§8, §9.6).
-- Set-based over every waiting month of the provider, so a first load of years of months is a
-- handful of statements, not a handful per month.
CREATE OR REPLACE TEMP TABLE accepted_months AS
SELECT month FROM intake.deliveries WHERE provider = $provider AND status <> 'rejected';
DELETE FROM staging.trajectories WHERE provider = $provider AND month IN (SELECT month FROM accepted_months);
DELETE FROM staging.measurements WHERE provider = $provider AND month IN (SELECT month FROM accepted_months);
DELETE FROM staging.quarantine WHERE provider = $provider AND month IN (SELECT month FROM accepted_months);
UPDATE staging.deliveries SET is_current = false
WHERE provider = $provider AND month IN (SELECT month FROM accepted_months);
INSERT INTO staging.trajectories BY NAME
SELECT * FROM intake.trajectories WHERE provider = $provider AND month IN (SELECT month FROM accepted_months);
INSERT INTO staging.measurements BY NAME
SELECT * FROM intake.measurements WHERE provider = $provider AND month IN (SELECT month FROM accepted_months);
INSERT INTO staging.quarantine BY NAME
SELECT * FROM intake.quarantine WHERE provider = $provider AND month IN (SELECT month FROM accepted_months);
INSERT OR REPLACE INTO staging.deliveries BY NAME
SELECT * REPLACE (status <> 'rejected' AS is_current) FROM intake.deliveries WHERE provider = $provider;
INSERT INTO privacy.objections BY NAME
SELECT * FROM intake.objections WHERE provider = $provider AND month IN (SELECT month FROM accepted_months);
DROP TABLE accepted_months;
