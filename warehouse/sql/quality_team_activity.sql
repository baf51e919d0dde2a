-- Teams that have run trajectories for over six months, still run some, and ended none in the
-- six months before their provider's newest delivered month. Starts and ends are stored as months:
-- a team counts as having ended one when the last day of an end month lies within the six months.
WITH newest AS (
    SELECT provider, last_day(strptime(max(month) || '-01', '%Y-%m-%d')::DATE) AS newest_day
    FROM staging.deliveries WHERE is_current GROUP BY provider
),
teams AS (
    SELECT provider, team, min(start_month) AS first_start, last_day(max(end_month)) AS last_end,
           count(*) FILTER (WHERE end_month IS NULL) AS running
    FROM core.trajectories GROUP BY provider, team
)
SELECT
    teams.running > 0
    AND (teams.last_end IS NULL OR teams.last_end < newest.newest_day - INTERVAL 6 MONTH) AS stale
FROM teams JOIN newest USING (provider)
WHERE teams.first_start < newest.newest_day - INTERVAL 6 MONTH;
