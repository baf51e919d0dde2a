-- Stored teams follow the register in force (warehouse/teams.py): team_changes_frame holds
-- (provider, stored, code) for every stored value that is not a registered code.
UPDATE staging.trajectories AS s SET team = c.code
FROM team_changes_frame AS c
WHERE s.provider = c.provider AND s.team = c.stored;
UPDATE intake.trajectories AS s SET team = c.code
FROM team_changes_frame AS c
WHERE s.provider = c.provider AND s.team = c.stored;
