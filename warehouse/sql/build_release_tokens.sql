-- This build's trajectory versions per comparison atom, and the release record updated: a
-- version no longer current closes at the previous release, a new one opens at this one.
CREATE OR REPLACE TEMP TABLE release_tokens_now AS
SELECT DISTINCT
    'trajectories' AS family, NULL::VARCHAR AS instrument, NULL::VARCHAR AS schaal,
    NULL::VARCHAR AS informant,
    md5(t.trajectory_id) AS trajectory_ref,
    md5(concat_ws('|', coalesce(t.reden_einde::VARCHAR, '-'), coalesce(t.doelrealisatie::VARCHAR, '-'),
                  coalesce(t.tevredenheid::VARCHAR, '-'))) AS value_hash,
    t.provider, t.team, t.interventie AS intervention, strftime(t.end_month, '%Y') AS year,
    -- each component as build_trajectory_groups.sql counts or sums it
    [md5(coalesce(t.reden_einde = 1, false)::VARCHAR),
     md5(coalesce(t.reden_einde IS DISTINCT FROM 5, false)::VARCHAR),
     md5(coalesce(t.doelrealisatie IN (1, 2), false)::VARCHAR),
     md5((t.doelrealisatie IS NOT NULL)::VARCHAR),
     md5(coalesce(t.tevredenheid::VARCHAR, '-'))] AS component_hashes
FROM core.trajectories AS t
WHERE t.end_month IS NOT NULL
UNION ALL
SELECT DISTINCT
    'scores', p.instrument, p.schaal, p.informant,
    md5(p.trajectory_id),
    md5(concat_ws('|', p.x_start::VARCHAR, p.x_end::VARCHAR, (p.rci > 1.96)::VARCHAR,
                  (p.rci < -1.96)::VARCHAR, p.clinical_start::VARCHAR, p.non_clinical_end::VARCHAR)),
    t.provider, t.team, t.interventie, strftime(t.end_month, '%Y'),
    -- each component as build_score_groups.sql sums or counts it (squares: the sds)
    [md5(coalesce(p.x_start::VARCHAR, '-')), md5(coalesce(p.x_end::VARCHAR, '-')),
     md5(coalesce(p.improvement::VARCHAR, '-')),
     md5(coalesce((p.improvement * p.improvement)::VARCHAR, '-')),
     md5(coalesce((p.x_start * p.x_start)::VARCHAR, '-')),
     md5(coalesce(p.rci > 1.96, false)::VARCHAR), md5(coalesce(p.rci < -1.96, false)::VARCHAR),
     md5(coalesce(p.rci BETWEEN -1.96 AND 1.96, false)::VARCHAR),
     md5(coalesce(p.clinical_start, false)::VARCHAR),
     md5(coalesce(p.clinical_start AND p.non_clinical_end AND p.rci > 1.96, false)::VARCHAR)]
FROM paired_scores AS p
JOIN core.trajectories AS t USING (provider, trajectory_id);

UPDATE privacy.release_tokens AS r SET last_seq = $seq - 1
WHERE r.last_seq IS NULL AND NOT EXISTS (
    SELECT 1 FROM release_tokens_now AS n
    WHERE n.family = r.family AND n.instrument IS NOT DISTINCT FROM r.instrument
      AND n.schaal IS NOT DISTINCT FROM r.schaal AND n.informant IS NOT DISTINCT FROM r.informant
      AND n.trajectory_ref = r.trajectory_ref AND n.value_hash = r.value_hash
      AND n.provider = r.provider AND n.team IS NOT DISTINCT FROM r.team
      AND n.intervention IS NOT DISTINCT FROM r.intervention AND n.year = r.year);

-- versions recorded before component hashes existed get them while they are current
UPDATE privacy.release_tokens AS r SET component_hashes = n.component_hashes
FROM release_tokens_now AS n
WHERE r.component_hashes IS NULL AND r.last_seq IS NULL
  AND n.family = r.family AND n.instrument IS NOT DISTINCT FROM r.instrument
  AND n.schaal IS NOT DISTINCT FROM r.schaal AND n.informant IS NOT DISTINCT FROM r.informant
  AND n.trajectory_ref = r.trajectory_ref AND n.value_hash = r.value_hash
  AND n.provider = r.provider AND n.team IS NOT DISTINCT FROM r.team
  AND n.intervention IS NOT DISTINCT FROM r.intervention AND n.year = r.year;

INSERT INTO privacy.release_tokens BY NAME
SELECT n.*, $seq AS first_seq, NULL AS last_seq
FROM release_tokens_now AS n
WHERE NOT EXISTS (
    SELECT 1 FROM privacy.release_tokens AS r
    WHERE r.last_seq IS NULL
      AND n.family = r.family AND n.instrument IS NOT DISTINCT FROM r.instrument
      AND n.schaal IS NOT DISTINCT FROM r.schaal AND n.informant IS NOT DISTINCT FROM r.informant
      AND n.trajectory_ref = r.trajectory_ref AND n.value_hash = r.value_hash
      AND n.provider = r.provider AND n.team IS NOT DISTINCT FROM r.team
      AND n.intervention IS NOT DISTINCT FROM r.intervention AND n.year = r.year);
DROP TABLE release_tokens_now;

-- Every token in every cell it belongs to, as the marts group (build_group_membership.sql and,
-- for the rest of the consortium, build_rest_group_membership.sql): one row per cell.
CREATE OR REPLACE TEMP VIEW release_cell_tokens AS
WITH left_out AS (
    SELECT DISTINCT provider AS organisation FROM core.trajectories WHERE end_month IS NOT NULL
),
expanded AS (
    SELECT r.*, l.level,
        CASE WHEN l.level IN ('organisation', 'team', 'organisation_intervention') THEN r.provider
             WHEN l.level = 'rest_of_consortium' THEN x.organisation END AS organisation,
        CASE WHEN l.level = 'team' THEN r.team END AS group_team,
        CASE WHEN l.level IN ('intervention', 'organisation_intervention') THEN r.intervention END
            AS group_intervention,
        CASE WHEN p.is_all THEN 'all' ELSE r.year END AS period
    FROM privacy.release_tokens AS r
    CROSS JOIN (VALUES ('consortium'), ('organisation'), ('team'), ('intervention'),
                       ('organisation_intervention'), ('rest_of_consortium')) AS l(level)
    CROSS JOIN (VALUES (true), (false)) AS p(is_all)
    LEFT JOIN left_out AS x ON l.level = 'rest_of_consortium' AND x.organisation <> r.provider
    WHERE l.level <> 'rest_of_consortium' OR x.organisation IS NOT NULL
)
SELECT
    release_cell(family, instrument, schaal, informant, level, organisation, group_team,
                 group_intervention, period) AS cell,
    trajectory_ref, value_hash, first_seq, last_seq, coalesce(unlinked, false) AS unlinked,
    -- the measure as columns too: a query about one measure filters on them, so the expansion
    -- above runs over that measure's versions only (a filter on `cell` cannot be pushed down)
    family, instrument, schaal, informant
FROM expanded;

-- The size of every cell now (n_ended per trajectory cell, n_paired per score cell).
CREATE OR REPLACE TEMP TABLE release_cells_now AS
SELECT cell, count(DISTINCT trajectory_ref) AS n
FROM release_cell_tokens
WHERE last_seq IS NULL
GROUP BY cell;
