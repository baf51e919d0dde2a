-- The warehouse guard's memory of what it last passed (warehouse/quality.py): per core row a hash
-- (DuckDB's, over the columns the row checks read; no value of the row) and the basis the rows
-- were judged on, so the next build's row checks need only read rows that are new or changed.
CREATE TABLE IF NOT EXISTS staging.validated_rows (
    tbl       VARCHAR NOT NULL,  -- 'trajectories' | 'measurements'
    row_hash  UBIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS staging.validated_basis (
    basis     VARCHAR NOT NULL
);
