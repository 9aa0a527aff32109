//! What the store does, one trait per responsibility.

use async_trait::async_trait;
use kiln_domain::*;

use crate::{Placed, Result};

mod profiles;

pub use profiles::*;

/// All of the store.
#[async_trait]
pub trait Store:
    PlatformStore
    + CatalogStore
    + OrderStore
    + FactoryStore
    + PlanningStore
    + WebhookStore
    + PassportStore
    + StaffStore
    + BulkStore
    + ProfileStore
    + SegmentStore
    + MailStore
    + LeaseStore
    + FloorStore
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> Result<()>;
}

/// A key as the store keeps it: the record, and the SHA-256 of the secret.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub hash: String,
}

/// Brands, their keys, the platform admin's keys, and the audit log.
#[async_trait]
pub trait PlatformStore: Send + Sync + 'static {
    /// A new brand with its first key, and the audit entry saying so.
    async fn create_brand(&self, brand: &Brand, key: &NewApiKey, audit: &AuditEntry) -> Result<()>;
    async fn brand_by_slug(&self, slug: &str) -> Result<Option<Brand>>;
    async fn brands(&self) -> Result<Vec<Brand>>;
    async fn add_api_key(&self, key: &NewApiKey, audit: &AuditEntry) -> Result<()>;
    async fn api_keys(&self, brand: &BrandId) -> Result<Vec<ApiKey>>;
    /// The key with this hash and its brand, whatever its state.
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<(ApiKey, Brand)>>;
    /// Revokes a key at once. Not found if the brand has no such key.
    async fn revoke_api_key(
        &self,
        brand: &BrandId,
        id: &ApiKeyId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<ApiKey>;
    /// Issues `new` in place of `old`, which keeps working until `old_expires`.
    async fn rotate_api_key(
        &self,
        old: &ApiKeyId,
        old_expires: Timestamp,
        new: &NewApiKey,
        audit: &AuditEntry,
    ) -> Result<ApiKey>;
    async fn add_admin_key(&self, key: &AdminKey, hash: &str) -> Result<()>;
    async fn admin_key_by_hash(&self, hash: &str) -> Result<Option<AdminKey>>;
    /// Whether any platform admin key was ever minted (a new store has none).
    async fn has_admin_keys(&self) -> Result<bool>;
    /// Newest first; a brand's own entries, or every entry for `None`.
    async fn audit_log(&self, brand: Option<&BrandId>, limit: i64) -> Result<Vec<AuditEntry>>;
}

/// Immutable catalog versions, and the materials they declare.
#[async_trait]
pub trait CatalogStore: Send + Sync + 'static {
    /// Stores a new version with its files; new materials are seeded with
    /// their declared stock. A version that exists already is a conflict.
    async fn publish_catalog(
        &self,
        brand: &BrandId,
        version: &CatalogVersion,
        files: &[CatalogFile],
        materials: &[MaterialRow],
        event: &PlatformEvent,
        audit: &AuditEntry,
    ) -> Result<()>;
    /// One version with its files; the latest for `None`.
    async fn catalog(
        &self,
        brand: &BrandId,
        version: Option<i64>,
    ) -> Result<Option<(CatalogVersion, Vec<CatalogFile>)>>;
    /// Every version, newest first.
    async fn catalog_versions(&self, brand: &BrandId) -> Result<Vec<CatalogVersion>>;
    /// Adds materials that are not stored yet; existing positions are kept.
    async fn seed_materials(&self, brand: &BrandId, materials: &[MaterialRow]) -> Result<()>;
    async fn materials(&self, brand: &BrandId) -> Result<Vec<MaterialRow>>;
}

