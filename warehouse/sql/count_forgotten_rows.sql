-- How many staged rows an erasure removes (for the audit record: counts only).
SELECT
    (SELECT count(*) FROM staging.trajectories
     WHERE provider = $provider AND trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)),
    (SELECT count(*) FROM staging.measurements
     WHERE provider = $provider
       AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
            OR local_client_id IN (SELECT local_client_id FROM forgotten_locals))),
    (SELECT count(*) FROM staging.quarantine
     WHERE provider = $provider
       AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
            OR local_client_id IN (SELECT local_client_id FROM forgotten_locals)));
