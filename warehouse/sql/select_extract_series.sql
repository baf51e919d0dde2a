-- Every measurement of a trajectory in force with its score and the whole weeks since the
-- trajectory's start (negative: before it), both days on the trajectory's clock. No dates.
SELECT
    m.trajectory_id,
    m.instrument,
    m.schaal,
    m.informant,
    m.meetmoment,
    CAST(floor((m.measured_day - t.start_day) / 7) AS INTEGER) AS weeks_since_start,
    m.score
FROM core.measurements AS m
JOIN core.trajectories AS t USING (provider, trajectory_id)
ORDER BY m.provider, m.trajectory_id, m.instrument, m.schaal, m.informant, m.measured_day, m.meetmoment;
