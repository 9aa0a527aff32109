-- Stock that moves: purchases received, materials consumed when an order is
-- made. On hand = the seeded position plus every move; a requirement stops
-- being allocated once consumed, a suggestion stops being on order once
-- received.
CREATE TABLE stock_moves (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    material TEXT NOT NULL,
    qty TEXT NOT NULL,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
ALTER TABLE purchase_suggestions ADD COLUMN received_at BIGINT;
ALTER TABLE material_requirements ADD COLUMN consumed_at BIGINT;
