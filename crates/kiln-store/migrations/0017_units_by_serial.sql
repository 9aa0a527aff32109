-- A GS1 Digital Link URI at the server's root (/01/{gtin}/21/{serial})
-- names no brand: the unit is found by its serial (issue 14).
CREATE INDEX units_by_serial ON units (serial);
