-- The display name of every team code the marts can show, per organisation: from the register
-- (team_names_frame), the unregistered team's fixed name, else the code itself.
CREATE OR REPLACE TABLE mart.teams AS
SELECT DISTINCT
    t.provider AS organisation,
    t.team,
    coalesce(n.team_name, CASE WHEN t.team = $unregistered THEN $unregistered_name END, t.team)::VARCHAR
        AS team_name
FROM core.trajectories AS t
LEFT JOIN team_names_frame AS n ON n.provider = t.provider AND n.team = t.team
WHERE t.team IS NOT NULL
ORDER BY organisation, t.team;
