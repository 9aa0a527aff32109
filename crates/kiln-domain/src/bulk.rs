//! Bulk orders: a business buyer's CSV of configured lines, quoted as a
//! whole (priced, batched by SKU, promised together), then accepted as one
//! order.

use serde::{Deserialize, Serialize};

use crate::{Address, Date, Decimal, OrderId, QuoteId, Selections, Timestamp};

/// One bad row of an upload (or its header): where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// The row's line in the file, the header being line 1.
    pub row: u64,
    /// The column's header name, when one column is at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

/// One good row, priced and promised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuoteLine {
    /// The row's line in the file.
    pub row: u64,
    pub product: String,
    /// The configuration as completed: blank cells took their defaults.
    pub selections: Selections,
    pub sku: String,
    pub quantity: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub unit_price: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub line_total: Decimal,
    /// When this line is delivered, with every line of the quote planned.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub promised_date: Date,
    /// Its own recipient; none: the order's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Address>,
    /// The quantity breaks in its unit price (already counted there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantity_breaks: Vec<QuantityBreak>,
}

/// A quantity break (`[[price]] min_quantity` in the model) that priced a
/// line: its label, what it adds to each unit (negative: a discount), and
/// from how many units it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuantityBreak {
    pub label: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub per_unit: Decimal,
    pub from_units: u32,
}

/// The lines of one SKU together: one batch in the factory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkuTotal {
    pub sku: String,
    pub product: String,
    pub lines: u64,
    pub quantity: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub unit_price: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub amount: Decimal,
}

/// A quote for the good rows of an upload, with every bad row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkQuote {
    pub id: QuoteId,
    /// What the order will cost: the lines plus shipping.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub total: Decimal,
    pub currency: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub goods: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub shipping: Decimal,
    /// The tax `total` includes.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub tax: Decimal,
    /// When the whole order is delivered: the latest line's date.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub promised_date: Date,
    /// Accept before this; after it, upload again for a new quote.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_until: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// The catalog version the rows were configured against.
    pub catalog_version: i64,
    /// Data rows in the file.
    pub rows: u64,
    pub good_rows: u64,
    pub bad_rows: u64,
    /// Units over every good row.
    pub units: u64,
    /// The order placed from this quote, once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// Every bad row, all at once, by row: the first 10,000 problems of a
    /// file with more (see `errors_omitted`).
    pub errors: Vec<RowError>,
    /// Problems past the first 10,000, not listed.
    #[serde(default)]
    pub errors_omitted: u64,
    /// The good rows by SKU.
    pub skus: Vec<SkuTotal>,
    /// The good rows, in file order.
    pub lines: Vec<QuoteLine>,
}

words!(
    /// How an order ships, as its buyer chose.
    #[derive(Default)]
    ShipPolicy, "shipping policy" {
        /// One shipment when every line is made.
        #[default]
        Complete = "complete",
        /// Each line as soon as it is made.
        AsReady = "as_ready",
    }
);

impl ShipPolicy {
    /// The default: everything together once made.
    pub fn is_complete(&self) -> bool {
        *self == ShipPolicy::Complete
    }
}

/// A company that orders from the brand in bulk: its buyers, where to bill
/// and where its orders go unless an order says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BusinessCustomer {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: crate::BusinessCustomerId,
    pub company: String,
    /// The tax id on its invoices (a VAT number, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// Who may order for it; the first is the default.
    pub buyers: Vec<Buyer>,
    pub billing_address: Address,
    /// Where its orders go by default.
    pub ship_to: Address,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// A person who orders for a business customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Buyer {
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}
