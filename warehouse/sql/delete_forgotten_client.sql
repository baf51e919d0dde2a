-- Erasure on request (AVG art. 17): every row of the client leaves intake, staging,
-- quarantine and core; the marts are rebuilt from what remains.
DELETE FROM staging.trajectories
WHERE provider = $provider
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM staging.measurements
WHERE provider = $provider
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM staging.quarantine
WHERE provider = $provider
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM intake.trajectories
WHERE provider = $provider
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM intake.measurements
WHERE provider = $provider
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM intake.quarantine
WHERE provider = $provider
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM core.trajectories
WHERE provider = $provider
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM core.measurements
WHERE provider = $provider
  AND trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories);
DROP TABLE forgotten_trajectories;
DROP TABLE forgotten_locals;
