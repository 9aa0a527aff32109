//! Demand history: imported sales and the order lines placed in Kiln.

use serde::Serialize;

use crate::{Date, Selections, Timestamp};

/// One line of demand: an imported sale (on a day) or an order line placed
/// in Kiln (at an instant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SalesLine {
    pub id: String,
    pub when: SaleTime,
    pub product_id: String,
    pub selections: Selections,
    pub quantity: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleTime {
    /// An imported sale's day.
    Day(Date),
    /// When an order was placed.
    At(Timestamp),
}
