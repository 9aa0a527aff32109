//! Orders: what a customer bought, its lines, its timeline, its payment.

use serde::Serialize;

use crate::{
    Address, BookingRow, BrandId, Channel, CustomerId, Date, Decimal, OrderId, OrderStatus,
    PaymentStatus, PurchaseSuggestion, Selections, ShipPolicy, Shipment, TimelineEntryId,
    TimelineStatus, Timestamp, WorkOrderId, WorkOrderWrite,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub id: CustomerId,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
}

/// Everything one order placement writes, in one transaction.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub brand_id: BrandId,
    pub id: OrderId,
    pub idempotency_key: Option<String>,
    /// Hash of the request body, to refuse a reused key with another body.
    pub request_hash: String,
    /// The secret in the customer's link to the order page.
    pub access_token: String,
    /// Used if no customer with this email exists yet.
    pub customer: Customer,
    /// Whether the order is proven to be that customer's: placed with a key
    /// that speaks for the brand (`orders:write`), by a clerk who looked the
    /// customer up, or by after-sales. An unproven order (a public checkout,
    /// a publishable key) whose email the brand already knows changes nothing
    /// of that customer's record: it keeps the name it was given and is
    /// marked unverified.
    pub proven: bool,
    pub channel: Channel,
    pub ship_policy: ShipPolicy,
    pub store_id: Option<String>,
    pub ship_to: Address,
    pub status: OrderStatus,
    pub currency: String,
    /// Lines plus shipping.
    pub total: Decimal,
    /// Delivery, part of `total`.
    pub shipping: Decimal,
    /// The tax `total` includes.
    pub tax: Decimal,
    pub promised_date: Date,
    pub created_at: Timestamp,
    pub lines: Vec<OrderLine>,
    /// Lines and bookings written ahead of the order, in chunks between
    /// other orders' commits (a bulk order of thousands of lines): its own
    /// write checks they are all there and makes them its own, and neither
    /// `lines` nor `bookings` is written again.
    pub staged: Option<Staged>,
    pub work_orders: Vec<WorkOrderWrite>,
    pub bookings: Vec<BookingRow>,
    /// Bookings of earlier orders this order moved on their machine (a setup
    /// it made unnecessary, or needed again): updated in place.
    pub rebooked: Vec<BookingRow>,
    pub requirements: Vec<Requirement>,
    pub suggestions: Vec<PurchaseSuggestion>,
    pub timeline: Vec<TimelineEntry>,
    pub payment: Payment,
}

/// How many rows an order's chunks wrote ahead of it (see
/// [`NewOrder::staged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staged {
    pub lines: u64,
    pub bookings: u64,
}

impl NewOrder {
    /// Whether this order counts as the stored customer `stored`'s: it was
    /// proven (see [`NewOrder::proven`]), or it made that record itself.
    pub fn counts_as(&self, stored: &CustomerId) -> bool {
        self.proven || *stored == self.customer.id
    }

