//! Builders and a minute-by-minute calendar shared by the live schedule's test files,
//! sharing no code with the engine. 2025-06-02 is a Monday; minute 0 is its midnight.
// Each test file uses its own part of this module.
#![allow(dead_code)]

use jiff::civil::{Date, date};
use kiln_plan::live::{Calendar, DAY, Minute, Operation, Order, Shift, WorkCentre};

pub const ORIGIN: Date = date(2025, 6, 2);

/// Per-minute working flags and their prefix sums for one work centre.
pub struct MinuteCalendar {
    cum: Vec<i64>,
}

impl MinuteCalendar {
    pub fn new(wc: &WorkCentre, origin: Date, days: u32) -> Self {
        let n = i64::from(days) * DAY;
        let mut cum = vec![0i64; n as usize + 1];
        for t in 0..n {
            cum[t as usize + 1] = cum[t as usize] + i64::from(is_working(wc, origin, t));
        }
        MinuteCalendar { cum }
    }

    pub fn len(&self) -> Minute {
        self.cum.len() as Minute - 1
    }

    /// Working minutes in `[a, b)`.
    pub fn work(&self, a: Minute, b: Minute) -> i64 {
        let clamp = |t: Minute| t.clamp(0, self.len()) as usize;
        if b <= a {
            0
        } else {
            self.cum[clamp(b)] - self.cum[clamp(a)]
        }
    }

    pub fn working_at(&self, t: Minute) -> bool {
        self.work(t, t + 1) == 1
    }
}

pub fn is_working(wc: &WorkCentre, origin: Date, t: Minute) -> bool {
    let day = t.div_euclid(DAY);
    let d = origin.checked_add(jiff::Span::new().days(day)).unwrap();
    if wc.calendar.holidays.contains(&d) {
        return false;
    }
    let minute = t - day * DAY;
    let shifts = &wc.calendar.week[d.weekday().to_monday_zero_offset() as usize];
    shifts
        .iter()
        .any(|s| i64::from(s.from) <= minute && minute < i64::from(s.to))
        && !wc.calendar.down.iter().any(|p| p.from <= t && t < p.to)
}

pub fn shift(from: u16, to: u16) -> Shift {
    Shift { from, to }
}

pub fn day_shift() -> Calendar {
    Calendar::weekdays(&[shift(480, 960)])
}

pub fn centre(id: &str, machines: u16, setup_minutes: u32, calendar: Calendar) -> WorkCentre {
    WorkCentre {
        id: id.into(),
        machines,
        setup_minutes,
        calendar,
    }
}

pub fn op(name: &str, minutes: u32, wcs: &[&str]) -> Operation {
    Operation {
        name: name.into(),
        minutes,
        work_centres: wcs.iter().map(|w| (*w).into()).collect(),
        setup_minutes: None,
    }
}

pub fn order(id: &str, sku: &str, release: Minute, ops: Vec<Operation>) -> Order {
    Order {
        id: id.into(),
        sku: sku.into(),
        release,
        due: None,
        weight: 1,
        ship_days: 2,
        operations: ops,
    }
}

/// Monday `h:m` plus `d` days, in minutes.
pub fn at(d: i64, h: i64, m: i64) -> Minute {
    d * DAY + h * 60 + m
}
