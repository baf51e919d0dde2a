-- A rejected delivery is recorded for lineage and reporting; the month's staged data stay as
-- they were (delivery-format §8, §9.6).
INSERT OR REPLACE INTO staging.deliveries BY NAME
SELECT * REPLACE (false AS is_current) FROM intake.deliveries WHERE provider = $provider AND month = $month;
