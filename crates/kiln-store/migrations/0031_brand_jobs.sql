-- Periodic work on a brand that one server does per period, whichever of
-- the servers sharing the database comes first (the segment sweep, issue
-- 15): a server claims the period by moving `last_run_at` on from the value
-- it read, so two servers never both claim one period.
CREATE TABLE brand_jobs (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    job TEXT NOT NULL,
    last_run_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, job)
);
