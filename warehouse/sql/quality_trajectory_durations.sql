-- Days from start to end (or to the end of the newest month delivered for a running trajectory).
SELECT datediff('day', startdatum,
                coalesce(einddatum, last_day(strptime(month || '-01', '%Y-%m-%d')::DATE))) AS duration_days
FROM core.trajectories;
