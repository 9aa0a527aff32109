-- An order's Idempotency-Key, looked up before every order is planned. Kept
-- in a table of its own whose only index is the key: on the orders table the
-- planner, without statistics yet (a new database, the first minute of a
-- load), chose the (brand, customer) index and filtered every order of the
-- brand, a full scan per order. `orders (brand_id, idempotency_key)` stays
-- unique: it is the guard; this table is the way in.
CREATE TABLE order_keys (
    brand_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (brand_id, idempotency_key)
);
INSERT INTO order_keys (brand_id, idempotency_key, order_id)
    SELECT brand_id, idempotency_key, id FROM orders WHERE idempotency_key IS NOT NULL;
