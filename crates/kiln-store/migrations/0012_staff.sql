-- Staff accounts (one per email on the platform) with a role, and their
-- sessions: the SHA-256 of each session cookie's secret, revocable, with
-- when it started and was last used for the idle and absolute timeouts.
CREATE TABLE staff (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    stores TEXT NOT NULL,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    removed_at BIGINT,
    PRIMARY KEY (brand_id, id)
);
CREATE UNIQUE INDEX staff_by_email ON staff (email);
CREATE TABLE staff_sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    brand_id TEXT NOT NULL REFERENCES brands(id),
    staff_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (brand_id, staff_id);
