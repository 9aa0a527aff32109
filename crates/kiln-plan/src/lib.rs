//! The planning engine behind promised dates and purchase suggestions.
//!
//! Pure by design: no I/O, no clock reads, no async. "Today" and every other date come in
//! as parameters so the same inputs always give the same plan, which keeps promises
//! reproducible and the engine easy to test. The server maps model and store types into
//! the plain types here.

pub mod bom;
pub mod calendar;
pub mod error;
pub mod live;
pub mod logistics;
pub mod mrp;
pub mod shop;

pub use bom::explode;
pub use calendar::{Downtime, WorkCenterCalendar};
pub use error::PlanError;
pub use mrp::{
    GrossRequirement, MaterialPosition, MrpError, MrpPlan, NetRequirement, PurchaseSuggestion,
    material_release, net_requirements,
};

use jiff::{Span, civil::Date};

/// Adds whole calendar days, turning jiff's range errors into a plan error instead of a panic.
pub(crate) fn add_days(day: Date, days: u32) -> Result<Date, PlanError> {
    let span = Span::new()
        .try_days(i64::from(days))
        .map_err(|_| PlanError::DateOutOfRange)?;
    day.checked_add(span).map_err(|_| PlanError::DateOutOfRange)
}

/// Subtracts whole calendar days, saturating at the earliest representable date.
pub(crate) fn sub_days_saturating(day: Date, days: u32) -> Date {
    match Span::new().try_days(i64::from(days)) {
        Ok(span) => day.saturating_sub(span),
        Err(_) => Date::MIN,
    }
}
