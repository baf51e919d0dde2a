-- The guard's latest verdict on a build, and the digest of what it read then.
SELECT passed, digest FROM staging.validations
WHERE build_id = $build_id ORDER BY validated_at DESC LIMIT 1;
