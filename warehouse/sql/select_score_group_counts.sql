-- The count that decides suppression per score group and measure (outcome-metrics §5): the
-- secondary-suppression pattern is computed per measure over these rows (warehouse/marts.py).
SELECT level, organisation, team, intervention, period, instrument, schaal, informant, n_paired
FROM score_groups;
