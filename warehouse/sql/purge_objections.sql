-- Every row of a client who objects, in every month their provider delivered, leaves staging
-- (and so core and the marts): an objection in a later delivery reaches back. Run after every
-- staging, so a re-delivered older month cannot bring them back. Objections are per provider.
CREATE OR REPLACE TEMP TABLE objected_trajectories AS
SELECT DISTINCT t.provider, t.trajectory_id
FROM staging.trajectories AS t
JOIN privacy.objections AS o
    ON o.provider = t.provider
    AND (o.local_client_id = t.local_client_id OR (o.client_id IS NOT NULL AND o.client_id = t.client_id));
DELETE FROM staging.trajectories
WHERE (provider, trajectory_id) IN (SELECT (provider, trajectory_id) FROM objected_trajectories);
DELETE FROM staging.measurements
WHERE (provider, trajectory_id) IN (SELECT (provider, trajectory_id) FROM objected_trajectories)
   OR (provider, local_client_id) IN (SELECT (provider, local_client_id) FROM privacy.objections);
DELETE FROM staging.quarantine
WHERE (provider, trajectory_id) IN (SELECT (provider, trajectory_id) FROM objected_trajectories)
   OR (provider, local_client_id) IN (SELECT (provider, local_client_id) FROM privacy.objections);
DROP TABLE objected_trajectories;