    /// The order as it stands once written, its customer being the one
    /// stored under its email (which may predate it).
    pub fn placed(&self, customer_id: CustomerId) -> Order {
        let customer_verified = self.counts_as(&customer_id);
        Order {
            id: self.id.clone(),
            status: self.status,
            promised_date: self.promised_date,
            channel: self.channel,
            store_id: self.store_id.clone(),
            customer: Customer {
                id: customer_id,
                ..self.customer.clone()
            },
            customer_verified,
            ship_to: self.ship_to.clone(),
            ship_policy: self.ship_policy,
            currency: self.currency.clone(),
            total: self.total,
            shipping: self.shipping,
            tax: self.tax,
            created_at: self.created_at,
            request_hash: self.request_hash.clone(),
            access_token: self.access_token.clone(),
            lines: self.lines.clone(),
            timeline: self.timeline.clone(),
            requirements: self.requirements.clone(),
            shipments: Vec::new(),
            payment: Some(self.payment.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    pub line_no: i64,
    #[serde(rename = "product")]
    pub product_id: String,
    pub selections: Selections,
    pub sku: String,
    pub quantity: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub unit_price: Decimal,
    pub work_order_id: WorkOrderId,
    /// The catalog version the line was configured against: its SKU, price,
    /// materials and routing are that version's, whatever is published later.
    pub catalog_version: i64,
    /// When this line is delivered (absent on orders placed before lines
    /// had their own promise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub promised_date: Option<Date>,
    /// Its own recipient (a bulk order's row); none: the order's `ship_to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Address>,
    /// When the line was cancelled; it is no longer made, nor charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub cancelled_at: Option<Timestamp>,
}

/// What cancelling lines of an order writes, in one transaction.
#[derive(Debug, Clone)]
pub struct LineCancellation {
    pub order_id: OrderId,
    /// The line numbers cancelled.
    pub lines: Vec<i64>,
    pub at: Timestamp,
    /// Each work order the lines were in, with the quantity left (0: the
    /// work order is cancelled).
    pub work_orders: Vec<(WorkOrderId, i64)>,
    /// The order's material requirements less what the lines took.
    pub requirements: Vec<Requirement>,
    pub total: Decimal,
    pub shipping: Decimal,
    pub tax: Decimal,
    /// The open payment's new amount; none when it is paid already.
    pub payment_amount: Option<Decimal>,
    /// The open payment's instructions for its new amount, with it.
    pub payment_instructions: Option<String>,
    /// The order's new status, when every line is cancelled.
    pub status: Option<OrderStatus>,
    /// The timeline's words.
    pub note: String,
    pub event: crate::EventType,
    /// Other orders' bookings whose setup changed with the lines gone.
    pub rebooked: Vec<BookingRow>,
}

/// What changing a line writes with the old line's cancellation, in the
/// same transaction: the line that replaces it, planned as an order's line
/// is. The cancellation carries the order's new totals, requirements (the
/// whole order's, the new line's included) and timeline words.
#[derive(Debug, Clone)]
pub struct LineReplacement {
    pub line: OrderLine,
    pub work_orders: Vec<WorkOrderWrite>,
    pub bookings: Vec<BookingRow>,
    /// Other orders' bookings whose setup the new line changed.
    pub rebooked: Vec<BookingRow>,
    pub suggestions: Vec<PurchaseSuggestion>,
    /// The order's promise with the new line.
    pub promised_date: Date,
}

/// One material an order needs, and how it was covered when it was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Requirement {
    pub material: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub gross: Decimal,
    /// Taken from stock and open supply.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub allocated: Decimal,
    /// Not covered: a purchase suggestion was made for it.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub shortage: Decimal,
}

/// An entry of an order's timeline, as the customer's order page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    #[serde(skip)]
    pub id: TimelineEntryId,
    pub status: TimelineStatus,
    pub note: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

/// How an order is paid, as its payment provider reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// `manual` for the built-in offline provider.
    pub provider: String,
    pub status: PaymentStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub amount: Decimal,
    pub currency: String,
    /// What the customer quotes when paying, e.g. on a bank transfer.
    pub reference: String,
    /// What the customer has to do, in words.
    pub instructions: String,
}

/// An order with everything that hangs off it, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: OrderId,
    pub status: OrderStatus,
    /// The day the order is promised to be delivered by.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub promised_date: Date,
    pub channel: Channel,
    pub store_id: Option<String>,
    /// As given on this order; its `id` is the brand's customer with that email.
    pub customer: Customer,
    /// False when the order was placed without proof (a public checkout or
    /// a publishable key) under the email of a customer the brand already
    /// knew: it names that customer's record but is not counted as theirs
    /// until someone who can tell (a clerk, the brand) says so.
    pub customer_verified: bool,
    pub ship_to: Address,
    /// Whether it ships when complete, or each line as it is ready.
    pub ship_policy: ShipPolicy,
    pub currency: String,
    /// What the customer pays: the lines plus shipping.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub total: Decimal,
    /// Delivery to the address, part of `total`; 0 for a store pickup.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub shipping: Decimal,
    /// The tax (the brand's `tax_name`, e.g. VAT) that `total` includes.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub tax: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Hash of the placing request, for idempotent retries.
    #[serde(skip)]
    pub request_hash: String,
    /// The secret in the customer's order page link.
    #[serde(skip)]
    pub access_token: String,
    pub lines: Vec<OrderLine>,
    pub timeline: Vec<TimelineEntry>,
    pub requirements: Vec<Requirement>,
    pub shipments: Vec<Shipment>,
    /// How the order is paid; absent only for orders placed before payments existed.
    pub payment: Option<Payment>,
}

/// Which orders a list shows: newest first, optionally filtered, one page at
/// a time. Pages are keyset pages: `before` is the last order of the page
/// before, so an order placed meanwhile never shifts a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// Only this customer's orders (normalised email), from every channel.
    pub customer_email: Option<String>,
    pub status: Option<OrderStatus>,
    pub channel: Option<Channel>,
    /// Only orders older than this one.
    pub before: Option<OrderId>,
    /// At most this many.
    pub limit: i64,
}

/// A short row for order lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderSummary {
    pub id: OrderId,
    pub customer_email: String,
    /// See [`Order::customer_verified`].
    pub customer_verified: bool,
    pub channel: Channel,
    /// The store that took it, for a store order.
    pub store_id: Option<String>,
    pub status: OrderStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub total: Decimal,
    pub currency: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub promised_date: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}
