-- "The rest of the consortium" (the dashboard's comparison for one organisation): for every
-- provider with an ended trajectory, the ended trajectories of all other providers, as one group
-- of level 'rest_of_consortium' whose `organisation` is the provider left out, per period.
-- It replaces group_membership, so build_score_groups and build_trajectory_groups compute the
-- rest's figures with exactly the definitions of outcome-metrics §4.
CREATE OR REPLACE TEMP TABLE group_membership AS
WITH left_out AS (
    SELECT DISTINCT provider AS organisation FROM core.trajectories WHERE end_month IS NOT NULL
)
SELECT
    t.provider,
    t.trajectory_id,
    t.reden_einde,
    t.doelrealisatie,
    t.tevredenheid,
    'rest_of_consortium' AS level,
    x.organisation,
    NULL::VARCHAR AS team,
    NULL::VARCHAR AS intervention,
    CASE WHEN p.is_all THEN 'all' ELSE strftime(t.end_month, '%Y') END AS period
FROM core.trajectories AS t
JOIN left_out AS x ON t.provider <> x.organisation
CROSS JOIN (VALUES (true), (false)) AS p(is_all)
WHERE t.end_month IS NOT NULL;
