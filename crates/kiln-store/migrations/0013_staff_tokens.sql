-- One-time links mailed to staff: an invitation to set a first password, or
-- a password reset. The store keeps the SHA-256 of the secret, when it
-- expires, and when it was used (once).
CREATE TABLE staff_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    brand_id TEXT NOT NULL REFERENCES brands(id),
    staff_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
