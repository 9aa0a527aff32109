-- The order lines a shipment carries, as a JSON array of line numbers
-- (issue 12: an order that ships as ready goes in several shipments).
-- NULL on older shipments: the whole order.
ALTER TABLE shipments ADD COLUMN lines TEXT;
