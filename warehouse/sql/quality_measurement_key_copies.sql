-- Per measurement row, how many core rows share its key (outcome-metrics §1: trajectory, instrument,
-- schaal, informant, meetmoment, day): the uniqueness of the whole table, counted in DuckDB.
SELECT count(*) OVER (
    PARTITION BY provider, trajectory_id, instrument, schaal, informant, meetmoment, measured_day
) AS copies
FROM core.measurements;
