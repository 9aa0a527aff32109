//! The clock: factory time is UTC.

use jiff::Timestamp;
use jiff::civil::Date;

pub fn now() -> Timestamp {
    Timestamp::now()
}

pub fn today() -> Date {
    Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The Sunday that ends the last whole week (ISO, Monday to Sunday) before
/// `day`: where weekly history ends, so the week under way is forecast,
/// never drawn as a week that collapsed.
pub fn last_sunday_before(day: Date) -> Date {
    let yesterday = day.yesterday().unwrap_or(day);
    yesterday
        .checked_sub(
            jiff::Span::new().days(i64::from(yesterday.weekday().to_monday_one_offset() % 7)),
        )
        .unwrap_or(yesterday)
}

/// The day of an instant, in factory time.
pub fn day_of(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// `Thu 26 Nov 2026`, as customers read a day.
pub fn long_date(day: Date) -> String {
    day.strftime("%a %-d %b %Y").to_string()
}
