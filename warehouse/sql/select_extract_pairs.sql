-- Per ended trajectory and measure, its pair (outcome-metrics §2, as the marts pair them: run
-- after build_paired_scores): the scores, and the classes of §3. No dates.
SELECT
    trajectory_id,
    instrument,
    schaal,
    informant,
    x_start AS score_start,
    x_end AS score_end,
    CASE WHEN rci > 1.96 THEN 'improved' WHEN rci < -1.96 THEN 'deteriorated' ELSE 'unchanged' END AS change,
    clinical_start,
    clinical_start AND non_clinical_end AND rci > 1.96 AS recovered
FROM paired_scores
ORDER BY provider, trajectory_id, instrument, schaal, informant;
