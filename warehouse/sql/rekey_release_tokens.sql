-- Rotation keys every trajectory pseudonym again; release protection's references follow, so a
-- rotation is not mistaken for every trajectory changing (warehouse/release.py).
-- A trajectory not stored at rotation (its month re-sent without it, for now) keeps its old
-- reference: nothing links it to its new pseudonym. Should it come back, its new version would
-- look like a new trajectory and the old one like a trajectory that left: one trajectory counted
-- as two changes. Such versions are marked unlinked; release protection counts them as possibly
-- the same trajectory as any other (select_release_changes.sql, select_release_guard_classes.sql).
UPDATE privacy.release_tokens SET unlinked = true
WHERE trajectory_ref NOT IN (SELECT md5(old) FROM rekey_mapping);
UPDATE privacy.release_tokens AS r SET trajectory_ref = md5(m.new)
FROM rekey_mapping AS m
WHERE r.trajectory_ref = md5(m.old);
