-- mart.outcome_scores (outcome-metrics §6) with small-number suppression (§5): a group with
-- fewer than $k paired trajectories shows no figure and no count.
CREATE OR REPLACE TABLE mart.outcome_scores AS
WITH figures AS (
    SELECT
        s.*,
        tg.n_ended,
        s.n_paired::DOUBLE / tg.n_ended AS response_rate,
        tc.t_975 * s.sd_improvement / sqrt(s.n_paired) AS ci_half_width,
        s.n_paired < $k AS suppressed
    FROM score_groups AS s
    -- Null means "not grouped by this column", so null must match null.
    JOIN trajectory_groups AS tg
        ON tg.level = s.level
        AND tg.organisation IS NOT DISTINCT FROM s.organisation
        AND tg.team IS NOT DISTINCT FROM s.team
        AND tg.intervention IS NOT DISTINCT FROM s.intervention
        AND tg.period = s.period
    LEFT JOIN t_critical AS tc ON tc.df = s.n_paired - 1
)
SELECT
    level, organisation, team, intervention, period, instrument, schaal, informant,
    CASE WHEN NOT suppressed THEN n_ended END AS n_ended,
    CASE WHEN NOT suppressed THEN n_paired END AS n_paired,
    CASE WHEN NOT suppressed THEN response_rate END AS response_rate,
    CASE WHEN NOT suppressed THEN mean_start END AS mean_start,
    CASE WHEN NOT suppressed THEN mean_end END AS mean_end,
    CASE WHEN NOT suppressed THEN mean_improvement END AS mean_improvement,
    CASE WHEN NOT suppressed AND n_paired >= 2 THEN sd_improvement END AS sd_improvement,
    CASE WHEN NOT suppressed AND n_paired >= 2 THEN mean_improvement - ci_half_width END AS ci_low,
    CASE WHEN NOT suppressed AND n_paired >= 2 THEN mean_improvement + ci_half_width END AS ci_high,
    CASE WHEN NOT suppressed AND sd_start > 0 THEN mean_improvement / sd_start END AS effect_size,
    CASE WHEN NOT suppressed THEN n_improved::DOUBLE / n_paired END AS pct_improved,
    CASE WHEN NOT suppressed THEN n_unchanged::DOUBLE / n_paired END AS pct_unchanged,
    CASE WHEN NOT suppressed THEN n_deteriorated::DOUBLE / n_paired END AS pct_deteriorated,
    CASE WHEN NOT suppressed THEN n_clinical_start END AS n_clinical_start,
    CASE WHEN NOT suppressed AND n_clinical_start > 0
         THEN n_recovered::DOUBLE / n_clinical_start END AS pct_recovered,
    suppressed
FROM figures
ORDER BY level, organisation NULLS FIRST, team NULLS FIRST, intervention NULLS FIRST, period,
         instrument, schaal, informant;
