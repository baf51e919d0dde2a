-- How many days each measurement lies before its trajectory's start (negative: after), counted
-- on the trajectory's clock (pseudonymise/clock.py), so exactly as from the calendar dates.
SELECT t.start_day - m.measured_day AS days_before_start
FROM core.measurements AS m
JOIN core.trajectories AS t USING (provider, trajectory_id);
