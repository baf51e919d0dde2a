-- The trajectories and provider client numbers of one client of one provider, for erasure:
-- found by the BSN-based pseudonym or by the provider's own client-number pseudonym.
CREATE OR REPLACE TEMP TABLE forgotten_trajectories AS
SELECT DISTINCT trajectory_id, local_client_id FROM (
    SELECT trajectory_id, local_client_id FROM staging.trajectories
    WHERE provider = $provider AND (client_id = $client_id OR local_client_id = $local_client_id)
    UNION ALL
    SELECT trajectory_id, local_client_id FROM intake.trajectories
    WHERE provider = $provider AND (client_id = $client_id OR local_client_id = $local_client_id)
    UNION ALL
    SELECT trajectory_id, local_client_id FROM core.trajectories
    WHERE provider = $provider AND (client_id = $client_id OR local_client_id = $local_client_id)
);
CREATE OR REPLACE TEMP TABLE forgotten_locals AS
SELECT DISTINCT local_client_id FROM (
    SELECT local_client_id FROM forgotten_trajectories WHERE local_client_id IS NOT NULL
    UNION ALL
    SELECT $local_client_id WHERE $local_client_id IS NOT NULL
);
