//! Storage for Kiln: one [`Store`] trait, implemented for SQLite (the embedded
//! default) and PostgreSQL (production).
//!
//! Both implementations run the same portable SQL (see `migrations/`), written
//! once in [`sql`] and instantiated per backend, so the two cannot drift apart;
//! what differs per backend (connection options, locking) lives in its module.
//! Every method that writes does so in a single transaction.

mod migrate;
mod postgres;
mod records;
mod sql;
mod sqlite;

use async_trait::async_trait;

pub use postgres::PostgresStore;
pub use records::*;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The request clashes with the stored state, e.g. completing an
    /// operation that was never started.
    #[error("{0}")]
    Conflict(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// How an order placement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Written; the customer is the one stored under the order's email,
    /// which may predate this order.
    Created { customer_id: String },
    /// An order with this idempotency key already exists: nothing was written.
    Existing { order_id: String },
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> Result<()>;

    async fn create_brand(&self, brand: &Brand, created_at: i64) -> Result<()>;
    async fn brand_by_slug(&self, slug: &str) -> Result<Option<Brand>>;
    async fn brands(&self) -> Result<Vec<Brand>>;
    /// Keys are stored only as their SHA-256 hash.
    async fn add_api_key(&self, brand_id: &str, key_hash: &str, label: &str, at: i64)
    -> Result<()>;
    async fn brand_by_key_hash(&self, key_hash: &str) -> Result<Option<Brand>>;

    async fn put_catalog_file(&self, brand_id: &str, file: &CatalogFile, at: i64) -> Result<()>;
    async fn catalog_files(&self, brand_id: &str) -> Result<Vec<CatalogFile>>;
    /// Adds materials that are not stored yet; existing positions are kept.
    async fn seed_materials(&self, brand_id: &str, materials: &[MaterialRow]) -> Result<()>;
    async fn materials(&self, brand_id: &str) -> Result<Vec<MaterialRow>>;
    async fn bookings(&self, brand_id: &str) -> Result<Vec<BookingRow>>;
    /// Bookings of orders not yet shipped, by order, line and routing step,
    /// with their line's SKU and operation status: what the live schedule is
    /// rebuilt from.
    async fn scheduled_bookings(&self, brand_id: &str) -> Result<Vec<ScheduledBooking>>;
    /// Planned work orders by SKU: new lines of the same SKU batch into them.
    async fn planned_work_orders(&self, brand_id: &str) -> Result<Vec<(String, String)>>;
    /// The order lines a work order makes, as `(order, line)`.
    async fn order_line_ids(
        &self,
        brand_id: &str,
        work_order_id: &str,
    ) -> Result<Vec<(String, i64)>>;

    async fn order_by_idempotency_key(&self, brand_id: &str, key: &str) -> Result<Option<Order>>;
    /// Writes orders in placement order, sharing one transaction where it
    /// can; one result per order.
    async fn place_orders(&self, orders: &[NewOrder]) -> Vec<Result<Placed>>;
    async fn place_order(&self, order: &NewOrder) -> Result<Placed> {
        let mut placed = self.place_orders(std::slice::from_ref(order)).await;
        placed
            .pop()
            .unwrap_or_else(|| Err(StoreError::Conflict("nothing was written".into())))
    }
    /// Material requirements not yet consumed: with the open purchase
    /// suggestions, what is allocated and on order.
    async fn requirements(&self, brand_id: &str) -> Result<Vec<Requirement>>;
    /// Material requirements not consumed yet, with their orders, as
    /// `(order, requirement)`.
    async fn open_requirements(&self, brand_id: &str) -> Result<Vec<(String, Requirement)>>;
    async fn order(&self, brand_id: &str, order_id: &str) -> Result<Option<Order>>;
    async fn orders(
        &self,
        brand_id: &str,
        customer_email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OrderSummary>>;
    /// Open purchase suggestions: not yet received.
    async fn suggestions(&self, brand_id: &str) -> Result<Vec<PurchaseSuggestion>>;
    /// Records a suggested purchase as received: its quantity moves into
    /// stock. Receiving twice is a conflict.
    async fn receive_purchase(
        &self,
        brand_id: &str,
        suggestion_id: &str,
        move_id: &str,
        at: i64,
    ) -> Result<PurchaseSuggestion>;
    /// Adds purchase suggestions that no order placed, e.g. from the demand
    /// forecast (their `order_id` says where they came from).
    async fn add_suggestions(
        &self,
        brand_id: &str,
        suggestions: &[PurchaseSuggestion],
    ) -> Result<()>;
    /// Every stock move as `(material, signed quantity)`, oldest first.
    async fn stock_moves(&self, brand_id: &str) -> Result<Vec<(String, String)>>;

    /// Adds the store, or renames it if it exists.
    async fn put_store(&self, brand_id: &str, store: &StoreLocation) -> Result<()>;
    async fn stores(&self, brand_id: &str) -> Result<Vec<StoreLocation>>;
    /// Customers whose email or phone is exactly `query`.
    async fn find_customers(&self, brand_id: &str, query: &str) -> Result<Vec<Customer>>;

    /// Records that an order's payment arrived (or failed), as its provider
    /// reports it.
    async fn set_payment_status(
        &self,
        brand_id: &str,
        order_id: &str,
        status: &str,
        at: i64,
    ) -> Result<()>;

    async fn save_design(&self, brand_id: &str, design: &Design) -> Result<()>;
    async fn design(&self, brand_id: &str, code: &str) -> Result<Option<Design>>;
    /// A cart's lines as JSON text.
    async fn cart(&self, brand_id: &str, cart_id: &str) -> Result<Option<String>>;
    async fn put_cart(&self, brand_id: &str, cart_id: &str, lines: &str, at: i64) -> Result<()>;
    async fn delete_cart(&self, brand_id: &str, cart_id: &str) -> Result<()>;

    async fn work_orders(&self, brand_id: &str, open_only: bool) -> Result<Vec<WorkOrder>>;
    async fn work_order(&self, brand_id: &str, id: &str) -> Result<Option<WorkOrder>>;
    /// Starts or completes one operation and rolls the change up into the
    /// work order and its orders' statuses and timelines.
    async fn record_operation(
        &self,
        brand_id: &str,
        work_order_id: &str,
        seq: i64,
        action: OperationAction,
        at: i64,
        event_ids: &mut (dyn Iterator<Item = String> + Send),
    ) -> Result<OperationChange>;

    async fn create_shipment(
        &self,
        brand_id: &str,
        shipment: &Shipment,
        event_id: &str,
    ) -> Result<Shipment>;
    /// Adds imported sales; a line whose id is already stored is skipped, so
    /// an import can be retried.
    async fn add_sales_history(&self, brand_id: &str, lines: &[SalesLine]) -> Result<u64>;
    /// Imported sales on or after `since` (ISO date), then every order line
    /// placed since `since_ms`: the history demand sensing reads.
    async fn sales_lines(
        &self,
        brand_id: &str,
        since: &str,
        since_ms: i64,
    ) -> Result<Vec<SalesLine>>;

    async fn downtimes(&self, brand_id: &str) -> Result<Vec<Downtime>>;
    /// Orders still `planned`, earliest promise first: what a replan may move.
    async fn open_promises(&self, brand_id: &str) -> Result<Vec<OpenPromise>>;
    /// Updates the placement of booked operations in place (`order_id`,
    /// `line_no`, `seq` name the row), in one transaction.
    async fn rebook(&self, brand_id: &str, rows: &[BookingRow]) -> Result<()>;
    /// Records a replan in one transaction, with the downtime that caused it if
    /// any: each repromised order's bookings are replaced and its date updated.
    async fn record_replan(
        &self,
        brand_id: &str,
        downtime: Option<&Downtime>,
        repromises: &[Repromise],
    ) -> Result<()>;

    async fn mark_delivered(
        &self,
        brand_id: &str,
        shipment_id: &str,
        at: i64,
        event_id: &str,
    ) -> Result<Shipment>;
}

/// Order statuses, in the order an order moves through them.
pub mod status {
    pub const PLANNED: &str = "planned";
    pub const IN_PRODUCTION: &str = "in_production";
    pub const MADE: &str = "made";
    pub const SHIPPED: &str = "shipped";
    pub const DELIVERED: &str = "delivered";
}
