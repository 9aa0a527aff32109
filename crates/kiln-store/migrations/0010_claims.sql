-- Returns and warranty claims on units, opened from a serial and decided
-- (repair, remake, refund, reject); a repair or remake makes a work order.
CREATE TABLE claims (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    serial TEXT NOT NULL,
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    parts TEXT NOT NULL,
    in_warranty BIGINT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    work_order_id TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX claims_by_serial ON claims (brand_id, serial);
