-- The suppression list of erased clients, for the read step (pseudonymise/pseudonyms.py).
SELECT token, provider FROM privacy.erasure_tokens;
