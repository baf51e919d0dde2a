-- The intakes of one provider waiting for staging: the deliveries read in this run (and any a
-- crashed run left behind), each the newest read of its month.
SELECT month, status, delivery_id FROM intake.deliveries WHERE provider = $provider ORDER BY month;
