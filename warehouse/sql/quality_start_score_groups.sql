-- Per intervention and measure with at least $min_scores start scores: are they all identical?
SELECT count(DISTINCT m.score) = 1 AS identical
FROM core.measurements AS m
JOIN core.trajectories AS t USING (provider, trajectory_id)
WHERE m.meetmoment = 'start'
GROUP BY t.interventie, m.instrument, m.schaal, m.informant
HAVING count(*) >= $min_scores;
