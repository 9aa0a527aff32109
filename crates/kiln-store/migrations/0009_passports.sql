-- Product passports: each brand's Ed25519 signing keys (the private half
-- never leaves the server; the public half is published as a JWK set) and
-- every unit made, with its serial and its signed passport.
CREATE TABLE passport_keys (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    kid TEXT NOT NULL,
    public_key TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (brand_id, kid)
);
CREATE TABLE units (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    serial TEXT NOT NULL,
    work_order_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    made_at BIGINT NOT NULL,
    kid TEXT NOT NULL,
    passport TEXT NOT NULL,
    PRIMARY KEY (brand_id, serial)
);
CREATE INDEX units_by_work_order ON units (brand_id, work_order_id);
CREATE INDEX units_by_order ON units (brand_id, order_id);
