//! The clock: factory time is UTC.

use jiff::Timestamp;
use jiff::civil::Date;

pub fn now() -> Timestamp {
    Timestamp::now()
}

pub fn today() -> Date {
    Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The day of an instant, in factory time.
pub fn day_of(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// `Thu 26 Nov 2026`, as customers read a day.
pub fn long_date(day: Date) -> String {
    day.strftime("%a %-d %b %Y").to_string()
}
