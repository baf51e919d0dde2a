-- A correction replaces its month whole (delivery-format §1, §9.6): each accepted delivery's
-- staged (provider, month) rows and quarantine make way for its intake, and it becomes the
-- version in force. A rejected delivery is only recorded; its month's staged data stay as they
-- were (§8, §9.6). Set-based over every waiting delivery, so a first load of years of months from
-- every provider is a handful of statements, not a handful per delivery.
CREATE OR REPLACE TEMP TABLE accepted_deliveries AS
SELECT provider, month FROM intake.deliveries WHERE status <> 'rejected';
DELETE FROM staging.trajectories WHERE (provider, month) IN (SELECT (provider, month) FROM accepted_deliveries);
DELETE FROM staging.measurements WHERE (provider, month) IN (SELECT (provider, month) FROM accepted_deliveries);
DELETE FROM staging.quarantine WHERE (provider, month) IN (SELECT (provider, month) FROM accepted_deliveries);
UPDATE staging.deliveries SET is_current = false
WHERE (provider, month) IN (SELECT (provider, month) FROM accepted_deliveries);
INSERT INTO staging.trajectories BY NAME
SELECT * FROM intake.trajectories WHERE (provider, month) IN (SELECT (provider, month) FROM accepted_deliveries);
INSERT INTO staging.measurements BY NAME
SELECT * FROM intake.measurements WHERE (provider, month) IN (SELECT (provider, month) FROM accepted_deliveries);
INSERT INTO staging.quarantine BY NAME
SELECT * FROM intake.quarantine WHERE (provider, month) IN (SELECT (provider, month) FROM accepted_deliveries);
INSERT OR REPLACE INTO staging.deliveries BY NAME
SELECT * REPLACE (status <> 'rejected' AS is_current) FROM intake.deliveries;
INSERT INTO privacy.objections BY NAME
SELECT * FROM intake.objections WHERE (provider, month) IN (SELECT (provider, month) FROM accepted_deliveries);
DROP TABLE accepted_deliveries;
