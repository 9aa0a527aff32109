-- Each material's first-in-first-out sequence, kept as it grows: how much
-- has been consumed and supplied so far, and on each move where it starts in
-- its sequence (a consumption in the consumption, a receipt in the supply
-- after the opening stock). The lots a unit drew then follow from its
-- order's moves and the receipts around them, without reading the
-- material's whole history (issue 15: a passport's cost grew with the
-- factory's age). Existing moves get their positions in the same
-- transaction, in the order the lots were told before: by time, then id.
CREATE TABLE material_ledgers (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    material TEXT NOT NULL,
    consumed TEXT NOT NULL,
    supplied TEXT NOT NULL,
    PRIMARY KEY (brand_id, material)
);
ALTER TABLE stock_moves ADD COLUMN position TEXT;
CREATE INDEX stock_moves_receipts ON stock_moves (brand_id, material) WHERE kind = 'receipt';
