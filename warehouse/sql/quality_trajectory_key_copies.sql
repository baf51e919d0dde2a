-- Per trajectory row, how many core rows share its key (provider, trajectory_id): the uniqueness of
-- the whole table, counted in DuckDB; a row of a duplicated key counts, as GE's compound-unique does.
SELECT count(*) OVER (PARTITION BY provider, trajectory_id) AS copies
FROM core.trajectories;
