-- A store's till sales from its events, one row per sale with its lines as
-- JSON (a retailer's export is half a million lines in some 25,000 sales):
-- read back as lines of sales history.
CREATE TABLE till_sales (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    day TEXT NOT NULL,
    store_id TEXT NOT NULL,
    ticket TEXT NOT NULL,
    lines TEXT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX till_sales_by_day ON till_sales (brand_id, day);
