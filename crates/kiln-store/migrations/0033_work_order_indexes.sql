-- A work order's lines and units, read in the order they are listed. With
-- the work order alone in these indexes, SQLite (which keeps no statistics
-- unless asked) preferred the primary key for its order and read every
-- line, or unit, of the brand: 40 ms and 300 ms a read after 60,000 orders,
-- several times per work order (the soak's growing p50, issue 15). With
-- the listing's order in the index, both the search and the order are
-- served by it.
DROP INDEX order_lines_by_work_order;
CREATE INDEX order_lines_by_work_order ON order_lines (brand_id, work_order_id, order_id, line_no);
DROP INDEX units_by_work_order;
CREATE INDEX units_by_work_order ON units (brand_id, work_order_id, serial);
