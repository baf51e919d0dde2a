-- Every row of a client who objects, in every month their provider delivered, leaves staging
-- (and so core and the marts): an objection in a later delivery reaches back. Run after every
-- staging of the provider, so a re-delivered older month cannot bring them back. Objections are
-- per provider, so only that provider's rows are looked at.
CREATE OR REPLACE TEMP TABLE provider_objections AS
SELECT client_id, local_client_id FROM privacy.objections WHERE provider = $provider;
CREATE OR REPLACE TEMP TABLE objected_trajectories AS
SELECT DISTINCT t.trajectory_id
FROM staging.trajectories AS t
JOIN provider_objections AS o
    ON o.local_client_id = t.local_client_id OR (o.client_id IS NOT NULL AND o.client_id = t.client_id)
WHERE t.provider = $provider;
DELETE FROM staging.trajectories AS t
WHERE t.provider = $provider AND t.trajectory_id IN (SELECT trajectory_id FROM objected_trajectories);
DELETE FROM staging.measurements AS m
WHERE m.provider = $provider
  AND (m.trajectory_id IN (SELECT trajectory_id FROM objected_trajectories)
       OR m.local_client_id IN (SELECT local_client_id FROM provider_objections));
DELETE FROM staging.quarantine AS q
WHERE q.provider = $provider
  AND (q.trajectory_id IN (SELECT trajectory_id FROM objected_trajectories)
       OR q.local_client_id IN (SELECT local_client_id FROM provider_objections));
DROP TABLE objected_trajectories;
DROP TABLE provider_objections;
