//! Orders: what a customer bought, its lines, its timeline, its payment.

use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

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
    /// Lines, bookings and new work orders written ahead of the order, in
    /// chunks between other orders' commits (a bulk order of thousands of
    /// lines): its own write checks they are all there and makes them its
    /// own, and neither `lines` nor `bookings` is written again;
    /// `work_orders` holds only what was not written ahead.
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
/// [`NewOrder::staged`]), and its lines as its event carries them.
#[derive(Debug, Clone)]
pub struct Staged {
    pub lines: u64,
    pub bookings: u64,
    /// New work orders: those of [`NewOrder::work_orders`] are the rest.
    pub work_orders: u64,
    /// [`NewOrder::lines`] as JSON, written ahead of the order's own
    /// transaction: the event it writes there ([`OrderWithLines`]) then
    /// serializes only the order's head. Ten thousand lines are 4 MB of
    /// JSON, 60 ms of the writer every order waits for.
    pub lines_json: Option<Arc<RawValue>>,
}

/// An order as the API returns it, its lines given already as JSON (see
/// [`Staged::lines_json`]): `head` is the order without them, whose `lines`
/// are left out for these. The same JSON as the order written whole but for
/// the order of the head's keys (alphabetical here; a JSON object's keys
/// are unordered).
pub struct OrderWithLines<'a> {
    pub head: &'a Order,
    pub lines: &'a RawValue,
}

impl Serialize for OrderWithLines<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap as _};
        // The head is small: through a tree, so its fields keep their names
        // and forms as `Order` writes them, whatever they become.
        let serde_json::Value::Object(head) =
            serde_json::to_value(self.head).map_err(S::Error::custom)?
        else {
            return Err(S::Error::custom("an order is written as an object"));
        };
        let mut map = serializer.serialize_map(Some(head.len()))?;
        for (field, value) in &head {
            if field == "lines" {
                map.serialize_entry(field, self.lines)?;
            } else {
                map.serialize_entry(field, value)?;
            }
        }
        map.end()
    }
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
        Order {
            lines: self.lines.clone(),
            ..self.placed_head(customer_id)
        }
    }

    /// [`NewOrder::placed`] without its lines: what [`OrderWithLines`]
    /// needs, with no copy of ten thousand lines.
    pub fn placed_head(&self, customer_id: CustomerId) -> Order {
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
            lines: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn address(name: &str) -> Address {
        Address {
            name: name.into(),
            line1: "1 High Street".into(),
            line2: None,
            city: "Leeds".into(),
            postal_code: "LS1 1AA".into(),
            region: None,
            country: "GB".into(),
        }
    }

    fn order(lines: usize) -> Order {
        let now = Timestamp::now();
        let line = |n: usize| OrderLine {
            line_no: n as i64 + 1,
            product_id: "shirt".into(),
            selections: [("size".to_string(), "M".to_string())].into(),
            sku: format!("SHIRT-M-{n}"),
            quantity: 2,
            unit_price: Decimal::new(2950, 2),
            work_order_id: WorkOrderId::new(),
            catalog_version: 3,
            promised_date: Some(Date::constant(2027, 5, 10)),
            recipient: n.is_multiple_of(2).then(|| address("Row")),
            cancelled_at: None,
        };
        Order {
            id: OrderId::new(),
            status: OrderStatus::Planned,
            promised_date: Date::constant(2027, 5, 10),
            channel: Channel::B2b,
            store_id: None,
            customer: Customer {
                id: CustomerId::new(),
                email: "buyer@example.com".into(),
                name: "Buyer".into(),
                phone: None,
            },
            customer_verified: true,
            ship_to: address("Buyer"),
            ship_policy: ShipPolicy::Complete,
            currency: "GBP".into(),
            total: Decimal::new(59000, 2),
            shipping: Decimal::ZERO,
            tax: Decimal::new(9833, 2),
            created_at: now,
            request_hash: "hash".into(),
            access_token: "token".into(),
            lines: (0..lines).map(line).collect(),
            timeline: vec![TimelineEntry {
                id: TimelineEntryId::new(),
                status: TimelineStatus::Ordered,
                note: "placed".into(),
                at: now,
            }],
            requirements: Vec::new(),
            shipments: Vec::new(),
            payment: None,
        }
    }

    /// The head and the lines written apart make the same JSON as the
    /// order written whole, whatever the number of lines.
    #[test]
    fn an_order_with_its_lines_written_ahead_reads_as_the_order() {
        for n in [0, 1, 7] {
            let whole = order(n);
            let lines = serde_json::value::to_raw_value(&whole.lines).unwrap();
            let head = Order {
                lines: Vec::new(),
                ..whole.clone()
            };
            let apart = serde_json::to_string(&OrderWithLines {
                head: &head,
                lines: &lines,
            })
            .unwrap();
            let apart: serde_json::Value = serde_json::from_str(&apart).unwrap();
            assert_eq!(apart, serde_json::to_value(&whole).unwrap(), "{n} lines");
        }
    }
}
