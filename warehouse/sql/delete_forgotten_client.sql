-- Erasure on request (AVG art. 17): every row of the client leaves intake, staging,
-- quarantine and core; the marts are rebuilt from what remains. $provider is NULL for an
-- erasure by BSN, which reaches every provider (trajectory and client-number pseudonyms are
-- scoped to their provider by construction, so no other provider's rows can match them).
DELETE FROM staging.trajectories
WHERE ($provider IS NULL OR provider = $provider)
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM staging.measurements
WHERE ($provider IS NULL OR provider = $provider)
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM staging.quarantine
WHERE ($provider IS NULL OR provider = $provider)
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM intake.trajectories
WHERE ($provider IS NULL OR provider = $provider)
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM intake.measurements
WHERE ($provider IS NULL OR provider = $provider)
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM intake.quarantine
WHERE ($provider IS NULL OR provider = $provider)
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM core.trajectories
WHERE ($provider IS NULL OR provider = $provider)
  AND (trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories)
       OR local_client_id IN (SELECT local_client_id FROM forgotten_locals));
DELETE FROM core.measurements
WHERE ($provider IS NULL OR provider = $provider)
  AND trajectory_id IN (SELECT trajectory_id FROM forgotten_trajectories);
DROP TABLE forgotten_trajectories;
DROP TABLE forgotten_locals;
