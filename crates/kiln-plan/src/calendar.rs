//! Work centre calendars: when a work centre can work, and for how long.

use jiff::civil::Date;
use serde::Serialize;

/// A period when the whole work centre is unavailable (maintenance, breakdown, holiday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Downtime {
    pub from: Date,
    /// Inclusive, so a one-day outage has `from == to`.
    pub to: Date,
}

impl Downtime {
    pub fn covers(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}

/// The working pattern of one work centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkCenterCalendar {
    pub id: String,
    /// Identical machines working in parallel; capacity scales with them.
    pub machines: u32,
    pub minutes_per_day: u32,
    /// ISO weekdays the work centre works: 1 = Monday .. 7 = Sunday.
    pub weekdays: Vec<u8>,
    pub down: Vec<Downtime>,
}

impl WorkCenterCalendar {
    /// Whether `day` is a scheduled working day and not inside any downtime.
    pub fn is_working_day(&self, day: Date) -> bool {
        let weekday = day.weekday().to_monday_one_offset();
        let scheduled = u8::try_from(weekday).is_ok_and(|w| self.weekdays.contains(&w));
        scheduled && !self.down.iter().any(|d| d.covers(day))
    }

    /// Machine minutes available on `day`: `machines * minutes_per_day` on working days
    /// outside downtime, else 0.
    pub fn capacity_on(&self, day: Date) -> u64 {
        if self.is_working_day(day) {
            u64::from(self.machines) * u64::from(self.minutes_per_day)
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn weekdays_only() -> WorkCenterCalendar {
        WorkCenterCalendar {
            id: "kiln".into(),
            machines: 2,
            minutes_per_day: 480,
            weekdays: vec![1, 2, 3, 4, 5],
            down: vec![Downtime {
                from: date(2025, 6, 4),
                to: date(2025, 6, 5),
            }],
        }
    }

    #[test]
    fn capacity_follows_weekdays_and_downtime() {
        let cal = weekdays_only();
        // 2025-06-02 is a Monday.
        assert_eq!(cal.capacity_on(date(2025, 6, 2)), 960);
        assert_eq!(cal.capacity_on(date(2025, 6, 3)), 960);
        assert_eq!(cal.capacity_on(date(2025, 6, 4)), 0, "down, first day");
        assert_eq!(
            cal.capacity_on(date(2025, 6, 5)),
            0,
            "down, last day inclusive"
        );
        assert_eq!(cal.capacity_on(date(2025, 6, 6)), 960);
        assert_eq!(cal.capacity_on(date(2025, 6, 7)), 0, "Saturday");
        assert_eq!(cal.capacity_on(date(2025, 6, 8)), 0, "Sunday");
    }

    #[test]
    fn sunday_is_seven() {
        let cal = WorkCenterCalendar {
            weekdays: vec![7],
            down: vec![],
            ..weekdays_only()
        };
        assert_eq!(cal.capacity_on(date(2025, 6, 8)), 960);
        assert_eq!(cal.capacity_on(date(2025, 6, 9)), 0);
    }
}
