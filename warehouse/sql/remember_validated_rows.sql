-- After a build passed the guard: its core rows, as hashes, and the basis they passed on replace
-- the previous memory (so an erased row's hash does not outlive the next passed build).
DELETE FROM staging.validated_rows;
INSERT INTO staging.validated_rows SELECT 'trajectories', hash(t) FROM core.trajectories AS t;
INSERT INTO staging.validated_rows SELECT 'measurements', hash(m) FROM core.measurements AS m;
DELETE FROM staging.validated_basis;
INSERT INTO staging.validated_basis VALUES ($basis);
