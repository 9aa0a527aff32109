-- A repair or remake is carried by an after-sales order (channel
-- `after_sales`, free of charge) planned on the live schedule like any
-- other: the claim names it and the date it promised.
ALTER TABLE claims ADD COLUMN after_sales_order_id TEXT;
ALTER TABLE claims ADD COLUMN promised_date TEXT;