/// Orders, customers, payments, and the storefront's designs, carts and stores.
#[async_trait]
pub trait OrderStore: Send + Sync + 'static {
    async fn order_by_idempotency_key(&self, brand: &BrandId, key: &str) -> Result<Option<Order>>;
    /// Writes orders in placement order, sharing one transaction where it
    /// can; one result per order.
    async fn place_orders(&self, orders: &[NewOrder]) -> Vec<Result<Placed>>;
    async fn place_order(&self, order: &NewOrder) -> Result<Placed> {
        let mut placed = self.place_orders(std::slice::from_ref(order)).await;
        placed
            .pop()
            .unwrap_or_else(|| Err(crate::StoreError::Conflict("nothing was written".into())))
    }
    async fn order(&self, brand: &BrandId, order: &OrderId) -> Result<Option<Order>>;
    /// Several orders, as [`OrderStore::order`] reads each, in the order
    /// asked (an id not found is left out), in one query per table.
    async fn orders_by_id(&self, brand: &BrandId, orders: &[&OrderId]) -> Result<Vec<Order>>;
    /// Writes some of an order's lines, bookings and new work orders (with
    /// their operations) ahead of the order, in a transaction of their own
    /// (see [`NewOrder::staged`]). Nothing reads them until the order is
    /// written. Only new work orders are written ahead (created at the
    /// order's `created_at`): quantity added to a work order already there
    /// is a conflict (it is the order's own write).
    async fn stage_order_rows(
        &self,
        brand: &BrandId,
        order: &OrderId,
        lines: &[OrderLine],
        bookings: &[BookingRow],
        work_orders: &[WorkOrderWrite],
        created_at: Timestamp,
    ) -> Result<()>;
    /// Deletes the rows written ahead of orders that were never written:
    /// `order`'s, or (`None`) every such order's of the brand. Returns how
    /// many orders had rows.
    async fn discard_staged(&self, brand: &BrandId, order: Option<&OrderId>) -> Result<u64>;
    /// Cancels lines of an order, in one transaction: their bookings go,
    /// their work orders shrink, the order is re-priced and its
    /// requirements reduced, the neighbours' bookings follow, with a
    /// timeline entry and the change's event.
    async fn cancel_lines(&self, brand: &BrandId, change: &LineCancellation) -> Result<()>;
    /// Cancels a line and adds the one replacing it (a changed quantity or
    /// configuration), with the order's new totals and promise, one
    /// timeline entry and one `order.changed` event, all or nothing.
    async fn replace_line(
        &self,
        brand: &BrandId,
        cancelled: &LineCancellation,
        new: &LineReplacement,
    ) -> Result<()>;
    /// Newest first.
    async fn orders(&self, brand: &BrandId, query: &OrderQuery) -> Result<Vec<OrderSummary>>;
    /// Material requirements not yet consumed: with the open purchase
    /// suggestions, what is allocated and on order.
    async fn requirements(&self, brand: &BrandId) -> Result<Vec<Requirement>>;
    /// Customers whose email or phone is exactly `query`.
    async fn find_customers(&self, brand: &BrandId, query: &str) -> Result<Vec<Customer>>;
    /// Records that an order's payment arrived (or failed), as its provider
    /// reports it.
    async fn set_payment_status(
        &self,
        brand: &BrandId,
        order: &OrderId,
        status: PaymentStatus,
        at: Timestamp,
    ) -> Result<()>;

    async fn save_design(&self, brand: &BrandId, design: &Design) -> Result<()>;
    async fn design(&self, brand: &BrandId, code: &str) -> Result<Option<Design>>;
    /// A cart's lines as JSON text.
    async fn cart(&self, brand: &BrandId, cart_id: &str) -> Result<Option<String>>;
    async fn put_cart(
        &self,
        brand: &BrandId,
        cart_id: &str,
        lines: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn delete_cart(&self, brand: &BrandId, cart_id: &str) -> Result<()>;
    /// Adds the store, or renames it if it exists.
    async fn put_store(&self, brand: &BrandId, store: &StoreLocation) -> Result<()>;
    async fn stores(&self, brand: &BrandId) -> Result<Vec<StoreLocation>>;
}

