-- Sales from before the brand used Kiln (imported), so demand sensing has
-- history from day one. Orders placed in Kiln count as history too.
CREATE TABLE sales_history (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    day TEXT NOT NULL,
    product_id TEXT NOT NULL,
    selections TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX sales_history_by_day ON sales_history (brand_id, day);
