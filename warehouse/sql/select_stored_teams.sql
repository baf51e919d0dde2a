-- Every distinct stored team per provider, waiting (intake) or staged, to match against the register.
SELECT DISTINCT provider, team FROM staging.trajectories WHERE team IS NOT NULL
UNION
SELECT DISTINCT provider, team FROM intake.trajectories WHERE team IS NOT NULL
ORDER BY ALL;