/// Work orders on the shop floor, stock, purchases and shipments.
#[async_trait]
pub trait FactoryStore: Send + Sync + 'static {
    async fn work_orders(&self, brand: &BrandId, open_only: bool) -> Result<Vec<WorkOrder>>;
    async fn work_order(&self, brand: &BrandId, id: &WorkOrderId) -> Result<Option<WorkOrder>>;
    /// Planned work orders of a catalog version, (SKU, id, units), oldest
    /// first: new lines of the same SKU and version batch into the last.
    async fn planned_work_orders(
        &self,
        brand: &BrandId,
        catalog_version: i64,
    ) -> Result<Vec<(String, WorkOrderId, i64)>>;
    /// The order lines a work order makes (cancelled lines are no longer made).
    async fn order_lines_of(
        &self,
        brand: &BrandId,
        work_order: &WorkOrderId,
    ) -> Result<Vec<LineRef>>;
    /// Starts or completes one operation and rolls the change up into the
    /// work order and its orders' statuses and timelines, with their events.
    async fn record_operation(
        &self,
        brand: &BrandId,
        work_order: &WorkOrderId,
        seq: i64,
        action: OperationAction,
        at: Timestamp,
    ) -> Result<OperationChange>;
    /// Ships a made order: the shipment, the order's status, their events.
    async fn create_shipment(&self, brand: &BrandId, shipment: &Shipment) -> Result<Shipment>;
    async fn mark_delivered(
        &self,
        brand: &BrandId,
        shipment: &ShipmentId,
        at: Timestamp,
    ) -> Result<Shipment>;
    /// Records a carrier's tracking event; false when it was recorded before.
    async fn record_tracking(
        &self,
        brand: &BrandId,
        shipment: &ShipmentId,
        event: &TrackingEvent,
        received: Timestamp,
    ) -> Result<bool>;
    /// A shipment's tracking events, oldest first.
    async fn tracking_events(
        &self,
        brand: &BrandId,
        shipment: &ShipmentId,
    ) -> Result<Vec<TrackingEvent>>;
    /// One shipment.
    async fn shipment(&self, brand: &BrandId, shipment: &ShipmentId) -> Result<Option<Shipment>>;
    /// Open purchase suggestions: not yet received.
    async fn suggestions(&self, brand: &BrandId) -> Result<Vec<PurchaseSuggestion>>;
    /// Records a suggested purchase as received: its quantity moves into
    /// stock. Receiving twice is a conflict.
    async fn receive_purchase(
        &self,
        brand: &BrandId,
        suggestion: &SuggestionId,
        at: Timestamp,
    ) -> Result<PurchaseSuggestion>;
    /// Adds purchase suggestions that no order placed, e.g. from the demand
    /// forecast (their `order_id` says where they came from).
    async fn add_suggestions(
        &self,
        brand: &BrandId,
        suggestions: &[PurchaseSuggestion],
    ) -> Result<()>;
    /// What stock has moved per material, `(material, signed quantity)`:
    /// all received less all consumed.
    async fn stock_moves(&self, brand: &BrandId) -> Result<Vec<(String, Decimal)>>;
    /// One material's first-in-first-out ledger, for tracing what a unit
    /// was made from: consumed so far, every receipt, and the consumption
    /// of `orders`.
    async fn material_ledger(
        &self,
        brand: &BrandId,
        material: &str,
        orders: &[&OrderId],
    ) -> Result<MaterialLedger>;
}

