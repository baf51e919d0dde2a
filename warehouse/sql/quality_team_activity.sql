-- Teams that have run trajectories for over six months, still run some, and ended none in the
-- six months before their provider's newest delivered month.
WITH newest AS (
    SELECT provider, last_day(strptime(max(month) || '-01', '%Y-%m-%d')::DATE) AS newest_day
    FROM staging.deliveries WHERE is_current GROUP BY provider
),
teams AS (
    SELECT provider, team, min(startdatum) AS first_start, max(einddatum) AS last_end,
           count(*) FILTER (WHERE einddatum IS NULL) AS running
    FROM core.trajectories GROUP BY provider, team
)
SELECT
    teams.running > 0
    AND (teams.last_end IS NULL OR teams.last_end < newest.newest_day - INTERVAL 6 MONTH) AS stale
FROM teams JOIN newest USING (provider)
WHERE teams.first_start < newest.newest_day - INTERVAL 6 MONTH;
