-- This build's suppression pattern, one row per group (and measure) with its reason: null when
-- shown, 'primary' below k, 'secondary' to protect another suppressed count. Read from the
-- frames warehouse/marts.py registers; the casts fix the types however pandas guessed them.
CREATE OR REPLACE TEMP TABLE trajectory_suppression AS
SELECT level::VARCHAR AS level, organisation::VARCHAR AS organisation, team::VARCHAR AS team,
       intervention::VARCHAR AS intervention, period::VARCHAR AS period,
       reason::VARCHAR AS reason
FROM trajectory_suppression_frame;
CREATE OR REPLACE TEMP TABLE score_suppression AS
SELECT level::VARCHAR AS level, organisation::VARCHAR AS organisation, team::VARCHAR AS team,
       intervention::VARCHAR AS intervention, period::VARCHAR AS period,
       instrument::VARCHAR AS instrument, schaal::VARCHAR AS schaal,
       informant::VARCHAR AS informant, reason::VARCHAR AS reason
FROM score_suppression_frame;
