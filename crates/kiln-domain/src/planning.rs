//! What the live schedule persists: one booking per operation of an order
//! line, downtimes, and replans' new promises.

use serde::Serialize;

use crate::{Date, DowntimeId, OperationStatus, OrderId, TimelineEntry, Timestamp};

/// One operation of one order line on a machine. Times are epoch minutes
/// (UTC); an operation a replan could not place has machine -1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingRow {
    pub order_id: OrderId,
    pub line_no: i64,
    pub operation: String,
    pub work_center: String,
    /// The day the operation (its setup) starts on; none when unplaced.
    pub day: Option<Date>,
    /// Working minutes of processing, setup excluded.
    pub minutes: i64,
    /// 1-based routing step; 0 marks a day-bucket booking from before the live schedule.
    pub seq: i64,
    /// 0-based machine of the work centre; -1 for an operation a replan could not place
    /// (the row keeps the routing whole).
    pub machine: i64,
    /// Setup runs `[setup_start, start_at)`, processing `[start_at, end_at)` in working time.
    pub setup_start: i64,
    pub start_at: i64,
    pub end_at: i64,
    /// Setup paid before this operation (0 when it follows the same SKU).
    pub setup_minutes: i64,
    /// Setup the operation needs after a different SKU.
    pub changeover: i64,
    /// Epoch minute the line's material is there (no operation starts earlier).
    pub release_at: i64,
    /// The date the factory must keep for the line (first promise or requested date).
    pub due_day: Option<Date>,
    /// For an operation done ahead of plan that left its machine (`machine`
    /// -1): the machine it was booked on, which its unit's passport names.
    pub made_on: Option<i64>,
}

/// A booking of an order still in the factory, with what a rebuilt schedule
/// needs to know about its line and operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledBooking {
    pub booking: BookingRow,
    pub sku: String,
    pub product_id: String,
    pub status: OperationStatus,
    pub completed_at: Option<Timestamp>,
    /// The order's promised delivery date.
    pub promised_date: Date,
}

/// A period a work centre cannot work; both days inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Downtime {
    pub id: DowntimeId,
    pub work_center: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from_day: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to_day: Date,
    pub reason: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// An order a replan may move: still planned, so none of its work started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPromise {
    pub order_id: OrderId,
    pub promised_date: Date,
    pub created_at: Timestamp,
    /// `(line_no, product_id)` in line order.
    pub lines: Vec<(i64, String)>,
}

/// A replan's new promise for one order: its bookings replace the old ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repromise {
    pub order_id: OrderId,
    pub promised_date: Date,
    pub bookings: Vec<BookingRow>,
    /// The timeline entry telling the customer, when the date moved.
    pub event: Option<TimelineEntry>,
}
