//! The platform's vocabulary, typed: what the store reads and writes, what the
//! application layer works with, and what the API shows.
//!
//! Parse, don't validate: an order's status is an [`OrderStatus`], never a
//! string compared by hand; an order's id is an [`OrderId`], which cannot be
//! passed where a [`WorkOrderId`] is meant; money is a [`Decimal`]; days are
//! [`Date`]s and instants [`Timestamp`]s. Text from outside (a request, a
//! stored row) is parsed once, at the edge, into these types.
//!
//! Read [`ids`] and [`status`] first; the records follow the order's life:
//! [`catalog`] (brands, their keys and catalogs), [`order`] (orders, lines,
//! customers, payments), [`factory`] (work orders, materials, shipments),
//! [`planning`] (bookings on the live schedule, downtimes) and [`demand`].

#[macro_use]
pub mod status;
pub mod bulk;
pub mod catalog;
pub mod demand;
pub mod events;
pub mod factory;
pub mod floor;
pub mod ids;
pub mod order;
pub mod passport;
pub mod planning;
pub mod platform;
pub mod profiles;
pub mod staff;

pub use bulk::*;
pub use catalog::*;
pub use demand::*;
pub use events::*;
pub use factory::*;
pub use floor::*;
pub use ids::*;
pub use order::*;
pub use passport::*;
pub use planning::*;
pub use platform::*;
pub use profiles::*;
pub use staff::*;
pub use status::*;

pub use jiff::Timestamp;
pub use jiff::civil::Date;

/// The calendar day (UTC) of an instant.
pub fn utc_day(at: Timestamp) -> Date {
    at.to_zoned(jiff::tz::TimeZone::UTC).date()
}
pub use rust_decimal::Decimal;

/// Option id to value: one configuration of a product.
pub type Selections = std::collections::BTreeMap<String, String>;

/// A stored value that does not parse: the row is corrupt, or a migration
/// was missed. The store reports it; nothing guesses a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}")]
pub struct ParseError {
    pub what: &'static str,
    pub value: String,
}

impl ParseError {
    pub fn new(what: &'static str, value: impl Into<String>) -> ParseError {
        ParseError {
            what,
            value: value.into(),
        }
    }
}

/// Milliseconds since the epoch, as the store keeps instants.
pub fn timestamp_ms(ms: i64) -> Result<Timestamp, ParseError> {
    Timestamp::from_millisecond(ms).map_err(|_| ParseError::new("timestamp", ms.to_string()))
}

/// An ISO date as the store keeps days.
pub fn date(text: &str) -> Result<Date, ParseError> {
    text.parse().map_err(|_| ParseError::new("date", text))
}

/// A decimal as the store keeps money and quantities.
pub fn decimal(text: &str) -> Result<Decimal, ParseError> {
    text.parse().map_err(|_| ParseError::new("decimal", text))
}
