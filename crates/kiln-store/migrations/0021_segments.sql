-- Segments of profiles (issue 13): rules, and who is in each now.
CREATE TABLE segments (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    rules TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE TABLE segment_members (
    brand_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (brand_id, segment_id, profile_id)
);
CREATE INDEX segment_members_by_profile ON segment_members (brand_id, profile_id);
