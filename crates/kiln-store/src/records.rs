//! Rows as the store reads and writes them. Decimals and dates travel as text
//! so that both backends store them exactly the same way; the server parses
//! them into domain values.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Brand {
    pub id: String,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFile {
    /// `product` or `factory`.
    pub kind: String,
    pub name: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialRow {
    pub id: String,
    /// Stock on hand. What is allocated and on order is derived from the
    /// orders' requirements and the purchase suggestions, so an order never
    /// rewrites a shared row.
    pub on_hand: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
}

/// Everything one order placement writes, in one transaction.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub brand_id: String,
    pub id: String,
    pub idempotency_key: Option<String>,
    /// Hash of the request body, to refuse a reused key with another body.
    pub request_hash: String,
    /// The secret in the customer's link to the order page.
    pub access_token: String,
    /// Used if no customer with this email exists yet.
    pub customer: Customer,
    pub channel: String,
    pub store_id: Option<String>,
    /// JSON text of the shipping address.
    pub ship_to: String,
    pub status: String,
    pub currency: String,
    pub total: String,
    pub promised_date: String,
    pub created_at: i64,
    pub lines: Vec<OrderLine>,
    pub work_orders: Vec<WorkOrderWrite>,
    pub bookings: Vec<BookingRow>,
    /// Bookings of earlier orders this order moved on their machine (a setup
    /// it made unnecessary, or needed again): updated in place.
    pub rebooked: Vec<BookingRow>,
    pub requirements: Vec<Requirement>,
    pub suggestions: Vec<PurchaseSuggestion>,
    pub events: Vec<OrderEvent>,
    pub payment: Payment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    pub line_no: i64,
    pub product_id: String,
    /// JSON object text of the selections.
    pub selections: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: String,
    pub work_order_id: String,
}

