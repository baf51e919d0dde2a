-- For each cell and each earlier release that had it (shown or hidden) with a size within $k of
-- its size now: how many trajectories differ between the two sets (added, removed, or with
-- other values: a corrected trajectory is one trajectory, in two versions), and what that
-- release did with it. A cell whose size differs by $k or more differs
-- by at least $k versions: not a candidate.
WITH candidates AS (
    SELECT c.cell, p.seq AS base_seq, p.shown, p.protects_other
    FROM release_cells_now AS c
    JOIN privacy.cell_publications AS p USING (cell)
    WHERE abs(c.n - p.n) < $k
),
versions AS (
    SELECT x.cell, x.base_seq, e.trajectory_ref, e.value_hash,
           bool_or(e.last_seq IS NULL) AS in_now,
           bool_or(e.first_seq <= x.base_seq AND coalesce(e.last_seq, $seq) >= x.base_seq) AS in_base,
           bool_or(e.unlinked) AS unlinked
    FROM candidates AS x
    JOIN release_cell_tokens AS e USING (cell)
    GROUP BY ALL
)
SELECT c.cell, c.base_seq, c.shown, c.protects_other,
       -- a version a key rotation could not follow may be any other trajectory's earlier self:
       -- it counts for nothing, yet a set that differs only in such versions differs by one
       greatest(count(DISTINCT v.trajectory_ref) FILTER (WHERE v.in_now <> v.in_base AND NOT v.unlinked),
                CASE WHEN bool_or(v.in_now <> v.in_base AND v.unlinked) THEN 1 ELSE 0 END) AS changed
FROM candidates AS c
LEFT JOIN versions AS v USING (cell, base_seq)
GROUP BY ALL;
