-- Measurements de-duplicated on (trajectory, instrument, schaal, informant, meetmoment, datum),
-- the date as its day on the trajectory's clock (measured_day, pseudonymise/clock.py):
-- the newest delivery's score wins (outcome-metrics §1); within one delivery the later line of
-- the steward's file wins.
DELETE FROM core.measurements;
INSERT INTO core.measurements BY NAME
SELECT m.provider, m.trajectory_id, m.instrument, m.schaal, m.informant, m.meetmoment, m.measured_day,
       m.score, m.delivery_id, m.month
FROM staging.measurements AS m
JOIN staging.deliveries AS d USING (delivery_id)
QUALIFY row_number() OVER (
    PARTITION BY m.provider, m.trajectory_id, m.instrument, m.schaal, m.informant, m.meetmoment, m.measured_day
    ORDER BY m.month DESC, d.received_at DESC, m.row_number DESC
) = 1;
