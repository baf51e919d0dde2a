-- `databank explain`: the last two builds, newest first, and how many builds there are.
SELECT build_id, built_at, count(*) OVER () AS builds
FROM staging.builds
ORDER BY built_at DESC, build_id
LIMIT 2;
