-- The warehouse guard's memory of what it last passed (warehouse/quality.py): a hash per core row
-- (DuckDB's row hash, no value of the row) and the basis the rows were judged on, so the next
-- build's row-level checks need only read the rows that are new or changed since.
CREATE TABLE IF NOT EXISTS staging.validated_rows (
    tbl       VARCHAR NOT NULL,  -- 'trajectories' | 'measurements'
    row_hash  UBIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS staging.validated_basis (
    basis     VARCHAR NOT NULL
);
