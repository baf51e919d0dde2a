-- How many days each measurement lies before its trajectory's start (negative: after).
SELECT datediff('day', m.datum, t.startdatum) AS days_before_start
FROM core.measurements AS m
JOIN core.trajectories AS t USING (provider, trajectory_id);
