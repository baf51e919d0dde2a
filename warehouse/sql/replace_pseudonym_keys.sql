-- The record of the keys the stored pseudonyms were made with, replaced whole: run in the
-- transaction that changes what it describes (rotation), so both commit or neither does.
DELETE FROM privacy.pseudonym_keys;
INSERT INTO privacy.pseudonym_keys
SELECT position, CAST($key_ids AS VARCHAR[])[position], $recorded_at
FROM range(1, len(CAST($key_ids AS VARCHAR[])) + 1) AS positions(position);
