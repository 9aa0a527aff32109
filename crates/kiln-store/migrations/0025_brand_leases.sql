-- Which server owns a brand's plan when several share one database (see
-- kiln-store's `lease` module): the holder, where to forward its requests,
-- the epoch every plan-writing transaction checks, and the expiry in epoch
-- milliseconds on the database's clock.
CREATE TABLE brand_leases (
    brand_id TEXT PRIMARY KEY REFERENCES brands(id),
    holder TEXT NOT NULL,
    address TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
