-- Orders whose lines and bookings are being written ahead of them, in
-- chunks between other orders' commits (a bulk order of thousands of lines,
-- issue 12). The order's own transaction deletes its row here; a row left
-- behind (the server stopped, the acceptance failed) names rows that belong
-- to no order, swept before the brand's plan is rebuilt. No query sees them
-- meanwhile: lines are read through their order, bookings joined to it.
CREATE TABLE staged_orders (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    order_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, order_id)
);
