-- After staging and purge_objections: rows of the deliveries just staged that the purge removed
-- (clients whose objection was recorded in another month, or another trajectory of an objecting
-- client) count as excluded by objection, so that read − quarantined − excluded is exactly what
-- reached staging (schemas/counts.py). Rows purged from earlier deliveries are not counted
-- against them: they were loaded when staged, and the objection records their removal.
CREATE OR REPLACE TEMP TABLE staged_now AS
SELECT delivery_id FROM intake.deliveries WHERE status <> 'rejected';
CREATE OR REPLACE TEMP TABLE purged_at_staging AS
SELECT
    d.delivery_id,
    coalesce(it.n, 0) - coalesce(st.n, 0) AS trajecten,
    coalesce(im.n, 0) - coalesce(sm.n, 0) AS metingen
FROM staged_now AS d
LEFT JOIN (SELECT delivery_id, count(*) AS n FROM intake.trajectories GROUP BY delivery_id) AS it USING (delivery_id)
LEFT JOIN (SELECT delivery_id, count(*) AS n FROM intake.measurements GROUP BY delivery_id) AS im USING (delivery_id)
LEFT JOIN (
    SELECT delivery_id, count(*) AS n FROM staging.trajectories
    WHERE delivery_id IN (SELECT delivery_id FROM staged_now) GROUP BY delivery_id
) AS st USING (delivery_id)
LEFT JOIN (
    SELECT delivery_id, count(*) AS n FROM staging.measurements
    WHERE delivery_id IN (SELECT delivery_id FROM staged_now) GROUP BY delivery_id
) AS sm USING (delivery_id);
UPDATE staging.deliveries
SET excluded_bezwaar = excluded_bezwaar + p.trajecten,
    excluded_bezwaar_metingen = excluded_bezwaar_metingen + p.metingen
FROM purged_at_staging AS p
WHERE staging.deliveries.delivery_id = p.delivery_id AND (p.trajecten <> 0 OR p.metingen <> 0);
DROP TABLE purged_at_staging;
DROP TABLE staged_now;