/// What the live schedule and the live material plan are rebuilt from, the
/// schedule's downtimes and replans, and demand history.
#[async_trait]
pub trait PlanningStore: Send + Sync + 'static {
    /// Material requirements not consumed yet, with their orders.
    async fn open_requirements(&self, brand: &BrandId) -> Result<Vec<(OrderId, Requirement)>>;
    /// The lines not cancelled of orders with material requirements not
    /// consumed yet: what the live material plan's sub-assemblies come from.
    async fn open_lines(&self, brand: &BrandId) -> Result<Vec<(OrderId, OrderLine)>>;
    async fn bookings(&self, brand: &BrandId) -> Result<Vec<BookingRow>>;
    /// Bookings of orders not yet shipped, by order, line and routing step,
    /// with their line's SKU and operation status: what the live schedule is
    /// rebuilt from.
    async fn scheduled_bookings(&self, brand: &BrandId) -> Result<Vec<ScheduledBooking>>;
    async fn downtimes(&self, brand: &BrandId) -> Result<Vec<Downtime>>;
    /// Removes a downtime, with its audit entry, in one transaction; `false`
    /// when the brand has no such downtime.
    async fn cancel_downtime(
        &self,
        brand: &BrandId,
        id: &DowntimeId,
        entry: &AuditEntry,
    ) -> Result<bool>;
    /// Orders still planned, earliest promise first: what a replan may move.
    async fn open_promises(&self, brand: &BrandId) -> Result<Vec<OpenPromise>>;
    /// Updates the placement of booked operations in place (order, line and
    /// step name the row), in one transaction.
    async fn rebook(&self, brand: &BrandId, rows: &[BookingRow]) -> Result<()>;
    /// Records a replan in one transaction, with the downtime that caused it if
    /// any: each repromised order's bookings are replaced and its date updated;
    /// an order whose promise moved gets its timeline entry and an
    /// `order.promise_moved` event.
    async fn record_replan(
        &self,
        brand: &BrandId,
        downtime: Option<&Downtime>,
        repromises: &[Repromise],
    ) -> Result<()>;
    /// A purchase on order will arrive on `arrives` instead, and the replan
    /// that follows (as [`PlanningStore::record_replan`] writes it), in one
    /// transaction. Returns the purchase as it now stands; an unknown one is
    /// not found, one already received a conflict.
    async fn record_late_purchase(
        &self,
        brand: &BrandId,
        suggestion: &SuggestionId,
        arrives: Date,
        repromises: &[Repromise],
    ) -> Result<PurchaseSuggestion>;
    /// Adds imported sales; a line whose id is already stored is skipped, so
    /// an import can be retried.
    async fn add_sales_history(&self, brand: &BrandId, lines: &[SalesLine]) -> Result<u64>;
    /// Imported sales on or after `since`, then every order line placed since
    /// `since_at`: the history demand sensing reads.
    async fn sales_lines(
        &self,
        brand: &BrandId,
        since: Date,
        since_at: Timestamp,
    ) -> Result<Vec<SalesLine>>;
    /// The day of the latest imported sale, and the instant of the latest
    /// order: where a brand's history ends.
    async fn last_sale(&self, brand: &BrandId) -> Result<(Option<Date>, Option<Timestamp>)>;
}

