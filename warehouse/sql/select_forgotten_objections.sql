-- The objection records of an erased client (in force and waiting in intake), to be replaced by
-- erasure tokens of the same provider before they are deleted.
SELECT provider, client_id, local_client_id FROM privacy.objections
WHERE ($provider IS NULL OR provider = $provider)
  AND (list_contains(CAST($pseudonyms AS VARCHAR[]), client_id)
       OR list_contains(CAST($pseudonyms AS VARCHAR[]), local_client_id))
UNION ALL
SELECT provider, client_id, local_client_id FROM intake.objections
WHERE ($provider IS NULL OR provider = $provider)
  AND (list_contains(CAST($pseudonyms AS VARCHAR[]), client_id)
       OR list_contains(CAST($pseudonyms AS VARCHAR[]), local_client_id));
