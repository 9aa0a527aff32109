//! The factory side: work orders and their operations, materials, purchase
//! suggestions, shipments.

use serde::Serialize;

use crate::{
    Date, Decimal, OperationStatus, OrderId, OrderStatus, ShipmentId, ShipmentStatus, SuggestionId,
    Timestamp, TrackingStatus, WorkOrderId, WorkOrderStatus,
};

/// A new work order, or more quantity for a planned one of the same SKU.
#[derive(Debug, Clone)]
pub enum WorkOrderWrite {
    Create {
        id: WorkOrderId,
        sku: String,
        product_id: String,
        quantity: i64,
        /// The catalog version its routing comes from.
        catalog_version: i64,
        operations: Vec<WorkOrderOperation>,
    },
    AddQuantity {
        id: WorkOrderId,
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
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub setup_minutes: Decimal,
    /// Per unit.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub run_minutes: Decimal,
    pub status: OperationStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub started_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub completed_at: Option<Timestamp>,
    pub scrap: i64,
}

/// One batch of one SKU through its routing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkOrder {
    pub id: WorkOrderId,
    pub sku: String,
    pub product_id: String,
    pub quantity: i64,
    pub status: WorkOrderStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    pub operations: Vec<WorkOrderOperation>,
    pub order_ids: Vec<OrderId>,
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
    pub orders: Vec<(OrderId, OrderStatus)>,
    /// `(material, quantity)` consumed by orders that became made.
    #[serde(skip)]
    pub consumed: Vec<(String, Decimal)>,
}

/// A material's stock on hand as seeded. What is allocated and on order is
/// derived from the orders' requirements and the purchase suggestions, so
/// an order never rewrites a shared row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialRow {
    pub id: String,
    pub on_hand: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseSuggestion {
    pub id: SuggestionId,
    /// The order whose shortage it covers, or `forecast` for one the demand
    /// forecast asked for.
    pub order_id: String,
    pub material: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub qty: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub order_by: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub arrives: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub need_by: Date,
}

/// One parcel of a shipment: its packaging, and the units of which order
/// lines it holds (one SKU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipmentParcel {
    pub packaging: String,
    pub sku: String,
    pub contents: Vec<ParcelContent>,
    /// Packed, packaging included.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub weight_g: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParcelContent {
    pub line_no: i64,
    pub units: u32,
}

/// A carrier's word on where a shipment is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackingEvent {
    pub status: TrackingStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A move placed in its material's first-in-first-out sequence: a receipt
/// in the supply (after the opening stock), a consumption in what has been
/// consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedMove {
    /// The purchase (suggestion id) received, or the order consumed for.
    pub reference: String,
    pub at: Timestamp,
    /// How much came (or went) before it in its sequence.
    pub position: Decimal,
    /// How much it brought (or took), positive.
    pub qty: Decimal,
}

/// What tracing units to their material's lots needs, read without the
/// material's whole history: how much has been consumed so far, every
/// receipt, and the consumption of the orders asked about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MaterialLedger {
    /// Everything consumed so far.
    pub consumed: Decimal,
    /// Every receipt, in the order it came.
    pub receipts: Vec<PlacedMove>,
    /// The asked orders' consumption (an order not consumed yet has none).
    pub consumption: Vec<PlacedMove>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shipment {
    pub id: ShipmentId,
    pub order_id: OrderId,
    pub carrier: String,
    pub tracking_number: String,
    /// The order lines it carries. An order that ships as ready may go in
    /// several shipments; empty on a shipment from before lines were
    /// shipped apart: the whole order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<i64>,
    /// The carrier's service, when Kiln chose it (a brand with carriers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The parcels packed for it, when Kiln packed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parcels: Vec<ShipmentParcel>,
    /// The latest delivery date promised for the lines it carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub promised_date: Option<Date>,
    /// Days it arrived after `promised_date`; set when delivered late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_days: Option<i64>,
    pub status: ShipmentStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub delivered_at: Option<Timestamp>,
}
