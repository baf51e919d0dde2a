-- Start and end score per ended trajectory and measure (outcome-metrics §2) and the per-pair
-- figures of §3: improvement, reliable change index, clinical status, recovery. A measurement's
-- date is its day on the trajectory's clock (measured_day): the same order, the same "after".
CREATE OR REPLACE TEMP TABLE paired_scores AS
WITH ends AS (
    SELECT
        m.provider, m.trajectory_id, m.instrument, m.schaal, m.informant,
        arg_min(m.score, m.measured_day) FILTER (WHERE m.meetmoment = 'start') AS x_start,
        min(m.measured_day) FILTER (WHERE m.meetmoment = 'start') AS start_day,
        arg_max(m.score, m.measured_day) FILTER (WHERE m.meetmoment = 'eind') AS x_end,
        max(m.measured_day) FILTER (WHERE m.meetmoment = 'eind') AS end_day
    FROM core.measurements AS m
    JOIN core.trajectories AS t USING (provider, trajectory_id)
    WHERE t.end_month IS NOT NULL
    GROUP BY ALL
),
scored AS (
    SELECT
        e.*,
        i.cutoff,
        i.higher_is_worse,
        (CASE WHEN i.higher_is_worse THEN 1 ELSE -1 END) * (e.x_start - e.x_end) AS improvement,
        sqrt(2) * i.sd_ref * sqrt(1 - i.r) AS s_diff
    FROM ends AS e
    JOIN ref.instruments AS i USING (instrument, schaal)
    WHERE e.x_start IS NOT NULL AND e.x_end IS NOT NULL AND e.end_day > e.start_day
)
SELECT
    *,
    improvement / s_diff AS rci,
    CASE WHEN higher_is_worse THEN x_start >= cutoff ELSE x_start <= cutoff END AS clinical_start,
    CASE WHEN higher_is_worse THEN x_end < cutoff ELSE x_end > cutoff END AS non_clinical_end
FROM scored;