/// Webhook endpoints and the deliveries of the outbox's events to them.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn create_webhook(&self, endpoint: &WebhookEndpoint, audit: &AuditEntry) -> Result<()>;
    /// Replaces the endpoint's url, description, events, secrets and state.
    async fn update_webhook(&self, endpoint: &WebhookEndpoint, audit: &AuditEntry) -> Result<()>;
    /// Deletes the endpoint; its pending deliveries go with it.
    async fn delete_webhook(
        &self,
        brand: &BrandId,
        id: &WebhookId,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn webhooks(&self, brand: &BrandId) -> Result<Vec<WebhookEndpoint>>;
    async fn webhook(&self, brand: &BrandId, id: &WebhookId) -> Result<Option<WebhookEndpoint>>;
    /// Pending deliveries of enabled endpoints due by `now`, oldest first,
    /// leaving out `skip` (those in flight).
    async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: i64,
        skip: &[DeliveryId],
    ) -> Result<Vec<DueDelivery>>;
    /// Claims due deliveries for this server's worker before it sends them:
    /// each of `ids` still pending and due at `now` is put off until
    /// `until`, in one statement, so no other server's worker takes it; the
    /// ones claimed are returned. One that is never recorded (the server died
    /// while sending) falls due again at `until`.
    async fn claim_deliveries(
        &self,
        ids: &[DeliveryId],
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<DeliveryId>>;
    /// When the next pending delivery falls due, if any.
    async fn next_due(&self) -> Result<Option<Timestamp>>;
    /// Records attempts and their deliveries' new states in one transaction;
    /// an endpoint that answered 410 is turned off.
    async fn record_attempts(&self, outcomes: &[AttemptOutcome]) -> Result<()>;
    /// An endpoint's deliveries, newest first.
    async fn deliveries(
        &self,
        brand: &BrandId,
        endpoint: &WebhookId,
        limit: i64,
    ) -> Result<Vec<Delivery>>;
    async fn delivery_attempts(
        &self,
        brand: &BrandId,
        delivery: &DeliveryId,
    ) -> Result<Vec<DeliveryAttempt>>;
    /// Makes deliveries due now: the one named, or every delivery of the
    /// endpoint whose last attempt failed. Returns how many.
    async fn replay(
        &self,
        brand: &BrandId,
        endpoint: &WebhookId,
        delivery: Option<&DeliveryId>,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<u64>;
    /// The brand's events, newest first.
    async fn events(&self, brand: &BrandId, limit: i64) -> Result<Vec<PlatformEvent>>;
}

/// Passport signing keys and the units made with their passports.
#[async_trait]
pub trait PassportStore: Send + Sync + 'static {
    /// The brand's keys, oldest first, each with its private half (PKCS#8,
    /// base64) for signing.
    async fn passport_keys(&self, brand: &BrandId) -> Result<Vec<(PassportKey, String)>>;
    /// Adds a key, with the audit entry of a rotation when there is one.
    async fn add_passport_key(
        &self,
        brand: &BrandId,
        key: &PassportKey,
        secret: &str,
        entry: Option<&AuditEntry>,
    ) -> Result<()>;
    /// Revokes a key from `at`, with its audit entry; `false` when the brand
    /// has no such key not revoked yet.
    async fn revoke_passport_key(
        &self,
        brand: &BrandId,
        kid: &str,
        at: Timestamp,
        entry: &AuditEntry,
    ) -> Result<bool>;
    /// Adds units in one transaction; a serial already stored is an error.
    async fn add_units(&self, brand: &BrandId, units: &[Unit]) -> Result<()>;
    async fn unit(&self, brand: &BrandId, serial: &str) -> Result<Option<Unit>>;
    /// The brands that made a unit with this serial (almost always one):
    /// where a GS1 Digital Link URI at the server's root leads. The one
    /// lookup across brands, by design: a GTIN is global.
    async fn brands_with_unit(&self, serial: &str) -> Result<Vec<Brand>>;
    /// Units of a work order, or of an order, by serial.
    async fn units_of_work_order(&self, brand: &BrandId, wo: &WorkOrderId) -> Result<Vec<Unit>>;
    async fn units_of_order(&self, brand: &BrandId, order: &OrderId) -> Result<Vec<Unit>>;
    /// Every unit the brand made, by serial (for the claims report).
    async fn units(&self, brand: &BrandId) -> Result<Vec<Unit>>;
    /// Every claim of the brand, oldest first.
    async fn claims(&self, brand: &BrandId) -> Result<Vec<Claim>>;
    /// Done work orders of order lines that have no units yet: passports
    /// still to issue (a repair or remake work order makes none).
    async fn work_orders_without_units(&self, brand: &BrandId) -> Result<Vec<WorkOrderId>>;
    /// Records a new claim, its entry on the order's timeline and its
    /// `claim.opened` event, in one transaction.
    async fn add_claim(&self, brand: &BrandId, claim: &Claim, entry: &TimelineEntry) -> Result<()>;
    async fn claim(&self, brand: &BrandId, id: &ClaimId) -> Result<Option<Claim>>;
    async fn claims_of_unit(&self, brand: &BrandId, serial: &str) -> Result<Vec<Claim>>;
    /// Records a decision: the claim as decided (with the after-sales order
    /// that carries a repair or remake, written before), the order's
    /// timeline entry and the `claim.decided` event, in one transaction.
    /// `Conflict` when the claim was decided already.
    async fn decide_claim(
        &self,
        brand: &BrandId,
        claim: &Claim,
        entry: &TimelineEntry,
    ) -> Result<()>;
    /// Claims whose repair or remake a work order carries.
    async fn claims_of_work_order(&self, brand: &BrandId, wo: &WorkOrderId) -> Result<Vec<Claim>>;
}

