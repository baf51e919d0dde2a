-- Unsuppressed trajectory figures per group (outcome-metrics §4); reden_einde 5 leaves only the
-- denominator of the planned-end share (§7.4).
CREATE OR REPLACE TEMP TABLE trajectory_groups AS
SELECT
    level, organisation, team, intervention, period,
    count(*) AS n_ended,
    count(*) FILTER (WHERE reden_einde = 1) AS n_planned_end,
    count(*) FILTER (WHERE reden_einde IS DISTINCT FROM 5) AS n_planned_denominator,
    count(*) FILTER (WHERE doelrealisatie IN (1, 2)) AS n_goals_achieved,
    count(doelrealisatie) AS n_goals_known,
    avg(tevredenheid) AS mean_satisfaction
FROM group_membership
GROUP BY ALL;
