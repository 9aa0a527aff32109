-- An order placed without proof (a public checkout, a publishable key)
-- under the email of a customer the brand already knows keeps the name and
-- phone it was given here, and is marked unverified: it changes nothing of
-- that customer's record. NULL name and phone: the customer's own.
ALTER TABLE orders ADD COLUMN customer_name TEXT;
ALTER TABLE orders ADD COLUMN customer_phone TEXT;
ALTER TABLE orders ADD COLUMN customer_verified BIGINT NOT NULL DEFAULT 1;
