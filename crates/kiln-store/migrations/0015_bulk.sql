-- Bulk quotes (issue 12): the whole quote as JSON, the Idempotency-Key of
-- the acceptance under way (one per quote), and the order it made.
CREATE TABLE bulk_quotes (
    brand_id TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    quote TEXT NOT NULL,
    accepting_key TEXT,
    order_id TEXT,
    PRIMARY KEY (brand_id, id)
);
-- A line may go to its own recipient, and carries its own promise; an
-- order ships complete or as each line is ready.
ALTER TABLE order_lines ADD COLUMN recipient TEXT;
ALTER TABLE order_lines ADD COLUMN promised_date TEXT;
ALTER TABLE orders ADD COLUMN ship_policy TEXT NOT NULL DEFAULT 'complete';
