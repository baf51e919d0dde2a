-- Release protection for the rest-of-the-consortium rows (warehouse/release.py): a rest row
-- whose own set changed by fewer than k since it was last published is held, like any figure.
UPDATE trajectory_suppression SET reason = 'release'
WHERE reason IS NULL
  AND release_cell('trajectories', NULL, NULL, NULL, level, organisation, team, intervention, period)
      IN (SELECT cell FROM release_small);
UPDATE score_suppression SET reason = 'release'
WHERE reason IS NULL
  AND release_cell('scores', instrument, schaal, informant, level, organisation, team, intervention,
                   period) IN (SELECT cell FROM release_small);
