-- Latest valid state per trajectory (outcome-metrics §1): staging holds exactly the version in
-- force of each (provider, month), so the newest month's valid row wins. A trajectory a later
-- delivery no longer contains, or whose newest copy was quarantined, keeps its last valid state.
DELETE FROM core.trajectories;
INSERT INTO core.trajectories BY NAME
SELECT provider, trajectory_id, client_id, local_client_id, birth_year, age_at_start, geslacht, pc4, team,
       interventie, hulpvorm, start_month, end_month, start_day, end_day, reden_einde, doelrealisatie,
       tevredenheid,
       delivery_id, month
FROM staging.trajectories
QUALIFY row_number() OVER (
    PARTITION BY provider, trajectory_id
    ORDER BY month DESC, row_number DESC
) = 1;
