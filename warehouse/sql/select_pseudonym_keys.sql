-- The keys the stored pseudonyms were made with, oldest first (the key ring's order).
SELECT key_id FROM privacy.pseudonym_keys ORDER BY position;
