-- The guard's memory is dropped: the next validation reads every row.
DELETE FROM staging.validated_rows;
DELETE FROM staging.validated_basis;
