-- Unsuppressed score figures per group and measure (outcome-metrics §4); only lives in this
-- build's session, the published table is made from it with suppression applied.
CREATE OR REPLACE TEMP TABLE score_groups AS
SELECT
    g.level, g.organisation, g.team, g.intervention, g.period,
    p.instrument, p.schaal, p.informant,
    count(*) AS n_paired,
    avg(p.x_start) AS mean_start,
    avg(p.x_end) AS mean_end,
    avg(p.improvement) AS mean_improvement,
    stddev_samp(p.improvement) AS sd_improvement,
    stddev_samp(p.x_start) AS sd_start,
    count(*) FILTER (WHERE p.rci > 1.96) AS n_improved,
    count(*) FILTER (WHERE p.rci < -1.96) AS n_deteriorated,
    count(*) FILTER (WHERE p.rci BETWEEN -1.96 AND 1.96) AS n_unchanged,
    count(*) FILTER (WHERE p.clinical_start) AS n_clinical_start,
    count(*) FILTER (WHERE p.clinical_start AND p.non_clinical_end AND p.rci > 1.96) AS n_recovered
FROM group_membership AS g
JOIN paired_scores AS p USING (provider, trajectory_id)
GROUP BY ALL;
