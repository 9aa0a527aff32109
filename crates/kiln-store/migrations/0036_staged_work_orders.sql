-- A bulk order's new work orders (and their operations) are written ahead
-- of it, with its lines and bookings (0029): with a SKU per row, an order
-- of 10,000 lines opens about as many work orders, and writing them, with
-- their 30,000 operations, in the order's own transaction held every single
-- order queued behind it for over 100 ms (issue 12). A work order written
-- ahead names its order here; reads skip it while the order's
-- `staged_orders` row stands, so it appears with the order, at the order's
-- commit, without another write. NULL: written with its order.
ALTER TABLE work_orders ADD COLUMN staged_order_id TEXT;
CREATE INDEX work_orders_staged ON work_orders (brand_id, staged_order_id) WHERE staged_order_id IS NOT NULL;
