-- New tokens on the suppression list of erased clients; a token already there is not doubled.
INSERT INTO privacy.erasure_tokens BY NAME
SELECT DISTINCT n.token, n.provider, n.recorded_at FROM new_erasure_tokens AS n
WHERE NOT EXISTS (
    SELECT 1 FROM privacy.erasure_tokens AS t
    WHERE t.token = n.token AND t.provider IS NOT DISTINCT FROM n.provider
);
