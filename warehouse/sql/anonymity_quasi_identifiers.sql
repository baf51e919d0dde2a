-- The quasi-identifiers of every trajectory in force, as stored, with the client pseudonym so a
-- class counts distinct clients (schemas/anonymity.py). Only counts leave the module that reads it.
SELECT client_id, birth_year, age_at_start, geslacht, pc4, startdatum, einddatum
FROM core.trajectories;
