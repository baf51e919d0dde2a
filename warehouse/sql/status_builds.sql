-- `databank status`: the latest build of core and marts, and how many builds there have been.
SELECT
    count(*) AS builds,
    arg_max(build_id, built_at) AS latest_build_id,
    max(built_at) AS latest_built_at
FROM staging.builds;
