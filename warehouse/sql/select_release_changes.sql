-- For each cell and each earlier release that had it (shown or hidden) with a size within $k of
-- its size now: how many trajectories differ between the two sets (added, removed, or with
-- other values: a corrected trajectory is one trajectory, in two versions), and what that
-- release did with it. A cell whose size differs by $k or more differs
-- by at least $k versions: not a candidate.
--
-- A cell's set changes only at a release where one of its versions opened (first_seq) or
-- after one closed (last_seq + 1); the releases in between had the same set. So each set is
-- compared once, at the last change point at or before the earlier release (its `state`),
-- and the answer shared by every release with that set: the work grows with the changes, not
-- with the number of releases times the cells.
WITH candidates AS (
    SELECT c.cell, p.seq AS base_seq, p.shown, p.protects_other
    FROM release_cells_now AS c
    JOIN privacy.cell_publications AS p USING (cell)
    WHERE abs(c.n - p.n) < $k
),
tokens AS (
    SELECT e.*
    FROM release_cell_tokens AS e
    SEMI JOIN (SELECT DISTINCT cell FROM candidates) AS c USING (cell)
),
change_points AS (
    SELECT DISTINCT cell, first_seq AS point FROM tokens
    UNION
    SELECT cell, last_seq + 1 FROM tokens WHERE last_seq IS NOT NULL
),
stated AS (
    SELECT c.*, coalesce(p.point, 0) AS state
    FROM candidates AS c
    ASOF LEFT JOIN change_points AS p ON c.cell = p.cell AND c.base_seq >= p.point
),
versions AS (
    SELECT x.cell, x.state, e.trajectory_ref, e.value_hash,
           bool_or(e.last_seq IS NULL) AS in_now,
           bool_or(e.first_seq <= x.state AND coalesce(e.last_seq, $seq) >= x.state) AS in_base,
           bool_or(e.unlinked) AS unlinked
    FROM (SELECT DISTINCT cell, state FROM stated) AS x
    JOIN tokens AS e USING (cell)
    GROUP BY ALL
),
changes AS (
    SELECT cell, state,
           -- a version a key rotation could not follow may be any other trajectory's earlier
           -- self: it counts for nothing, yet a set that differs only in such versions differs
           -- by one
           greatest(count(DISTINCT trajectory_ref) FILTER (WHERE in_now <> in_base AND NOT unlinked),
                    CASE WHEN bool_or(in_now <> in_base AND unlinked) THEN 1 ELSE 0 END) AS changed
    FROM versions
    GROUP BY cell, state
)
SELECT s.cell, s.base_seq, s.shown, s.protects_other, coalesce(h.changed, 0) AS changed
FROM stated AS s
LEFT JOIN changes AS h USING (cell, state);