/// A new work order, or more quantity for a planned one of the same SKU.
#[derive(Debug, Clone)]
pub enum WorkOrderWrite {
    Create {
        id: String,
        sku: String,
        product_id: String,
        quantity: i64,
        operations: Vec<WorkOrderOperation>,
    },
    AddQuantity {
        id: String,
        quantity: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkOrderOperation {
    pub seq: i64,
    pub operation: String,
    pub name: String,
    pub work_center: String,
    pub setup_minutes: String,
    /// Per unit.
    pub run_minutes: String,
    /// `pending`, `started` or `done`.
    pub status: String,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub scrap: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkOrder {
    pub id: String,
    pub sku: String,
    pub product_id: String,
    pub quantity: i64,
    /// `planned`, `in_progress` or `done`.
    pub status: String,
    pub created_at: i64,
    pub operations: Vec<WorkOrderOperation>,
    pub order_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingRow {
    pub order_id: String,
    pub line_no: i64,
    pub operation: String,
    pub work_center: String,
    /// ISO date the operation (its setup) starts on.
    pub day: String,
    /// Working minutes of processing, setup excluded.
    pub minutes: i64,
    /// 1-based routing step; 0 marks a day-bucket booking from before the live schedule.
    pub seq: i64,
    /// 0-based machine of the work centre; -1 for an operation a replan could not place
    /// (the row keeps the routing whole).
    pub machine: i64,
    /// Epoch minutes (UTC): setup runs `[setup_start, start_at)`, processing `[start_at, end_at)`
    /// in working time.
    pub setup_start: i64,
    pub start_at: i64,
    pub end_at: i64,
    /// Setup paid before this operation (0 when it follows the same SKU).
    pub setup_minutes: i64,
    /// Setup the operation needs after a different SKU.
    pub changeover: i64,
    /// Epoch minute the line's material is there (no operation starts earlier).
    pub release_at: i64,
    /// ISO date the factory must keep for the line (first promise or requested date).
    pub due_day: String,
}

/// A booking of an order still in the factory, with what a rebuilt schedule
/// needs to know about its line and operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledBooking {
    pub booking: BookingRow,
    pub sku: String,
    pub product_id: String,
    /// The work order operation's status: `pending`, `started` or `done`.
    pub status: String,
    /// Epoch milliseconds, when done.
    pub completed_at: Option<i64>,
    /// The order's promised delivery date (ISO).
    pub promised_date: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Requirement {
    pub material: String,
    pub gross: String,
    pub allocated: String,
    pub shortage: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseSuggestion {
    pub id: String,
    pub order_id: String,
    pub material: String,
    pub qty: String,
    pub order_by: String,
    pub arrives: String,
    pub need_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderEvent {
    pub id: String,
    pub status: String,
    pub note: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shipment {
    pub id: String,
    pub order_id: String,
    pub carrier: String,
    pub tracking_number: String,
    /// `in_transit` or `delivered`.
    pub status: String,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// An order with everything that hangs off it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: String,
    pub customer: Customer,
    pub channel: String,
    pub store_id: Option<String>,
    pub ship_to: String,
    pub status: String,
    pub currency: String,
    pub total: String,
    pub promised_date: String,
    pub created_at: i64,
    pub request_hash: String,
    pub access_token: String,
    pub lines: Vec<OrderLine>,
    pub events: Vec<OrderEvent>,
    pub requirements: Vec<Requirement>,
    pub shipments: Vec<Shipment>,
    pub payment: Option<Payment>,
}

/// A short row for order lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderSummary {
    pub id: String,
    pub customer_email: String,
    pub channel: String,
    pub status: String,
    pub total: String,
    pub currency: String,
    pub promised_date: String,
    pub created_at: i64,
}

/// What an operator does to an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationAction {
    Start,
    Complete { scrap: i64 },
}

/// What happened to a work order and its orders when an operation moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperationChange {
    pub work_order: WorkOrder,
    /// Orders whose status moved, with their new status.
    pub orders: Vec<(String, String)>,
    /// `(material, quantity)` consumed by orders that became made.
    pub consumed: Vec<(String, String)>,
}

/// A saved configuration behind a short shareable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Design {
    pub code: String,
    pub product_id: String,
    /// JSON object text of the selections.
    pub selections: String,
    pub created_at: i64,
}

/// A physical store of a brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreLocation {
    pub id: String,
    pub name: String,
    /// JSON text of the store's address (orders picked up there ship to it).
    pub address: String,
}

/// How an order is paid, as its payment provider reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// `manual` for the built-in offline provider.
    pub provider: String,
    /// `awaiting_payment`, `paid` or `failed`.
    pub status: String,
    pub amount: String,
    pub currency: String,
    /// What the customer quotes when paying, e.g. on a bank transfer.
    pub reference: String,
    /// What the customer has to do, in words.
    pub instructions: String,
}

/// A period a work centre cannot work; days are ISO dates, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Downtime {
    pub id: String,
    pub work_center: String,
    pub from_day: String,
    pub to_day: String,
    pub reason: String,
    pub created_at: i64,
}

/// An order a replan may move: still `planned`, so none of its work started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPromise {
    pub order_id: String,
    pub promised_date: String,
    pub created_at: i64,
    /// `(line_no, product_id)` in line order.
    pub lines: Vec<(i64, String)>,
}

/// A replan's new promise for one order: its bookings replace the old ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repromise {
    pub order_id: String,
    pub promised_date: String,
    pub bookings: Vec<BookingRow>,
    /// The timeline entry telling the customer, when the date moved.
    pub event: Option<OrderEvent>,
}

/// One line of demand: imported sales history (`day` set) or an order placed
/// in Kiln (`at` set, epoch milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SalesLine {
    pub id: String,
    /// ISO date of an imported sale; empty for an order.
    pub day: String,
    /// When an order was placed; 0 for an imported sale.
    pub at: i64,
    pub product_id: String,
    /// The configuration as JSON text: option to value.
    pub selections: String,
    pub quantity: i64,
}
