-- A line cancelled before production (issue 12): no longer made nor
-- charged, kept for the record.
ALTER TABLE order_lines ADD COLUMN cancelled_at BIGINT;
