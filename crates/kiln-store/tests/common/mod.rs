//! What the store's test files share: the harness that runs each behaviour
//! on both backends, and the fixtures the behaviours are written with.
//!
//! Each behaviour runs on SQLite in a fresh temporary directory, always; and
//! on PostgreSQL in a fresh database when `KILN_TEST_POSTGRES` holds a server
//! URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`). Every PostgreSQL
//! test has `postgres` in its path (`postgres::...`), so `cargo test --
//! postgres` runs exactly those.

// Each test file uses its own part of the fixtures.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;

use kiln_store::prelude::*;
use kiln_store::{
    Address, ApiKey, ApiKeyId, AuditAction, AuditEntry, AuditId, BookingRow, Brand, BrandId,
    CatalogFile, CatalogVersion, Channel, Customer, CustomerId, Date, Decimal, EventType, FileKind,
    MaterialRow, NewApiKey, NewOrder, OperationAction, OperationChange, OperationStatus, Order,
    OrderId, OrderLine, OrderStatus, Payment, PaymentStatus, PlatformEvent, PostgresStore,
    PurchaseSuggestion, Requirement, Scope, Selections, Shipment, ShipmentId, ShipmentStatus, Slug,
    SqliteStore, StoreError, SuggestionId, TimelineEntry, TimelineEntryId, TimelineStatus,
    Timestamp, WorkOrderId, WorkOrderOperation, WorkOrderWrite,
};

// ---------------------------------------------------------------------------
// Harness: one fresh store per test, cleaned up afterwards.

/// Where a test's store lives, to be removed when the test ends.
pub enum Scratch {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

pub async fn sqlite_store() -> (Arc<dyn Store>, Scratch) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open_dir(dir.path())
        .await
        .expect("SQLite opens and migrates");
    (Arc::new(store), Scratch::Dir(dir))
}

/// A fresh database on the server at `KILN_TEST_POSTGRES`, or `None` (skip).
pub async fn postgres_store(test: &str) -> Option<(Arc<dyn Store>, Scratch)> {
    let Ok(admin_url) = std::env::var("KILN_TEST_POSTGRES") else {
        eprintln!("skipping {test}: set KILN_TEST_POSTGRES=postgres://... to run it");
        return None;
    };
    let name = format!("kiln_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = connect(&admin_url).await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    drop(admin);
    let url = database_url(&admin_url, &name);
    let store = PostgresStore::open(&url)
        .await
        .expect("PostgreSQL opens and migrates");
    Some((Arc::new(store), Scratch::Postgres { admin_url, name }))
}

async fn connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection as _;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

/// `admin_url` with its database name replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..host_end])
}

impl Scratch {
    async fn remove(self) {
        if let Scratch::Postgres { admin_url, name } = self {
            // Best effort: a failed drop leaves a stray database, not a failure.
            let mut admin = connect(&admin_url).await;
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
            {
                eprintln!("could not drop {name}: {e}");
            }
        }
    }
}

/// Runs `body` on a fresh store, cleans up whether it passed or panicked,
/// then passes the panic on.
pub async fn run<F, Fut>(store: Option<(Arc<dyn Store>, Scratch)>, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((store, scratch)) = store else {
        return;
    };
    let outcome = tokio::spawn(body(store)).await;
    scratch.remove().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Instantiates each behaviour (a function of the test file's root) for both
/// backends: `sqlite::NAME` and `postgres::NAME`.
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::common::run(
                        Some($crate::common::sqlite_store().await),
                        super::$name,
                    )
                    .await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let test = concat!("postgres::", stringify!($name));
                    $crate::common::run($crate::common::postgres_store(test).await, super::$name)
                        .await;
                }
            )*
        }
    };
}

// ---------------------------------------------------------------------------
// Values.

/// The tests' epoch, in milliseconds.
pub const T0: i64 = 1_750_000_000_000;

/// An instant, `ms` milliseconds after the Unix epoch.
pub fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).expect("a timestamp")
}

pub fn day(text: &str) -> Date {
    text.parse().expect("an ISO date")
}

pub fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

pub fn selections(pairs: &[(&str, &str)]) -> Selections {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn assert_conflict<T: std::fmt::Debug>(r: kiln_store::Result<T>, what: &str) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}

