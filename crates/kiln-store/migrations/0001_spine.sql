-- Portable DDL: the same text runs on SQLite and PostgreSQL. Ids are opaque
-- text, times are epoch milliseconds, money and quantities are decimal text,
-- dates are ISO text. Every row belongs to a brand.
CREATE TABLE brands (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    brand_id TEXT NOT NULL REFERENCES brands(id),
    key_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE catalog_files (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, kind, name)
);
CREATE TABLE materials (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    on_hand TEXT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE TABLE customers (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id),
    UNIQUE (brand_id, email)
);
CREATE TABLE orders (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    store_id TEXT,
    ship_to TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    total TEXT NOT NULL,
    promised_date TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id),
    UNIQUE (brand_id, idempotency_key)
);
CREATE INDEX orders_by_customer ON orders (brand_id, customer_id);
CREATE TABLE order_lines (
    brand_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    selections TEXT NOT NULL,
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price TEXT NOT NULL,
    work_order_id TEXT NOT NULL,
    PRIMARY KEY (brand_id, order_id, line_no)
);
CREATE INDEX order_lines_by_work_order ON order_lines (brand_id, work_order_id);
CREATE TABLE work_orders (
    brand_id TEXT NOT NULL,
    id TEXT NOT NULL,
    sku TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX work_orders_by_status ON work_orders (brand_id, status, sku);
CREATE TABLE work_order_operations (
    brand_id TEXT NOT NULL,
    work_order_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    operation TEXT NOT NULL,
    name TEXT NOT NULL,
    work_center TEXT NOT NULL,
    setup_minutes TEXT NOT NULL,
    run_minutes TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT,
    scrap BIGINT NOT NULL,
    PRIMARY KEY (brand_id, work_order_id, seq)
);
CREATE INDEX operations_by_work_center ON work_order_operations (brand_id, work_center, status);
CREATE TABLE bookings (
    brand_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    operation TEXT NOT NULL,
    work_center TEXT NOT NULL,
    day TEXT NOT NULL,
    minutes BIGINT NOT NULL
);
CREATE INDEX bookings_by_order ON bookings (brand_id, order_id);
CREATE TABLE material_requirements (
    brand_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    material TEXT NOT NULL,
    gross TEXT NOT NULL,
    allocated TEXT NOT NULL,
    shortage TEXT NOT NULL,
    PRIMARY KEY (brand_id, order_id, material)
);
CREATE TABLE purchase_suggestions (
    brand_id TEXT NOT NULL,
    id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    material TEXT NOT NULL,
    qty TEXT NOT NULL,
    order_by TEXT NOT NULL,
    arrives TEXT NOT NULL,
    need_by TEXT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE TABLE order_events (
    brand_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    id TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX order_events_by_order ON order_events (brand_id, order_id);
CREATE TABLE shipments (
    brand_id TEXT NOT NULL,
    id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX shipments_by_order ON shipments (brand_id, order_id);
