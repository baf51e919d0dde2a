-- The changes a reader could isolate by comparing this release with the last one: for each
-- cell about to be published afresh (release_fresh: the cell and the release it was last
-- published in, 0 when never), the trajectory versions it gained (+) or lost (−). Versions
-- that every such cell treats alike form one class; a reader can learn a class's figures only
-- as a whole. Returns each class's pattern (cell index and sign, see warehouse/release.py) and size.
WITH changes AS (
    SELECT f.position, e.trajectory_ref, e.value_hash,
           bool_or(e.last_seq IS NULL) AS in_now,
           bool_or(e.first_seq <= f.base_seq AND coalesce(e.last_seq, $seq) >= f.base_seq) AS in_base
    FROM release_fresh AS f
    JOIN release_cell_tokens AS e USING (cell)
    GROUP BY ALL
),
patterns AS (
    SELECT trajectory_ref, value_hash,
           list(CASE WHEN in_now THEN position ELSE -position END ORDER BY position) AS pattern
    FROM changes
    WHERE in_now <> in_base
    GROUP BY trajectory_ref, value_hash
)
SELECT pattern, count(*) AS size
FROM patterns
GROUP BY pattern;
