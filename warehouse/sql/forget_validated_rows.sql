-- The guard's memory is dropped (before it is written anew, or when it must not be trusted).
DELETE FROM staging.validated_rows;
DELETE FROM staging.validated_basis;