/// Staff accounts and their sessions.
#[async_trait]
pub trait StaffStore: Send + Sync + 'static {
    /// A new account; `Conflict` when the email has one already.
    async fn add_staff(&self, member: &StaffMember, audit: &AuditEntry) -> Result<()>;
    /// The account of an email (normalised), on any brand, removed or not.
    async fn staff_by_email(&self, email: &str) -> Result<Option<StaffMember>>;
    async fn staff_member(&self, brand: &BrandId, id: &StaffId) -> Result<Option<StaffMember>>;
    /// A brand's staff, by email.
    async fn staff(&self, brand: &BrandId) -> Result<Vec<StaffMember>>;
    async fn set_password(&self, brand: &BrandId, id: &StaffId, hash: &str) -> Result<()>;
    /// Marks the account removed and revokes its sessions, in one transaction.
    async fn remove_staff(
        &self,
        brand: &BrandId,
        id: &StaffId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool>;
    async fn add_session(&self, session: &StaffSession) -> Result<()>;
    /// A session by the hash of its secret, with its account.
    async fn session(&self, token_hash: &str) -> Result<Option<(StaffSession, StaffMember)>>;
    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<()>;
    async fn revoke_session(&self, token_hash: &str, at: Timestamp) -> Result<()>;
    /// Revokes every session of an account ("sign out everywhere").
    async fn revoke_sessions(&self, brand: &BrandId, id: &StaffId, at: Timestamp) -> Result<u64>;
    /// Failed sign-ins recorded for `key` (an account or an address) at
    /// or after `since`.
    async fn sign_in_failures(&self, key: &str, since: Timestamp) -> Result<u64>;
    /// Records a failed sign-in at `at` against each key, and forgets every
    /// failure before `forget_before` (no longer counted by anyone).
    async fn record_sign_in_failure(
        &self,
        keys: &[&str],
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()>;
    /// Forgets the failures of `key` (its account signed in).
    async fn clear_sign_in_failures(&self, key: &str) -> Result<()>;
    async fn add_staff_token(&self, token: &StaffToken) -> Result<()>;
    async fn staff_token(&self, token_hash: &str) -> Result<Option<StaffToken>>;
    /// Uses a one-time link: marks it used (if unused and unexpired at
    /// `at`), sets the member's password and ends their sessions, in one
    /// transaction. `false` when the link was used or expired.
    async fn use_staff_token(
        &self,
        token_hash: &str,
        at: Timestamp,
        password_hash: &str,
    ) -> Result<bool>;
}

/// Bulk quotes: stored whole; one acceptance per quote.
#[async_trait]
pub trait BulkStore: Send + Sync {
    async fn put_bulk_quote(&self, brand: &BrandId, quote: &BulkQuote) -> Result<()>;
    /// The quote, with the order it became once accepted.
    async fn bulk_quote(&self, brand: &BrandId, id: &QuoteId) -> Result<Option<BulkQuote>>;
    /// Takes the quote for the acceptance with this Idempotency-Key: true if
    /// no other key holds it (across servers: one conditional update).
    async fn claim_bulk_quote(&self, brand: &BrandId, id: &QuoteId, key: &str) -> Result<bool>;
    /// Lets go of a quote whose acceptance failed before placing an order.
    async fn release_bulk_quote(&self, brand: &BrandId, id: &QuoteId, key: &str) -> Result<()>;
    async fn set_bulk_quote_order(
        &self,
        brand: &BrandId,
        id: &QuoteId,
        order: &OrderId,
    ) -> Result<()>;
    async fn add_business_customer(
        &self,
        brand: &BrandId,
        customer: &BusinessCustomer,
    ) -> Result<()>;
    async fn business_customer(
        &self,
        brand: &BrandId,
        id: &BusinessCustomerId,
    ) -> Result<Option<BusinessCustomer>>;
    /// Every business customer of the brand, by company.
    async fn business_customers(&self, brand: &BrandId) -> Result<Vec<BusinessCustomer>>;
}

/// Brand leases between servers sharing one database (see [`crate::lease`]).
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// The leases this process holds, or `None` when it needs none (the
    /// embedded store, or a database only one server uses).
    fn leases(&self) -> Option<&crate::Leases>;
    /// Takes (or renews) the brand's lease for this process, or says who
    /// holds it. Without leases, always held.
    async fn take_lease(&self, brand: &BrandId) -> Result<crate::Lease>;
    /// Renews every lease held; returns the brands another server took.
    async fn renew_leases(&self) -> Result<Vec<BrandId>>;
    /// Gives every lease back at once (a clean shutdown), so another server
    /// takes the brands without waiting for them to expire.
    async fn release_leases(&self) -> Result<()>;
    /// Holds `brand`'s lock for `work` across every server on the database
    /// until the guard drops (see [`crate::lock`]). Without leases (the
    /// embedded store, or a database one server uses) the guard is empty.
    async fn lock_brand(&self, brand: &BrandId, work: crate::BrandWork)
    -> Result<crate::BrandLock>;
    /// Claims this period of `brand`'s periodic `job` for this server: its
    /// last run (`None`: never) when the last was `every` or longer before
    /// `now` (or is after `now`: a server whose clock ran ahead) and no other
    /// server claimed it first; `None` otherwise. The claim is a
    /// compare-and-set of the run's time, so one server wins.
    async fn claim_brand_job(
        &self,
        brand: &BrandId,
        job: &str,
        every: std::time::Duration,
        now: Timestamp,
    ) -> Result<Option<crate::JobClaim>>;
    /// Gives back the claim made at `claimed` (the job did not run), putting
    /// its last run back to `previous`, unless another claim came since.
    async fn return_brand_job(
        &self,
        brand: &BrandId,
        job: &str,
        claimed: Timestamp,
        previous: Option<Timestamp>,
    ) -> Result<()>;
}

