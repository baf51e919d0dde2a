-- Rotation keys every trajectory pseudonym again; release protection's references follow, so a
-- rotation is not mistaken for every trajectory changing (warehouse/release.py).
UPDATE privacy.release_tokens AS r SET trajectory_ref = md5(m.new)
FROM rekey_mapping AS m
WHERE r.trajectory_ref = md5(m.old);
