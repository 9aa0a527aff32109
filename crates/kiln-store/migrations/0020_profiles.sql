-- Customer profiles (issue 13): write keys of the tracking API, events as
-- they came, identities resolved to profiles, merges (kept to be undone),
-- each brand's resolution rules, and the hashed identities of erased people.
CREATE TABLE write_keys (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (brand_id, id)
);
-- A profile merged into another points at the one it now belongs to
-- (`merged_into`, always the surviving root).
CREATE TABLE profiles (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    traits TEXT NOT NULL,
    merged_into TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX profiles_by_root ON profiles (brand_id, merged_into);
-- `profile_id` is the root that holds the identity now; `origin_id` the
-- profile it first joined, which an unmerge gives it back to.
CREATE TABLE profile_identities (
    brand_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, kind, value)
);
CREATE INDEX profile_identities_by_profile ON profile_identities (brand_id, profile_id);
CREATE INDEX profile_identities_by_origin ON profile_identities (brand_id, origin_id);
-- Events keep the profile they resolved to when they came; a profile's
-- events are those of it and of every profile merged into it.
CREATE TABLE tracked_events (
    brand_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (brand_id, message_id)
);
CREATE INDEX tracked_events_by_profile ON tracked_events (brand_id, profile_id, at);
CREATE TABLE profile_merges (
    brand_id TEXT NOT NULL,
    id TEXT NOT NULL,
    survivor TEXT NOT NULL,
    merged TEXT NOT NULL,
    because TEXT NOT NULL,
    merged_traits TEXT NOT NULL,
    at BIGINT NOT NULL,
    undone_at BIGINT,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX profile_merges_by_survivor ON profile_merges (brand_id, survivor);
CREATE TABLE resolution_rules (
    brand_id TEXT PRIMARY KEY REFERENCES brands(id),
    rules TEXT NOT NULL
);
-- SHA-256 of `kind:value`: an erased person's identities, without them.
CREATE TABLE suppressions (
    brand_id TEXT NOT NULL,
    hash TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, hash)
);
