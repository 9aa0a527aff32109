-- Business customers (issue 12): a company, its buyers, its billing and
-- default shipping addresses (JSON, as the API shows them).
CREATE TABLE business_customers (
    brand_id TEXT NOT NULL,
    id TEXT NOT NULL,
    company TEXT NOT NULL,
    tax_id TEXT,
    buyers TEXT NOT NULL,
    billing_address TEXT NOT NULL,
    ship_to TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
