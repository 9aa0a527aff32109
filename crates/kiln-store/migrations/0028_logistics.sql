-- Shipping by carrier (issue 12 §4): a shipment's service, the parcels
-- packed for it (JSON), the delivery date its lines were promised (YYYY-MM-DD)
-- and, once delivered after it, by how many days; and every tracking event a
-- carrier (or the built-in manual carrier) reported, the same status at the
-- same moment once.
ALTER TABLE shipments ADD COLUMN service TEXT;
ALTER TABLE shipments ADD COLUMN parcels TEXT;
ALTER TABLE shipments ADD COLUMN promised_date TEXT;
ALTER TABLE shipments ADD COLUMN late_days BIGINT;
CREATE TABLE tracking_events (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    shipment_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at BIGINT NOT NULL,
    location TEXT,
    note TEXT,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, shipment_id, status, at)
);
