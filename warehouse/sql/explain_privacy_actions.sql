-- `databank explain`: privacy actions recorded after the previous build and up to the latest one
-- (counts only). Key rotations concern every provider; $organisation (NULL: all) limits the rest.
SELECT
    (SELECT count(*) FROM privacy.erasures
     WHERE erased_at > $since AND erased_at <= $until
       AND (CAST($organisation AS VARCHAR) IS NULL OR provider = $organisation)) AS erasures,
    (SELECT count(*) FROM privacy.key_rotations
     WHERE rotated_at > $since AND rotated_at <= $until) AS key_rotations,
    (SELECT count(*) FROM privacy.objections
     WHERE recorded_at > $since AND recorded_at <= $until
       AND (CAST($organisation AS VARCHAR) IS NULL OR provider = $organisation)) AS objections;
