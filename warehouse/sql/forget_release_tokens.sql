-- An erased client's trajectory versions stay in release protection's memory (the figures
-- already published rest on them, and their disappearance must hold those figures until k
-- trajectories changed), but under a reference nobody can derive from the client's pseudonym:
-- md5 of a random salt used once and kept nowhere. The hashes of the client's values go the
-- same way (integer scores are few: an unsalted md5 of them is read back by trying them all),
-- keeping which versions had equal values, which is all the protection needs.
UPDATE privacy.release_tokens SET
    trajectory_ref = md5($salt || trajectory_ref),
    value_hash = md5($salt || value_hash),
    component_hashes = list_transform(component_hashes, lambda h: md5($salt || h))
WHERE trajectory_ref IN (SELECT md5(trajectory_id) FROM forgotten_trajectories);
