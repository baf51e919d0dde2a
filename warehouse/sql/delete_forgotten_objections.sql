-- An erased client's objection records leave with the rest of them: tokens on the erasure list
-- (privacy.erasure_tokens, same provider) keep the client out from now on, without any pseudonym.
DELETE FROM privacy.objections
WHERE ($provider IS NULL OR provider = $provider)
  AND (list_contains(CAST($pseudonyms AS VARCHAR[]), client_id)
       OR list_contains(CAST($pseudonyms AS VARCHAR[]), local_client_id));
DELETE FROM intake.objections
WHERE ($provider IS NULL OR provider = $provider)
  AND (list_contains(CAST($pseudonyms AS VARCHAR[]), client_id)
       OR list_contains(CAST($pseudonyms AS VARCHAR[]), local_client_id));
