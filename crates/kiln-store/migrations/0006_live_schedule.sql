-- The live schedule: one booking per operation of an order line, placed on a
-- machine at minute resolution (epoch minutes, UTC), with what a rebuilt
-- schedule needs to replan it. Rows from before (seq = 0) are day buckets;
-- the server re-places those lines when it loads.
ALTER TABLE bookings ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN machine BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN setup_start BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN start_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN end_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN setup_minutes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN changeover BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN release_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN due_day TEXT NOT NULL DEFAULT '';
-- Schedule views read the live schedule in memory now, not a window of days.
DROP INDEX bookings_by_day;
