-- How the versions of one trajectory differ, per figure component, for one table and measure:
-- for every trajectory with more than one version (a correction, a changed registry, ...), and
-- every component ($components of them, numbered from 1; 0 is the count, to which every
-- version of a trajectory adds the same one), each version and the first version with the same
-- value of that component. Versions recorded before component hashes existed count as
-- different in every component but the count.
WITH versions AS (
    SELECT trajectory_ref, value_hash,
           any_value(component_hashes) FILTER (WHERE component_hashes IS NOT NULL) AS component_hashes
    FROM privacy.release_tokens
    WHERE family = $family AND instrument IS NOT DISTINCT FROM $instrument
      AND schaal IS NOT DISTINCT FROM $schaal AND informant IS NOT DISTINCT FROM $informant
    GROUP BY trajectory_ref, value_hash
),
several AS (
    SELECT trajectory_ref FROM versions GROUP BY trajectory_ref HAVING count(*) > 1
),
components AS (
    SELECT c.component, v.trajectory_ref, v.value_hash,
           CASE WHEN c.component = 0 THEN ''
                ELSE coalesce(v.component_hashes[c.component], v.value_hash) END AS component_hash
    FROM versions AS v
    JOIN several USING (trajectory_ref)
    CROSS JOIN range(0, $components + 1) AS c(component)
)
SELECT component, trajectory_ref, value_hash,
       min(value_hash) OVER (PARTITION BY component, trajectory_ref, component_hash) AS same_as
FROM components
ORDER BY component, trajectory_ref, value_hash;
