-- What an order costs beyond its lines: delivery (part of the total) and
-- the tax its total includes. Orders placed before keep 0 for both.
ALTER TABLE orders ADD COLUMN shipping TEXT NOT NULL DEFAULT '0';
ALTER TABLE orders ADD COLUMN tax TEXT NOT NULL DEFAULT '0';
