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
    /// Units; a return (an `Order Refunded` event) is negative.
    pub quantity: i64,
    /// The store it was sold at; none for online and B2B sales.
    pub store_id: Option<String>,
    /// The sale (receipt, invoice, order) the line belongs to, so a store's
    /// traffic counts sales, not lines; none means the line is its own sale.
    pub ticket: Option<String>,
}

impl SalesLine {
    /// The sale the line belongs to.
    pub fn ticket(&self) -> &str {
        self.ticket.as_deref().unwrap_or(&self.id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleTime {
    /// An imported sale's day.
    Day(Date),
    /// When an order was placed.
    At(Timestamp),
}

/// One sale at a store's till as its event reported it (an `Order
/// Completed` or, with negative quantities, an `Order Refunded`): kept as
/// one record with its lines, read back as lines of sales history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoreSale {
    /// The event's message id.
    pub id: String,
    pub day: Date,
    pub store_id: String,
    /// The receipt or invoice.
    pub ticket: String,
    pub lines: Vec<StoreSaleLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoreSaleLine {
    #[serde(rename = "p")]
    pub product_id: String,
    #[serde(rename = "s", default, skip_serializing_if = "Selections::is_empty")]
    pub selections: Selections,
    #[serde(rename = "q")]
    pub quantity: i64,
}

impl StoreSale {
    /// Its lines as lines of sales history (`{id}#{n}`).
    pub fn sales_lines(&self) -> impl Iterator<Item = SalesLine> + '_ {
        self.lines.iter().enumerate().map(|(n, l)| SalesLine {
            id: format!("{}#{n}", self.id),
            when: SaleTime::Day(self.day),
            product_id: l.product_id.clone(),
            selections: l.selections.clone(),
            quantity: l.quantity,
            store_id: Some(self.store_id.clone()),
            ticket: Some(self.ticket.clone()),
        })
    }
}
