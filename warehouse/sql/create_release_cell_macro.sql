-- A cell's key, the same in SQL and Python (warehouse/release.py cell_key).
CREATE OR REPLACE TEMP MACRO release_cell(family, instrument, schaal, informant, level, organisation,
                                     team, intervention, period) AS
    concat_ws(chr(31), coalesce(family, chr(30)), coalesce(instrument, chr(30)),
              coalesce(schaal, chr(30)), coalesce(informant, chr(30)), coalesce(level, chr(30)),
              coalesce(organisation, chr(30)), coalesce(team, chr(30)),
              coalesce(intervention, chr(30)), coalesce(period, chr(30)));
