-- The factory floor, live: every event a machine or an operator's terminal
-- sent (its own seq numbers it; the same seq again is a duplicate), whether
-- and how it was applied; each machine's last applied seq and open downtime;
-- and machines' own downtimes, in epoch milliseconds.
CREATE TABLE machine_events (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    work_center TEXT NOT NULL,
    machine BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    applied_at BIGINT,
    outcome TEXT,
    PRIMARY KEY (brand_id, work_center, machine, seq)
);
-- The applier reads what is left to apply.
CREATE INDEX machine_events_pending ON machine_events (brand_id, work_center, machine, seq)
    WHERE applied_at IS NULL;
CREATE TABLE machine_states (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    work_center TEXT NOT NULL,
    machine BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    down_id TEXT,
    PRIMARY KEY (brand_id, work_center, machine)
);
CREATE TABLE machine_downtimes (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT NOT NULL,
    work_center TEXT NOT NULL,
    machine BIGINT NOT NULL,
    from_at BIGINT NOT NULL,
    to_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (brand_id, id)
);
CREATE INDEX machine_downtimes_by_end ON machine_downtimes (brand_id, to_at);
