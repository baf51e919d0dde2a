-- Every row of a client who objects, in every month their provider delivered, leaves staging
-- (and so core and the marts): an objection in a later delivery reaches back. Run after every
-- staging, so a re-delivered older month cannot bring them back.
CREATE OR REPLACE TEMP TABLE objected_trajectories AS
SELECT DISTINCT t.provider, t.trajectory_id
FROM staging.trajectories AS t
JOIN privacy.objections AS o
    ON o.provider = t.provider
    AND (o.local_client_id = t.local_client_id OR (o.client_id IS NOT NULL AND o.client_id = t.client_id));
DELETE FROM staging.trajectories AS t
WHERE EXISTS (SELECT 1 FROM objected_trajectories AS x
              WHERE x.provider = t.provider AND x.trajectory_id = t.trajectory_id);
DELETE FROM staging.measurements AS m
WHERE EXISTS (SELECT 1 FROM objected_trajectories AS x
              WHERE x.provider = m.provider AND x.trajectory_id = m.trajectory_id)
   OR EXISTS (SELECT 1 FROM privacy.objections AS o
              WHERE o.provider = m.provider AND o.local_client_id = m.local_client_id);
DELETE FROM staging.quarantine AS q
WHERE EXISTS (SELECT 1 FROM objected_trajectories AS x
              WHERE x.provider = q.provider AND x.trajectory_id = q.trajectory_id)
   OR EXISTS (SELECT 1 FROM privacy.objections AS o
              WHERE o.provider = q.provider AND o.local_client_id = q.local_client_id);
DROP TABLE objected_trajectories;