pub fn assert_not_found<T: std::fmt::Debug>(r: kiln_store::Result<T>, what: &str) {
    match r {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected not found, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Brands and keys.

pub fn audit(brand: Option<&BrandId>, action: AuditAction, subject: &str, ms: i64) -> AuditEntry {
    AuditEntry {
        id: AuditId::new(),
        brand_id: brand.cloned(),
        actor: "cli".into(),
        action,
        subject: subject.into(),
        detail: format!("{action} {subject}"),
        at: at(ms),
    }
}

/// A key of `brand` whose secret hashes to `hash`.
pub fn new_key(brand: &BrandId, id: &str, hash: &str, scopes: &[Scope], ms: i64) -> NewApiKey {
    NewApiKey {
        key: ApiKey {
            id: ApiKeyId::from(id),
            brand_id: brand.clone(),
            label: format!("label of {id}"),
            scopes: scopes.to_vec(),
            prefix: format!("kiln_{}", &id[..id.len().min(4)]),
            created_at: at(ms),
            expires_at: None,
            revoked_at: None,
        },
        hash: hash.into(),
    }
}

/// The hash of the key `brand(store, slug)` issues with the brand.
pub fn first_key_hash(slug: &str) -> String {
    format!("{slug:0>64}")
}

/// Creates the brand `brd_{slug}` with its first key, `key_{slug}`.
pub async fn brand(store: &dyn Store, slug: &str) -> Brand {
    let b = Brand {
        id: BrandId::from(format!("brd_{slug}")),
        slug: Slug::parse(slug).expect("a valid slug"),
        name: format!("Brand {slug}"),
    };
    let key = new_key(
        &b.id,
        &format!("key_{slug}"),
        &first_key_hash(slug),
        &[Scope::Admin],
        T0,
    );
    let entry = audit(Some(&b.id), AuditAction::BrandCreated, slug, T0);
    store
        .create_brand(&b, &key, &entry)
        .await
        .expect("create_brand");
    b
}

// ---------------------------------------------------------------------------
// Catalogs.

pub fn file(kind: FileKind, name: &str, source: &str) -> CatalogFile {
    CatalogFile {
        kind,
        name: name.into(),
        source: source.into(),
    }
}

pub fn material(id: &str, on_hand: &str) -> MaterialRow {
    MaterialRow {
        id: id.into(),
        on_hand: dec(on_hand),
    }
}

pub fn catalog_version(version: i64, products: &[&str], ms: i64) -> CatalogVersion {
    CatalogVersion {
        version,
        published_at: at(ms),
        published_by: "cli".into(),
        products: products.iter().map(|p| p.to_string()).collect(),
    }
}

/// Publishes `version` of `brand`'s catalog, with its event and audit entry.
pub async fn publish(
    store: &dyn Store,
    brand: &BrandId,
    version: &CatalogVersion,
    files: &[CatalogFile],
    materials: &[MaterialRow],
) -> kiln_store::Result<()> {
    let at = version.published_at;
    let event = PlatformEvent::new(brand, EventType::CatalogPublished, at, version);
    let entry = AuditEntry {
        at,
        ..audit(
            Some(brand),
            AuditAction::CatalogPublished,
            &version.version.to_string(),
            0,
        )
    };
    store
        .publish_catalog(brand, version, files, materials, &event, &entry)
        .await
}

// ---------------------------------------------------------------------------
// Orders and work orders.

pub fn wo(id: &str) -> WorkOrderId {
    WorkOrderId::from(id)
}

pub fn ord(id: &str) -> OrderId {
    OrderId::from(id)
}

pub fn ops(n: i64) -> Vec<WorkOrderOperation> {
    (1..=n)
        .map(|seq| WorkOrderOperation {
            seq,
            operation: format!("op{seq}"),
            name: format!("Operation {seq}"),
            work_center: format!("wc{seq}"),
            setup_minutes: dec("10"),
            run_minutes: dec("2.5"),
            status: OperationStatus::Pending,
            started_at: None,
            completed_at: None,
            scrap: 0,
        })
        .collect()
}

pub fn create_wo(id: &str, sku: &str, quantity: i64, n_ops: i64) -> WorkOrderWrite {
    WorkOrderWrite::Create {
        id: wo(id),
        sku: sku.into(),
        product_id: "mug".into(),
        quantity,
        catalog_version: 1,
        operations: ops(n_ops),
    }
}

pub fn add_to(id: &str, quantity: i64) -> WorkOrderWrite {
    WorkOrderWrite::AddQuantity {
        id: wo(id),
        quantity,
    }
}

pub fn ship_to() -> Address {
    Address {
        name: "Ada".into(),
        line1: "1 Way".into(),
        line2: None,
        city: "London".into(),
        postal_code: "N1".into(),
        region: None,
        country: "GB".into(),
    }
}

/// The booking of line 1's first operation of order `id`.
pub fn booking(id: &str) -> BookingRow {
    BookingRow {
        order_id: ord(id),
        line_no: 1,
        operation: "op1".into(),
        work_center: "wc1".into(),
        day: Some(day("2026-01-12")),
        minutes: 25,
        seq: 1,
        machine: 0,
        setup_start: 29_470_080,
        start_at: 29_470_090,
        end_at: 29_470_115,
        setup_minutes: 10,
        changeover: 10,
        release_at: 29_469_600,
        due_day: Some(day("2026-01-15")),
        made_on: None,
    }
}

/// An order of one line of `quantity` units into work order `wo`.
pub fn order(
    brand: &Brand,
    id: &str,
    key: Option<&str>,
    email: &str,
    quantity: i64,
    wo: WorkOrderWrite,
) -> NewOrder {
    let (wo_id, sku) = match &wo {
        WorkOrderWrite::Create { id, sku, .. } => (id.clone(), sku.clone()),
        WorkOrderWrite::AddQuantity { id, .. } => (id.clone(), "MUG-M-CLASSIC".into()),
    };
    let entry = |n: u32, status, note: &str| TimelineEntry {
        id: TimelineEntryId::from(format!("evt_{id}_{n}")),
        status,
        note: note.into(),
        at: at(T0),
    };
    NewOrder {
        brand_id: brand.id.clone(),
        id: ord(id),
        idempotency_key: key.map(str::to_string),
        request_hash: format!("hash-{id}"),
        access_token: format!("tok-{id}"),
        customer: Customer {
            id: CustomerId::from(format!("cus_{id}")),
            email: email.into(),
            name: "Ada Lovelace".into(),
            phone: Some("+44 20 0000 0000".into()),
        },
        proven: true,
        ship_policy: kiln_domain::ShipPolicy::Complete,
        channel: Channel::Online,
        store_id: None,
        ship_to: ship_to(),
        status: OrderStatus::Planned,
        currency: "EUR".into(),
        total: dec("27.00"),
        shipping: dec("4.90"),
        tax: dec("4.31"),
        promised_date: day("2026-01-15"),
        created_at: at(T0),
        lines: vec![OrderLine {
            line_no: 1,
            product_id: "mug".into(),
            selections: selections(&[("size", "M")]),
            sku,
            quantity,
            unit_price: dec("13.50"),
            work_order_id: wo_id,
            catalog_version: 1,
            promised_date: Some(day("2026-01-15")),
            recipient: None,
            cancelled_at: None,
        }],
        staged: None,
        work_orders: vec![wo],
        bookings: vec![booking(id)],
        rebooked: Vec::new(),
        requirements: vec![
            Requirement {
                material: "clay".into(),
                gross: dec("0.76"),
                allocated: dec("0.76"),
                shortage: dec("0"),
            },
            Requirement {
                material: "box".into(),
                gross: dec("2"),
                allocated: dec("1"),
                shortage: dec("1"),
            },
        ],
        suggestions: vec![PurchaseSuggestion {
            id: SuggestionId::from(format!("pur_{id}")),
            order_id: id.into(),
            material: "box".into(),
            qty: dec("50"),
            order_by: day("2026-01-05"),
            arrives: day("2026-01-09"),
            need_by: day("2026-01-12"),
        }],
        timeline: vec![
            entry(1, TimelineStatus::Ordered, "received through online"),
            entry(2, TimelineStatus::Planned, "planned"),
        ],
        payment: Payment {
            provider: "manual".into(),
            status: PaymentStatus::AwaitingPayment,
            amount: dec("24.00"),
            currency: "EUR".into(),
            reference: format!("KILN-{id}"),
            instructions: "pay by transfer".into(),
        },
    }
}

/// Places a one-line order of one unit into a new one-operation work order
/// `wo_{id}`.
pub async fn placed_order(store: &dyn Store, a: &Brand, id: &str) {
    let wo = format!("wo_{id}");
    store
        .place_order(&order(
            a,
            id,
            None,
            "ada@example.com",
            1,
            create_wo(&wo, &format!("SKU-{id}"), 1, 1),
        ))
        .await
        .expect("place_order");
}

/// Places an order with a one-operation work order (`wo_{id}`) and makes it.
pub async fn made_order(store: &dyn Store, a: &Brand, id: &str) {
    placed_order(store, a, id).await;
    let wo = format!("wo_{id}");
    start(store, a, &wo, 1, T0 + 10).await.unwrap();
    complete(store, a, &wo, 1, T0 + 20).await.unwrap();
}

pub async fn start(
    store: &dyn Store,
    b: &Brand,
    work_order: &str,
    seq: i64,
    ms: i64,
) -> kiln_store::Result<OperationChange> {
    store
        .record_operation(&b.id, &wo(work_order), seq, OperationAction::Start, at(ms))
        .await
}

pub async fn complete(
    store: &dyn Store,
    b: &Brand,
    work_order: &str,
    seq: i64,
    ms: i64,
) -> kiln_store::Result<OperationChange> {
    let action = OperationAction::Complete { scrap: 1 };
    store
        .record_operation(&b.id, &wo(work_order), seq, action, at(ms))
        .await
}

/// The order's timeline, by status.
pub fn statuses(o: &Order) -> Vec<&str> {
    o.timeline.iter().map(|e| e.status.as_str()).collect()
}

pub fn shipment(id: &str, order_id: &str, ms: i64) -> Shipment {
    Shipment {
        id: ShipmentId::from(id),
        order_id: ord(order_id),
        carrier: "DHL".into(),
        tracking_number: "JD0001".into(),
        lines: Vec::new(),
        service: None,
        parcels: Vec::new(),
        promised_date: None,
        late_days: None,
        status: ShipmentStatus::InTransit,
        created_at: at(ms),
        delivered_at: None,
    }
}
