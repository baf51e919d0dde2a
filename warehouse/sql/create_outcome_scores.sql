-- mart.outcome_scores (outcome-metrics §6) with the suppression pattern of this build (§5): a row
-- whose reason is set ('primary': fewer than $k paired trajectories; 'secondary': hidden so that
-- no suppressed count follows from subtracting shown ones) shows no figure and no count (§7.3).
-- n_ended and response_rate also stay null in a shown row whose trajectory-indicator row is
-- suppressed: they would give away the count that table hides. Counts go through
-- published_count (rounding when $round_to > 1); shares, means and the response rate are
-- computed from the true counts.
CREATE OR REPLACE TABLE mart.outcome_scores AS
WITH figures AS (
    SELECT
        s.*,
        tg.n_ended,
        s.n_paired::DOUBLE / tg.n_ended AS response_rate,
        tc.t_975 * s.sd_improvement / sqrt(s.n_paired) AS ci_half_width,
        ss.reason,
        ss.reason IS NOT NULL AS suppressed,
        ss.reason IS NOT NULL OR ts.reason IS NOT NULL AS ended_hidden
    FROM score_groups AS s
    -- Null means "not grouped by this column", so null must match null.
    JOIN trajectory_groups AS tg
        ON tg.level = s.level
        AND tg.organisation IS NOT DISTINCT FROM s.organisation
        AND tg.team IS NOT DISTINCT FROM s.team
        AND tg.intervention IS NOT DISTINCT FROM s.intervention
        AND tg.period = s.period
    JOIN score_suppression AS ss
        ON ss.level = s.level
        AND ss.organisation IS NOT DISTINCT FROM s.organisation
        AND ss.team IS NOT DISTINCT FROM s.team
        AND ss.intervention IS NOT DISTINCT FROM s.intervention
        AND ss.period = s.period
        AND ss.instrument = s.instrument
        AND ss.schaal = s.schaal
        AND ss.informant = s.informant
    JOIN trajectory_suppression AS ts
        ON ts.level = s.level
        AND ts.organisation IS NOT DISTINCT FROM s.organisation
        AND ts.team IS NOT DISTINCT FROM s.team
        AND ts.intervention IS NOT DISTINCT FROM s.intervention
        AND ts.period = s.period
    LEFT JOIN t_critical AS tc ON tc.df = s.n_paired - 1
)
SELECT
    level, organisation, team, intervention, period, instrument, schaal, informant,
    CASE WHEN NOT ended_hidden THEN published_count(n_ended, $round_to, $k) END AS n_ended,
    CASE WHEN NOT suppressed THEN published_count(n_paired, $round_to, $k) END AS n_paired,
    CASE WHEN NOT ended_hidden THEN response_rate END AS response_rate,
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
    CASE WHEN NOT suppressed THEN published_count(n_clinical_start, $round_to, 0) END
        AS n_clinical_start,
    CASE WHEN NOT suppressed AND n_clinical_start > 0
         THEN n_recovered::DOUBLE / n_clinical_start END AS pct_recovered,
    suppressed,
    reason AS suppression_reason
FROM figures
ORDER BY level, organisation NULLS FIRST, team NULLS FIRST, intervention NULLS FIRST, period,
         instrument, schaal, informant;
