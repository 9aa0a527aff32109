-- An operation finished before its planned slot began leaves its machine
-- (its booking is stored with machine -1, so a rebuilt schedule agrees),
-- but the unit's passport still names the machine it was booked on. The
-- running plan kept that machine in memory only: a passport issued after a
-- restart or a failover named none. NULL: on its machine, or never booked.
ALTER TABLE bookings ADD COLUMN made_on_machine BIGINT;
