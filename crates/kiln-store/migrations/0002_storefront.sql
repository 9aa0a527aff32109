-- The storefront: shareable designs, carts, and the secret in a customer's
-- order page link.
CREATE TABLE designs (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    code TEXT NOT NULL,
    product_id TEXT NOT NULL,
    selections TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, code)
);
CREATE TABLE carts (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    lines TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
ALTER TABLE orders ADD COLUMN access_token TEXT NOT NULL DEFAULT '';
-- Physical stores of a brand, where clerks sell (channel `store`).
CREATE TABLE stores (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX customers_by_phone ON customers (brand_id, phone);
-- Payments, one per order, through a provider adapter (built in: manual).
CREATE TABLE payments (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    order_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    status TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT NOT NULL,
    instructions TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, order_id)
);
