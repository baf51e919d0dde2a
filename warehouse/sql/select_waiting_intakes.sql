-- The intakes waiting for staging: the deliveries read in this run (and any a crashed run left
-- behind), each the newest read of its (provider, month).
SELECT provider, month, status, delivery_id FROM intake.deliveries ORDER BY provider, month;
