-- Every ended trajectory belongs to one group per comparison level and period
-- (outcome-metrics §4); columns a level does not group by are null.
CREATE OR REPLACE TEMP TABLE group_membership AS
SELECT
    t.provider,
    t.trajectory_id,
    t.reden_einde,
    t.doelrealisatie,
    t.tevredenheid,
    l.level,
    CASE WHEN l.level IN ('organisation', 'team', 'organisation_intervention') THEN t.provider END
        AS organisation,
    CASE WHEN l.level = 'team' THEN t.team END AS team,
    CASE WHEN l.level IN ('intervention', 'organisation_intervention') THEN t.interventie END
        AS intervention,
    CASE WHEN p.is_all THEN 'all' ELSE strftime(t.end_month, '%Y') END AS period
FROM core.trajectories AS t
CROSS JOIN (VALUES ('consortium'), ('organisation'), ('team'), ('intervention'),
                   ('organisation_intervention')) AS l(level)
CROSS JOIN (VALUES (true), (false)) AS p(is_all)
WHERE t.end_month IS NOT NULL;
