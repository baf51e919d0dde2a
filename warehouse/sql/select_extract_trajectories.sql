-- Every trajectory in force with every column an extract scope may ask for, at every level
-- (schemas/extracts.py); warehouse/extracts.py keeps only the scope's columns. Dates as text of
-- their level (no day), so no column suggests a precision it does not have.
SELECT
    trajectory_id,
    client_id,
    provider,
    team,
    interventie,
    hulpvorm,
    age_at_start,
    CASE WHEN age_at_start BETWEEN 0 AND 11 THEN '0-11'
         WHEN age_at_start BETWEEN 12 AND 17 THEN '12-17'
         WHEN age_at_start BETWEEN 18 AND 27 THEN '18-27' END AS age_band,
    geslacht,
    geslacht = 'V' AS female,
    strftime(start_month, '%Y-%m') AS start_month,
    strftime(start_month, '%Y') || '-Q' || quarter(start_month) AS start_quarter,
    strftime(start_month, '%Y') AS start_year,
    strftime(end_month, '%Y-%m') AS end_month,
    strftime(end_month, '%Y') || '-Q' || quarter(end_month) AS end_quarter,
    strftime(end_month, '%Y') AS end_year,
    end_day - start_day AS duration_days,
    (end_day - start_day) // 7 AS duration_weeks,
    CAST(floor((end_day - start_day) / 30.4375) AS INTEGER) AS duration_months,
    pc4,
    left(pc4, 2) AS pc2,
    birth_year,
    reden_einde,
    doelrealisatie,
    tevredenheid
FROM core.trajectories
ORDER BY provider, trajectory_id;
