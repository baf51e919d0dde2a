-- The count that decides suppression per trajectory-indicator group (outcome-metrics §5): the
-- secondary-suppression pattern is computed over these rows (warehouse/marts.py).
SELECT level, organisation, team, intervention, period, n_ended
FROM trajectory_groups;
