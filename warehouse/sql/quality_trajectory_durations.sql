-- Days from start to end, exact (both on the trajectory's clock); for a running trajectory, from
-- the first day of its start month to the end of the newest month delivered for it: the start day
-- is not stored, so a running trajectory counts up to 30 days long (up to a year with
-- privacy.toml `dates = "year"`).
SELECT coalesce(
    end_day - start_day,
    datediff('day', start_month, last_day(strptime(month || '-01', '%Y-%m-%d')::DATE))
) AS duration_days
FROM core.trajectories;
