-- Every figure a reader of every release holds about one table and measure ($prefix: the start
-- of its cells' keys): the figures earlier releases showed (privacy.cell_publications, shown;
-- numbered from $fresh_count on) and the figures this release is about to show afresh
-- (release_guard_fresh, numbered by position). A version is one trajectory with one value of
-- the figure component looked at, wherever it was: a trajectory that moved to another team adds
-- the same values to the consortium's figure before and after, and one whose end score was
-- corrected adds the same start score. release_guard_same_as maps a trajectory's versions that
-- agree on the component to one (select_release_guard_partitions.sql). Versions that lie in
-- exactly the same figures form a class; returns each class as its figures and its
-- trajectories, for warehouse/release.py ReleaseGuard.
CREATE OR REPLACE TEMP TABLE release_guard_figures AS
SELECT $fresh_count + row_number() OVER (ORDER BY p.seq, p.cell) - 1 AS figure, p.cell, p.seq
FROM privacy.cell_publications AS p
WHERE p.shown AND p.seq < $seq AND starts_with(p.cell, $prefix)
UNION ALL
SELECT f.position, f.cell, $seq FROM release_guard_fresh AS f;

WITH versions AS (
    SELECT DISTINCT f.figure, e.trajectory_ref, coalesce(s.same_as, e.value_hash) AS value_hash,
           e.unlinked
    FROM release_guard_figures AS f
    JOIN release_cell_tokens AS e USING (cell)
    LEFT JOIN release_guard_same_as AS s USING (trajectory_ref, value_hash)
    WHERE e.first_seq <= f.seq AND coalesce(e.last_seq, $seq) >= f.seq
      AND e.family = $family AND e.instrument IS NOT DISTINCT FROM $instrument
      AND e.schaal IS NOT DISTINCT FROM $schaal AND e.informant IS NOT DISTINCT FROM $informant
),
patterns AS (
    SELECT trajectory_ref, value_hash, list(DISTINCT figure ORDER BY figure) AS figures,
           bool_or(unlinked) AS unlinked
    FROM versions
    GROUP BY trajectory_ref, value_hash
)
-- trajectories: the linked ones; a class of versions a key rotation could not follow
-- (`unlinked`) may be any other trajectory's earlier self and counts as at least one
SELECT figures,
       coalesce(list(DISTINCT trajectory_ref ORDER BY trajectory_ref) FILTER (WHERE NOT unlinked), [])
           AS trajectories,
       (SELECT count(*) FROM release_guard_figures) AS figure_count,
       bool_or(unlinked) AS unlinked
FROM patterns
GROUP BY figures
ORDER BY figures;
