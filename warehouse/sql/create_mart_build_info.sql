-- Which build the published copy is: analysts can tell whether two readings are the same build.
CREATE OR REPLACE TABLE mart.build_info AS
SELECT build_id, built_at FROM staging.builds ORDER BY built_at DESC LIMIT 1;
