-- Sales per store: a line of history may name the store it was sold at and
-- the sale (receipt, invoice) it belongs to. Tracked `Order Completed` events
-- of a store become such lines, so stores' demand reaches the forecasts.
ALTER TABLE sales_history ADD COLUMN store_id TEXT;
ALTER TABLE sales_history ADD COLUMN ticket TEXT;
CREATE INDEX sales_history_by_store ON sales_history (brand_id, store_id, day);
