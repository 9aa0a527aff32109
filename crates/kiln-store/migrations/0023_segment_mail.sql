-- Segments send mail to who enters them, through an outbox a worker drains
-- (file or SMTP), and keep their daily comings and goings for the trend.
ALTER TABLE segments ADD COLUMN mail TEXT;
CREATE TABLE segment_days (
    brand_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    day TEXT NOT NULL,
    entered BIGINT NOT NULL,
    left_count BIGINT NOT NULL,
    PRIMARY KEY (brand_id, segment_id, day)
);
CREATE TABLE mail_outbox (
    brand_id TEXT NOT NULL,
    id TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, next_at);
