-- Disruptions: periods a work centre cannot work (breakdown, maintenance).
-- Days are ISO text and inclusive; the plan's calendars subtract them.
CREATE TABLE downtimes (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    work_center TEXT NOT NULL,
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX downtimes_by_work_center ON downtimes (brand_id, work_center);
-- The schedule view reads a window of days.
CREATE INDEX bookings_by_day ON bookings (brand_id, day);