/// A period of a brand's periodic job, claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobClaim {
    /// When the job last ran, on any server; `None`: never.
    pub previous: Option<Timestamp>,
}

/// The factory floor's events, each machine's state and own downtime.
#[async_trait]
pub trait FloorStore: Send + Sync {
    /// Keeps the events not known yet; one whose machine and `seq` are stored
    /// already is a duplicate and is dropped. Returns how many were new.
    async fn receive_machine_events(
        &self,
        brand: &BrandId,
        events: &[MachineEvent],
        received_at: Timestamp,
    ) -> Result<u64>;
    /// Up to `limit` events not applied yet, in the order they happened on
    /// the floor (`at`), a machine's in `seq` order.
    async fn pending_machine_events(
        &self,
        brand: &BrandId,
        limit: i64,
    ) -> Result<Vec<MachineEvent>>;
    /// Every machine the floor has reported on.
    async fn machine_states(&self, brand: &BrandId) -> Result<Vec<MachineState>>;
    /// Machines' own downtimes ending after `after`.
    async fn machine_downtimes(
        &self,
        brand: &BrandId,
        after: Timestamp,
    ) -> Result<Vec<MachineDowntime>>;
    /// Records, in one transaction fenced by the brand's lease: events
    /// applied with their outcome, the machines' new states, a machine's
    /// downtime opened or changed, and the replan it caused (as
    /// [`PlanningStore::record_replan`] does: bookings, promises, timeline
    /// entries and `order.promise_moved` events).
    async fn record_floor(
        &self,
        brand: &BrandId,
        applied: &[EventOutcome],
        states: &[MachineState],
        downtime: Option<&MachineDowntime>,
        repromises: &[Repromise],
        at: Timestamp,
    ) -> Result<()>;
}
