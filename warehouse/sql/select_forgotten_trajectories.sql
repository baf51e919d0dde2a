-- The trajectories and provider client numbers of one client, for erasure: found by the
-- BSN-based pseudonyms (at every provider: $provider is NULL) or by one provider's own
-- client-number pseudonyms (one of each per key chain the key file computes, so rows left under
-- an older chain are found too).
CREATE OR REPLACE TEMP TABLE forgotten_trajectories AS
SELECT DISTINCT trajectory_id, local_client_id FROM (
    SELECT trajectory_id, local_client_id FROM staging.trajectories
    WHERE ($provider IS NULL OR provider = $provider)
      AND (list_contains(CAST($client_ids AS VARCHAR[]), client_id)
           OR list_contains(CAST($local_client_ids AS VARCHAR[]), local_client_id))
    UNION ALL
    SELECT trajectory_id, local_client_id FROM intake.trajectories
    WHERE ($provider IS NULL OR provider = $provider)
      AND (list_contains(CAST($client_ids AS VARCHAR[]), client_id)
           OR list_contains(CAST($local_client_ids AS VARCHAR[]), local_client_id))
    UNION ALL
    SELECT trajectory_id, local_client_id FROM core.trajectories
    WHERE ($provider IS NULL OR provider = $provider)
      AND (list_contains(CAST($client_ids AS VARCHAR[]), client_id)
           OR list_contains(CAST($local_client_ids AS VARCHAR[]), local_client_id))
);
CREATE OR REPLACE TEMP TABLE forgotten_locals AS
SELECT DISTINCT local_client_id FROM (
    SELECT local_client_id FROM forgotten_trajectories WHERE local_client_id IS NOT NULL
    UNION ALL
    SELECT unnest(CAST($local_client_ids AS VARCHAR[]))
);
