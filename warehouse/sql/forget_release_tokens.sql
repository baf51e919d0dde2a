-- An erased client's trajectory versions stay in release protection's memory (the figures
-- already published rest on them, and their disappearance must hold those figures until k
-- trajectories changed), but under a reference nobody can derive from the client's pseudonym:
-- md5 of a random salt used once and kept nowhere.
UPDATE privacy.release_tokens SET trajectory_ref = md5($salt || trajectory_ref)
WHERE trajectory_ref IN (SELECT md5(trajectory_id) FROM forgotten_trajectories);
