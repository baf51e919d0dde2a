-- The quasi-identifiers of every trajectory in force, as stored, with the client pseudonym so a
-- class counts distinct clients (schemas/anonymity.py). Only counts leave the module that reads it.
SELECT client_id, provider, team, interventie, hulpvorm, age_at_start, geslacht, start_month,
       end_month, pc4, birth_year
FROM core.trajectories;
