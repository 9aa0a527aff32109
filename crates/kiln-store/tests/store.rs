//! Behaviour of the `Store` trait, written once and run against both
//! backends: SQLite in a fresh temporary directory per test, always; and
//! PostgreSQL in a fresh database per test when `KILN_TEST_POSTGRES` holds a
//! server URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! Every PostgreSQL test has `postgres` in its path (`postgres::...`), so
//! `cargo test -- postgres` runs exactly those.

use std::future::Future;
use std::sync::Arc;

use kiln_store::{
    BookingRow, Brand, CatalogFile, Customer, Downtime, MaterialRow, NewOrder, OperationAction,
    OrderEvent, OrderLine, Payment, Placed, PostgresStore, PurchaseSuggestion, Repromise,
    Requirement, SalesLine, Shipment, SqliteStore, Store, StoreError, WorkOrderOperation,
    WorkOrderWrite, status,
};

// ---------------------------------------------------------------------------
// Harness: one fresh store per test, cleaned up afterwards.

/// Where a test's store lives, to be removed when the test ends.
enum Scratch {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

async fn sqlite_store() -> (Arc<dyn Store>, Scratch) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open_dir(dir.path())
        .await
        .expect("SQLite opens and migrates");
    (Arc::new(store), Scratch::Dir(dir))
}

/// A fresh database on the server at `KILN_TEST_POSTGRES`, or `None` (skip).
async fn postgres_store(test: &str) -> Option<(Arc<dyn Store>, Scratch)> {
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
async fn run<F, Fut>(store: Option<(Arc<dyn Store>, Scratch)>, body: F)
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

/// Instantiates each behaviour for both backends: `sqlite::NAME` and
/// `postgres::NAME`.
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::run(Some(super::sqlite_store().await), super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let test = concat!("postgres::", stringify!($name));
                    super::run(super::postgres_store(test).await, super::$name).await;
                }
            )*
        }
    };
}

store_tests!(
    brands_and_api_keys,
    catalog_files_upsert,
    seed_materials_keeps_existing_positions,
    place_order_writes_everything_once,
    place_orders_batch_one_result_each,
    order_reads_lines_events_requirements,
    orders_list_filters_by_customer,
    work_orders_batch_by_sku,
    add_quantity_to_a_started_work_order_is_refused,
    record_operation_transitions,
    shipment_only_after_made,
    tenancy_brand_b_never_sees_brand_a,
    downtime_replaces_bookings_and_moves_promises,
    sales_history_imports_once_and_reads_with_orders,
);

// ---------------------------------------------------------------------------
// Fixtures.

const T0: i64 = 1_750_000_000_000;

async fn brand(store: &dyn Store, slug: &str) -> Brand {
    let b = Brand {
        id: format!("brd_{slug}"),
        slug: slug.into(),
        name: format!("Brand {slug}"),
    };
    store.create_brand(&b, T0).await.expect("create_brand");
    b
}

fn ops(n: i64) -> Vec<WorkOrderOperation> {
    (1..=n)
        .map(|seq| WorkOrderOperation {
            seq,
            operation: format!("op{seq}"),
            name: format!("Operation {seq}"),
            work_center: format!("wc{seq}"),
            setup_minutes: "10".into(),
            run_minutes: "2.5".into(),
            status: "pending".into(),
            started_at: None,
            completed_at: None,
            scrap: 0,
        })
        .collect()
}

fn create_wo(id: &str, sku: &str, quantity: i64, n_ops: i64) -> WorkOrderWrite {
    WorkOrderWrite::Create {
        id: id.into(),
        sku: sku.into(),
        product_id: "mug".into(),
        quantity,
        operations: ops(n_ops),
    }
}

/// An order of one line of `quantity` units into work order `wo`.
fn order(
    brand: &Brand,
    id: &str,
    key: Option<&str>,
    email: &str,
    quantity: i64,
    wo: WorkOrderWrite,
) -> NewOrder {
    let wo_id = match &wo {
        WorkOrderWrite::Create { id, .. } | WorkOrderWrite::AddQuantity { id, .. } => id.clone(),
    };
    let sku = match &wo {
        WorkOrderWrite::Create { sku, .. } => sku.clone(),
        WorkOrderWrite::AddQuantity { .. } => "MUG-M-CLASSIC".into(),
    };
    NewOrder {
        brand_id: brand.id.clone(),
        id: id.into(),
        idempotency_key: key.map(str::to_string),
        request_hash: format!("hash-{id}"),
        access_token: format!("tok-{id}"),
        customer: Customer {
            id: format!("cus_{id}"),
            email: email.into(),
            name: "Ada Lovelace".into(),
            phone: Some("+44 20 0000 0000".into()),
        },
        channel: "online".into(),
        store_id: None,
        ship_to:
            r#"{"name":"Ada","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"}"#
                .into(),
        status: status::PLANNED.into(),
        currency: "EUR".into(),
        total: "27.00".into(),
        promised_date: "2026-01-15".into(),
        created_at: T0,
        lines: vec![OrderLine {
            line_no: 1,
            product_id: "mug".into(),
            selections: r#"{"size":"M"}"#.into(),
            sku,
            quantity,
            unit_price: "13.50".into(),
            work_order_id: wo_id,
        }],
        work_orders: vec![wo],
        bookings: vec![BookingRow {
            order_id: id.into(),
            line_no: 1,
            operation: "op1".into(),
            work_center: "wc1".into(),
            day: "2026-01-12".into(),
            minutes: 25,
            seq: 1,
            machine: 0,
            setup_start: 29_470_080,
            start_at: 29_470_090,
            end_at: 29_470_115,
            setup_minutes: 10,
            changeover: 10,
            release_at: 29_469_600,
            due_day: "2026-01-15".into(),
        }],
        rebooked: Vec::new(),
        requirements: vec![
            Requirement {
                material: "clay".into(),
                gross: "0.76".into(),
                allocated: "0.76".into(),
                shortage: "0".into(),
            },
            Requirement {
                material: "box".into(),
                gross: "2".into(),
                allocated: "1".into(),
                shortage: "1".into(),
            },
        ],
        suggestions: vec![PurchaseSuggestion {
            id: format!("pur_{id}"),
            order_id: id.into(),
            material: "box".into(),
            qty: "50".into(),
            order_by: "2026-01-05".into(),
            arrives: "2026-01-09".into(),
            need_by: "2026-01-12".into(),
        }],
        events: vec![
            OrderEvent {
                id: format!("evt_{id}_1"),
                status: "ordered".into(),
                note: "received through online".into(),
                at: T0,
            },
            OrderEvent {
                id: format!("evt_{id}_2"),
                status: status::PLANNED.into(),
                note: "planned".into(),
                at: T0,
            },
        ],
        payment: Payment {
            provider: "manual".into(),
            status: "awaiting_payment".into(),
            amount: "24.00".into(),
            currency: "EUR".into(),
            reference: format!("KILN-{id}"),
            instructions: "pay by transfer".into(),
        },
    }
}

/// Event ids that sort in the order they are handed out.
fn event_ids(prefix: &str) -> impl Iterator<Item = String> + Send + use<> {
    let prefix = prefix.to_string();
    (0..).map(move |i| format!("evt_{prefix}_{i:04}"))
}

async fn start(
    store: &dyn Store,
    b: &Brand,
    wo: &str,
    seq: i64,
    at: i64,
) -> kiln_store::Result<kiln_store::OperationChange> {
    let mut ids = event_ids(&format!("{wo}_{seq}_s"));
    store
        .record_operation(&b.id, wo, seq, OperationAction::Start, at, &mut ids)
        .await
}

async fn complete(
    store: &dyn Store,
    b: &Brand,
    wo: &str,
    seq: i64,
    at: i64,
) -> kiln_store::Result<kiln_store::OperationChange> {
    let mut ids = event_ids(&format!("{wo}_{seq}_c"));
    store
        .record_operation(
            &b.id,
            wo,
            seq,
            OperationAction::Complete { scrap: 1 },
            at,
            &mut ids,
        )
        .await
}

fn assert_conflict<T: std::fmt::Debug>(r: kiln_store::Result<T>, what: &str) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}

fn assert_not_found<T: std::fmt::Debug>(r: kiln_store::Result<T>, what: &str) {
    match r {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected not found, got {other:?}"),
    }
}

fn statuses(o: &kiln_store::Order) -> Vec<&str> {
    o.events.iter().map(|e| e.status.as_str()).collect()
}

// ---------------------------------------------------------------------------
// Behaviours.

async fn brands_and_api_keys(store: Arc<dyn Store>) {
    let store = store.as_ref();
    store.ping().await.expect("ping");
    let b = brand(store, "bravo").await;
    let a = brand(store, "alpha").await;
    assert_eq!(store.brand_by_slug("alpha").await.unwrap(), Some(a.clone()));
    assert_eq!(store.brand_by_slug("nope").await.unwrap(), None);
    assert_eq!(store.brands().await.unwrap(), vec![a.clone(), b.clone()]);
    // A second brand with the same slug is refused.
    let dup = Brand {
        id: "brd_other".into(),
        slug: "alpha".into(),
        name: "Dup".into(),
    };
    assert!(store.create_brand(&dup, T0).await.is_err());

    let hash_a = "a".repeat(64);
    let hash_b = "b".repeat(64);
    store.add_api_key(&a.id, &hash_a, "ci", T0).await.unwrap();
    store.add_api_key(&b.id, &hash_b, "ci", T0).await.unwrap();
    assert_eq!(store.brand_by_key_hash(&hash_a).await.unwrap(), Some(a));
    assert_eq!(store.brand_by_key_hash(&hash_b).await.unwrap(), Some(b));
    assert_eq!(
        store.brand_by_key_hash(&"c".repeat(64)).await.unwrap(),
        None
    );
}

async fn catalog_files_upsert(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let file = |kind: &str, name: &str, source: &str| CatalogFile {
        kind: kind.into(),
        name: name.into(),
        source: source.into(),
    };
    store
        .put_catalog_file(&a.id, &file("product", "mug.toml", "v1"), T0)
        .await
        .unwrap();
    store
        .put_catalog_file(&a.id, &file("factory", "factory.toml", "f1"), T0)
        .await
        .unwrap();
    store
        .put_catalog_file(&a.id, &file("product", "mug.toml", "v2"), T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        store.catalog_files(&a.id).await.unwrap(),
        vec![
            file("factory", "factory.toml", "f1"),
            file("product", "mug.toml", "v2")
        ]
    );
    assert!(store.catalog_files(&b.id).await.unwrap().is_empty());
}

async fn seed_materials_keeps_existing_positions(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let row = |id: &str, on_hand: &str| MaterialRow {
        id: id.into(),
        on_hand: on_hand.into(),
    };
    store
        .seed_materials(&a.id, &[row("clay", "10")])
        .await
        .unwrap();
    // Seeding again adds the new material and keeps the stored position.
    store
        .seed_materials(&a.id, &[row("clay", "99"), row("box", "5")])
        .await
        .unwrap();
    assert_eq!(
        store.materials(&a.id).await.unwrap(),
        vec![row("box", "5"), row("clay", "10")]
    );
    // Placing an order does not rewrite the stored stock.
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 1),
        ))
        .await
        .unwrap();
    assert_eq!(
        store.materials(&a.id).await.unwrap(),
        vec![row("box", "5"), row("clay", "10")]
    );
    // Another brand's materials are its own.
    store
        .seed_materials(&b.id, &[row("clay", "1")])
        .await
        .unwrap();
    assert_eq!(
        store.materials(&b.id).await.unwrap(),
        vec![row("clay", "1")]
    );
    assert_eq!(store.materials(&a.id).await.unwrap()[1], row("clay", "10"));
}

async fn place_order_writes_everything_once(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .seed_materials(
            &a.id,
            &[MaterialRow {
                id: "clay".into(),
                on_hand: "10".into(),
            }],
        )
        .await
        .unwrap();
    let materials = store.materials(&a.id).await.unwrap();
    let first = order(
        &a,
        "ord_1",
        Some("key-1"),
        "ada@example.com",
        2,
        create_wo("wo_1", "MUG-M", 2, 2),
    );
    assert_eq!(
        store.place_order(&first).await.unwrap(),
        Placed::Created {
            customer_id: "cus_ord_1".into()
        }
    );

    let placed = store
        .order(&a.id, "ord_1")
        .await
        .unwrap()
        .expect("the order");
    assert_eq!(placed.status, status::PLANNED);
    assert_eq!(placed.total, "27.00");
    assert_eq!(placed.promised_date, "2026-01-15");
    assert_eq!(placed.customer.email, "ada@example.com");
    assert_eq!(placed.request_hash, "hash-ord_1");
    assert_eq!(placed.access_token, "tok-ord_1");
    let by_key = store
        .order_by_idempotency_key(&a.id, "key-1")
        .await
        .unwrap()
        .expect("found by its key");
    assert_eq!(by_key, placed);
    assert_eq!(store.bookings(&a.id).await.unwrap(), first.bookings);
    assert_eq!(store.suggestions(&a.id).await.unwrap(), first.suggestions);
    assert_eq!(store.requirements(&a.id).await.unwrap().len(), 2);
    assert_eq!(
        store.planned_work_orders(&a.id).await.unwrap(),
        vec![("MUG-M".to_string(), "wo_1".to_string())]
    );

    // The same key again, whatever the rest says: nothing is written.
    let retry = order(
        &a,
        "ord_2",
        Some("key-1"),
        "bob@example.com",
        5,
        create_wo("wo_2", "MUG-L", 5, 1),
    );
    assert_eq!(
        store.place_order(&retry).await.unwrap(),
        Placed::Existing {
            order_id: "ord_1".into()
        }
    );
    assert_eq!(store.order(&a.id, "ord_2").await.unwrap(), None);
    assert_eq!(store.orders(&a.id, None, 100).await.unwrap().len(), 1);
    assert_eq!(
        store
            .orders(&a.id, Some("bob@example.com"), 100)
            .await
            .unwrap()
            .len(),
        0
    );
    let wos = store.work_orders(&a.id, false).await.unwrap();
    assert_eq!(wos.len(), 1);
    assert_eq!(wos[0].quantity, 2);
    assert_eq!(store.bookings(&a.id).await.unwrap(), first.bookings);
    assert_eq!(store.suggestions(&a.id).await.unwrap(), first.suggestions);
    assert_eq!(store.requirements(&a.id).await.unwrap().len(), 2);
    assert_eq!(store.materials(&a.id).await.unwrap(), materials);
    assert_eq!(store.order(&a.id, "ord_1").await.unwrap(), Some(placed));

    // Without a key, every placement is a new order.
    let keyless = order(
        &a,
        "ord_3",
        None,
        "ada@example.com",
        1,
        create_wo("wo_3", "MUG-S", 1, 1),
    );
    // The customer is the one already stored under that email.
    assert_eq!(
        store.place_order(&keyless).await.unwrap(),
        Placed::Created {
            customer_id: "cus_ord_1".into()
        }
    );
    assert_eq!(store.orders(&a.id, None, 100).await.unwrap().len(), 2);
}

async fn place_orders_batch_one_result_each(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let earlier = order(
        &a,
        "ord_0",
        Some("k0"),
        "zed@example.com",
        1,
        create_wo("wo_0", "MUG-S", 1, 1),
    );
    store.place_order(&earlier).await.unwrap();

    let add = |id: &str, quantity| WorkOrderWrite::AddQuantity {
        id: id.into(),
        quantity,
    };
    let batch = vec![
        // A new work order, and a second order batching into it.
        order(
            &a,
            "ord_1",
            Some("k1"),
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 2),
        ),
        order(
            &a,
            "ord_2",
            Some("k2"),
            "bob@example.com",
            3,
            add("wo_1", 3),
        ),
        // A key that is already taken.
        order(
            &a,
            "ord_3",
            Some("k0"),
            "cy@example.com",
            1,
            create_wo("wo_3", "MUG-L", 1, 1),
        ),
        // A work order that does not exist.
        order(
            &a,
            "ord_4",
            Some("k4"),
            "dee@example.com",
            1,
            add("wo_missing", 1),
        ),
        // The same key twice in one batch: the first one wins.
        order(
            &a,
            "ord_5",
            Some("k5"),
            "eve@example.com",
            1,
            create_wo("wo_5", "MUG-XL", 1, 1),
        ),
        order(
            &a,
            "ord_6",
            Some("k5"),
            "eve@example.com",
            1,
            create_wo("wo_6", "MUG-XS", 1, 1),
        ),
    ];
    let placed = store.place_orders(&batch).await;
    assert_eq!(placed.len(), batch.len());
    let mut placed = placed.into_iter();
    let mut next = || placed.next().unwrap();
    assert_eq!(
        next().unwrap(),
        Placed::Created {
            customer_id: "cus_ord_1".into()
        }
    );
    assert_eq!(
        next().unwrap(),
        Placed::Created {
            customer_id: "cus_ord_2".into()
        }
    );
    assert_eq!(
        next().unwrap(),
        Placed::Existing {
            order_id: "ord_0".into()
        }
    );
    assert_conflict(next(), "adding to a missing work order");
    assert_eq!(
        next().unwrap(),
        Placed::Created {
            customer_id: "cus_ord_5".into()
        }
    );
    assert_eq!(
        next().unwrap(),
        Placed::Existing {
            order_id: "ord_5".into()
        }
    );

    let ids = |v: Vec<kiln_store::OrderSummary>| {
        let mut ids: Vec<String> = v.into_iter().map(|s| s.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(store.orders(&a.id, None, 100).await.unwrap()),
        ["ord_0", "ord_1", "ord_2", "ord_5"]
    );
    let wo = store.work_order(&a.id, "wo_1").await.unwrap().unwrap();
    assert_eq!(wo.quantity, 5);
    assert_eq!(wo.order_ids, ["ord_1", "ord_2"]);
    for gone in ["wo_3", "wo_6"] {
        assert_eq!(store.work_order(&a.id, gone).await.unwrap(), None, "{gone}");
    }
    // Only the placed orders' rows exist.
    let mut booked: Vec<String> = store
        .bookings(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.order_id)
        .collect();
    booked.sort();
    assert_eq!(booked, ["ord_0", "ord_1", "ord_2", "ord_5"]);
    assert_eq!(store.suggestions(&a.id).await.unwrap().len(), 4);
    assert_eq!(store.requirements(&a.id).await.unwrap().len(), 8);
    assert_eq!(
        store.order_by_idempotency_key(&a.id, "k4").await.unwrap(),
        None
    );
    assert!(store.place_orders(&[]).await.is_empty());
}

async fn order_reads_lines_events_requirements(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let new = order(
        &a,
        "ord_1",
        None,
        "ada@example.com",
        2,
        create_wo("wo_1", "MUG-M", 2, 2),
    );
    store.place_order(&new).await.unwrap();
    let o = store.order(&a.id, "ord_1").await.unwrap().unwrap();
    assert_eq!(o.id, "ord_1");
    assert_eq!(o.lines, new.lines);
    assert_eq!(o.events, new.events);
    assert_eq!(statuses(&o), ["ordered", "planned"]);
    // Requirements come back sorted by material.
    let mut requirements = new.requirements.clone();
    requirements.sort_by(|x, y| x.material.cmp(&y.material));
    assert_eq!(o.requirements, requirements);
    assert!(o.shipments.is_empty());
    assert_eq!(o.ship_to, new.ship_to);
    assert_eq!(o.channel, "online");
    assert_eq!(o.store_id, None);
    assert_eq!(o.customer.phone.as_deref(), Some("+44 20 0000 0000"));
    assert_eq!(store.order(&a.id, "ord_missing").await.unwrap(), None);

    let wo = store.work_order(&a.id, "wo_1").await.unwrap().unwrap();
    assert_eq!(wo.sku, "MUG-M");
    assert_eq!(wo.status, "planned");
    assert_eq!(wo.operations, ops(2));
    assert_eq!(wo.order_ids, vec!["ord_1".to_string()]);
}

async fn orders_list_filters_by_customer(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let mut o1 = order(
        &a,
        "ord_1",
        None,
        "ada@example.com",
        1,
        create_wo("wo_1", "MUG-M", 1, 1),
    );
    o1.created_at = T0;
    let mut o2 = order(
        &a,
        "ord_2",
        None,
        "bob@example.com",
        1,
        create_wo("wo_2", "MUG-L", 1, 1),
    );
    o2.created_at = T0 + 10;
    let mut o3 = order(
        &a,
        "ord_3",
        None,
        "ada@example.com",
        1,
        create_wo("wo_3", "MUG-S", 1, 1),
    );
    o3.created_at = T0 + 20;
    o3.customer.id = "cus_another".into();
    for o in [&o1, &o2, &o3] {
        store.place_order(o).await.unwrap();
    }
    let ids = |v: Vec<kiln_store::OrderSummary>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.orders(&a.id, None, 10).await.unwrap()),
        ["ord_3", "ord_2", "ord_1"]
    );
    assert_eq!(
        ids(store.orders(&a.id, None, 2).await.unwrap()),
        ["ord_3", "ord_2"]
    );
    assert_eq!(
        ids(store
            .orders(&a.id, Some("ada@example.com"), 10)
            .await
            .unwrap()),
        ["ord_3", "ord_1"]
    );
    // One customer per email: the second order reuses the first customer.
    let third = store.order(&a.id, "ord_3").await.unwrap().unwrap();
    assert_eq!(third.customer.id, "cus_ord_1");
}

async fn work_orders_batch_by_sku(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 2),
        ))
        .await
        .unwrap();
    let add = WorkOrderWrite::AddQuantity {
        id: "wo_1".into(),
        quantity: 3,
    };
    store
        .place_order(&order(&a, "ord_2", None, "bob@example.com", 3, add))
        .await
        .unwrap();
    let wo = store.work_order(&a.id, "wo_1").await.unwrap().unwrap();
    assert_eq!(wo.quantity, 5);
    assert_eq!(wo.order_ids, vec!["ord_1".to_string(), "ord_2".to_string()]);
    assert_eq!(store.work_orders(&a.id, true).await.unwrap().len(), 1);
    assert_eq!(
        store.planned_work_orders(&a.id).await.unwrap(),
        vec![("MUG-M".to_string(), "wo_1".to_string())]
    );
    let o2 = store.order(&a.id, "ord_2").await.unwrap().unwrap();
    assert_eq!(o2.lines[0].work_order_id, "wo_1");
}

async fn add_quantity_to_a_started_work_order_is_refused(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 2),
        ))
        .await
        .unwrap();
    start(store, &a, "wo_1", 1, T0 + 1).await.unwrap();
    assert!(store.planned_work_orders(&a.id).await.unwrap().is_empty());
    let add = WorkOrderWrite::AddQuantity {
        id: "wo_1".into(),
        quantity: 3,
    };
    assert_conflict(
        store
            .place_order(&order(&a, "ord_2", Some("k2"), "bob@example.com", 3, add))
            .await,
        "adding to a started work order",
    );
    // The refused placement left nothing behind.
    assert_eq!(store.order(&a.id, "ord_2").await.unwrap(), None);
    assert_eq!(
        store.order_by_idempotency_key(&a.id, "k2").await.unwrap(),
        None
    );
    assert_eq!(
        store
            .work_order(&a.id, "wo_1")
            .await
            .unwrap()
            .unwrap()
            .quantity,
        2
    );
    assert_eq!(store.bookings(&a.id).await.unwrap().len(), 1);
    assert_eq!(store.suggestions(&a.id).await.unwrap().len(), 1);
}

async fn record_operation_transitions(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 2),
        ))
        .await
        .unwrap();
    let add = WorkOrderWrite::AddQuantity {
        id: "wo_1".into(),
        quantity: 1,
    };
    // The second order batches right after the first on its machine: the
    // first one's setup moves with it.
    let mut second = order(&a, "ord_2", None, "bob@example.com", 1, add);
    let first_booking = store.bookings(&a.id).await.unwrap().remove(0);
    second.rebooked = vec![BookingRow {
        setup_start: first_booking.start_at,
        setup_minutes: 0,
        ..first_booking.clone()
    }];
    store.place_order(&second).await.unwrap();

    assert_conflict(
        complete(store, &a, "wo_1", 1, T0 + 1).await,
        "completing a pending operation",
    );
    assert_conflict(
        start(store, &a, "wo_1", 2, T0 + 1).await,
        "starting op 2 before op 1 is done",
    );
    assert_not_found(
        start(store, &a, "wo_1", 3, T0 + 1).await,
        "an operation that does not exist",
    );
    assert_not_found(
        start(store, &a, "wo_nope", 1, T0 + 1).await,
        "a work order that does not exist",
    );

    let change = start(store, &a, "wo_1", 1, T0 + 100).await.unwrap();
    assert_eq!(change.work_order.status, "in_progress");
    assert_eq!(change.work_order.operations[0].status, "started");
    assert_eq!(change.work_order.operations[0].started_at, Some(T0 + 100));
    assert_eq!(change.work_order.operations[1].status, "pending");
    assert_eq!(
        change.orders,
        vec![
            ("ord_1".to_string(), status::IN_PRODUCTION.to_string()),
            ("ord_2".to_string(), status::IN_PRODUCTION.to_string()),
        ]
    );
    assert_conflict(
        start(store, &a, "wo_1", 1, T0 + 101).await,
        "starting a started operation",
    );
    assert_conflict(
        start(store, &a, "wo_1", 2, T0 + 101).await,
        "starting op 2 while op 1 runs",
    );

    let change = complete(store, &a, "wo_1", 1, T0 + 200).await.unwrap();
    assert_eq!(change.work_order.operations[0].status, "done");
    assert_eq!(change.work_order.operations[0].completed_at, Some(T0 + 200));
    // The live schedule is rebuilt from bookings with their operation's status.
    let scheduled = store.scheduled_bookings(&a.id).await.unwrap();
    let got: Vec<_> = scheduled
        .iter()
        .map(|s| {
            (
                s.booking.order_id.as_str(),
                s.booking.seq,
                s.sku.as_str(),
                s.status.as_str(),
                s.completed_at,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ord_1", 1, "MUG-M", "done", Some(T0 + 200)),
            ("ord_2", 1, "MUG-M-CLASSIC", "done", Some(T0 + 200)),
        ]
    );
    assert_eq!(scheduled[0].product_id, "mug");
    assert_eq!(
        (
            scheduled[0].booking.setup_start,
            scheduled[0].booking.setup_minutes
        ),
        (first_booking.start_at, 0),
        "rebooked in place"
    );
    // A rolled-back order's neighbour is moved back the same way.
    store
        .rebook(&a.id, std::slice::from_ref(&first_booking))
        .await
        .unwrap();
    let again = store.scheduled_bookings(&a.id).await.unwrap();
    assert_eq!(again[0].booking, first_booking);
    assert_eq!(again[0].promised_date, "2026-01-15");
    let open = store.open_requirements(&a.id).await.unwrap();
    assert!(!open.is_empty() && open.iter().all(|(o, _)| o == "ord_1" || o == "ord_2"));
    assert_eq!(
        store.order_line_ids(&a.id, "wo_1").await.unwrap(),
        [("ord_1".to_string(), 1), ("ord_2".to_string(), 1)]
    );
    assert!(
        store
            .scheduled_bookings(&brand(store, "beta").await.id)
            .await
            .unwrap()
            .is_empty(),
        "another brand sees none"
    );
    assert_eq!(change.work_order.operations[0].scrap, 1);
    assert_eq!(change.work_order.status, "in_progress");
    assert!(change.orders.is_empty(), "{:?}", change.orders);
    assert_conflict(
        complete(store, &a, "wo_1", 1, T0 + 201).await,
        "completing a done operation",
    );

    start(store, &a, "wo_1", 2, T0 + 300).await.unwrap();
    let o1 = store.order(&a.id, "ord_1").await.unwrap().unwrap();
    assert_eq!(o1.status, status::IN_PRODUCTION);
    let change = complete(store, &a, "wo_1", 2, T0 + 400).await.unwrap();
    assert_eq!(change.work_order.status, "done");
    assert_eq!(
        change.orders,
        vec![
            ("ord_1".to_string(), status::MADE.to_string()),
            ("ord_2".to_string(), status::MADE.to_string()),
        ]
    );
    assert!(store.work_orders(&a.id, true).await.unwrap().is_empty());
    assert_eq!(store.work_orders(&a.id, false).await.unwrap().len(), 1);

    for id in ["ord_1", "ord_2"] {
        let o = store.order(&a.id, id).await.unwrap().unwrap();
        assert_eq!(o.status, status::MADE);
        assert_eq!(
            statuses(&o),
            ["ordered", "planned", "in_production", "made"]
        );
        let times: Vec<i64> = o.events.iter().map(|e| e.at).collect();
        assert_eq!(times, [T0, T0, T0 + 100, T0 + 400]);
    }
}

/// Places an order with a one-operation work order and makes it.
async fn made_order(store: &dyn Store, a: &Brand, id: &str) {
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
        .unwrap();
    start(store, a, &wo, 1, T0 + 10).await.unwrap();
    complete(store, a, &wo, 1, T0 + 20).await.unwrap();
}

fn shipment(id: &str, order_id: &str, at: i64) -> Shipment {
    Shipment {
        id: id.into(),
        order_id: order_id.into(),
        carrier: "DHL".into(),
        tracking_number: "JD0001".into(),
        status: "in_transit".into(),
        created_at: at,
        delivered_at: None,
    }
}

async fn shipment_only_after_made(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            1,
            create_wo("wo_1", "MUG-M", 1, 1),
        ))
        .await
        .unwrap();
    assert_conflict(
        store
            .create_shipment(&a.id, &shipment("shp_0", "ord_1", T0 + 5), "evt_s0")
            .await,
        "shipping a planned order",
    );
    assert_not_found(
        store
            .create_shipment(&a.id, &shipment("shp_x", "ord_nope", T0 + 5), "evt_sx")
            .await,
        "shipping an order that does not exist",
    );
    start(store, &a, "wo_1", 1, T0 + 10).await.unwrap();
    assert_conflict(
        store
            .create_shipment(&a.id, &shipment("shp_0", "ord_1", T0 + 15), "evt_s0")
            .await,
        "shipping an order in production",
    );
    complete(store, &a, "wo_1", 1, T0 + 20).await.unwrap();

    let shipped = store
        .create_shipment(&a.id, &shipment("shp_1", "ord_1", T0 + 30), "evt_s1")
        .await
        .unwrap();
    assert_eq!(shipped, shipment("shp_1", "ord_1", T0 + 30));
    let o = store.order(&a.id, "ord_1").await.unwrap().unwrap();
    assert_eq!(o.status, status::SHIPPED);
    assert_eq!(o.shipments, vec![shipped.clone()]);
    assert_eq!(o.events.last().unwrap().note, "DHL JD0001");
    // A shipped order is not shipped twice.
    assert_conflict(
        store
            .create_shipment(&a.id, &shipment("shp_2", "ord_1", T0 + 35), "evt_s2")
            .await,
        "shipping a shipped order",
    );

    let delivered = store
        .mark_delivered(&a.id, "shp_1", T0 + 40, "evt_d1")
        .await
        .unwrap();
    assert_eq!(delivered.status, "delivered");
    assert_eq!(delivered.delivered_at, Some(T0 + 40));
    let o = store.order(&a.id, "ord_1").await.unwrap().unwrap();
    assert_eq!(o.status, status::DELIVERED);
    assert_eq!(o.shipments, vec![delivered.clone()]);
    assert_eq!(
        statuses(&o),
        [
            "ordered",
            "planned",
            "in_production",
            "made",
            "shipped",
            "delivered"
        ]
    );
    let times: Vec<i64> = o.events.iter().map(|e| e.at).collect();
    assert_eq!(times, [T0, T0, T0 + 10, T0 + 20, T0 + 30, T0 + 40]);
    // Delivering again changes nothing and adds no event.
    let again = store
        .mark_delivered(&a.id, "shp_1", T0 + 50, "evt_d2")
        .await
        .unwrap();
    assert_eq!(again, delivered);
    assert_eq!(
        store
            .order(&a.id, "ord_1")
            .await
            .unwrap()
            .unwrap()
            .events
            .len(),
        6
    );
    assert_not_found(
        store
            .mark_delivered(&a.id, "shp_nope", T0 + 50, "evt_d3")
            .await,
        "delivering a shipment that does not exist",
    );
}

async fn tenancy_brand_b_never_sees_brand_a(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    store
        .place_order(&order(
            &a,
            "ord_a",
            Some("shared-key"),
            "ada@example.com",
            1,
            create_wo("wo_a", "MUG-M", 1, 1),
        ))
        .await
        .unwrap();
    assert_eq!(store.order(&b.id, "ord_a").await.unwrap(), None);
    assert_eq!(
        store
            .order_by_idempotency_key(&b.id, "shared-key")
            .await
            .unwrap(),
        None
    );
    assert!(store.orders(&b.id, None, 100).await.unwrap().is_empty());
    assert!(
        store
            .orders(&b.id, Some("ada@example.com"), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.work_orders(&b.id, false).await.unwrap().is_empty());
    assert_eq!(store.work_order(&b.id, "wo_a").await.unwrap(), None);
    assert!(store.planned_work_orders(&b.id).await.unwrap().is_empty());
    assert!(store.bookings(&b.id).await.unwrap().is_empty());
    assert!(store.suggestions(&b.id).await.unwrap().is_empty());
    assert!(store.materials(&b.id).await.unwrap().is_empty());
    assert!(store.requirements(&b.id).await.unwrap().is_empty());
    assert_not_found(
        start(store, &b, "wo_a", 1, T0 + 1).await,
        "B starting A's operation",
    );
    assert_not_found(
        store
            .create_shipment(&b.id, &shipment("shp_b", "ord_a", T0 + 2), "evt_b")
            .await,
        "B shipping A's order",
    );

    // B's own order with the same idempotency key is a new order of B's.
    let mine = order(
        &b,
        "ord_b",
        Some("shared-key"),
        "ada@example.com",
        1,
        create_wo("wo_b", "MUG-M", 1, 1),
    );
    assert_eq!(
        store.place_order(&mine).await.unwrap(),
        Placed::Created {
            customer_id: "cus_ord_b".into()
        }
    );
    let ids = |v: Vec<kiln_store::OrderSummary>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.orders(&a.id, None, 100).await.unwrap()),
        ["ord_a"]
    );
    assert_eq!(
        ids(store.orders(&b.id, None, 100).await.unwrap()),
        ["ord_b"]
    );

    // A's made and shipped order stays out of B's reach.
    made_order(store, &a, "ord_a2").await;
    store
        .create_shipment(&a.id, &shipment("shp_a", "ord_a2", T0 + 30), "evt_sa")
        .await
        .unwrap();
    assert_not_found(
        store
            .mark_delivered(&b.id, "shp_a", T0 + 40, "evt_db")
            .await,
        "B delivering A's shipment",
    );
    let a2 = store.order(&a.id, "ord_a2").await.unwrap().unwrap();
    assert_eq!(a2.status, status::SHIPPED);
}

async fn downtime_replaces_bookings_and_moves_promises(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "beta").await;
    let mut later = order(
        &a,
        "ord_2",
        None,
        "bo@example.com",
        1,
        create_wo("wo_2", "MUG-L", 1, 1),
    );
    later.promised_date = "2026-01-20".into();
    let first = order(
        &a,
        "ord_1",
        None,
        "ada@example.com",
        2,
        create_wo("wo_1", "MUG-M", 2, 1),
    );
    store.place_orders(&[later, first]).await;
    store
        .place_order(&order(
            &b,
            "ord_b",
            None,
            "cy@example.com",
            1,
            create_wo("wo_b", "X", 1, 1),
        ))
        .await
        .unwrap();

    // Earliest promise first; only the brand's own orders.
    let open = store.open_promises(&a.id).await.unwrap();
    let ids: Vec<_> = open.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["ord_1", "ord_2"]);
    assert_eq!(open[0].lines, vec![(1, "mug".to_string())]);

    let down = Downtime {
        id: "dt_1".into(),
        work_center: "wc1".into(),
        from_day: "2026-01-12".into(),
        to_day: "2026-01-13".into(),
        reason: "kiln element failed".into(),
        created_at: T0 + 5,
    };
    let moved = Repromise {
        order_id: "ord_1".into(),
        promised_date: "2026-01-17".into(),
        bookings: vec![BookingRow {
            order_id: "ord_1".into(),
            line_no: 1,
            operation: "op1".into(),
            work_center: "wc1".into(),
            day: "2026-01-14".into(),
            minutes: 25,
            seq: 1,
            machine: 1,
            setup_start: 29_472_960,
            start_at: 29_472_970,
            end_at: 29_472_995,
            setup_minutes: 10,
            changeover: 10,
            release_at: 29_469_600,
            due_day: "2026-01-15".into(),
        }],
        event: Some(OrderEvent {
            id: "evt_moved".into(),
            status: "promise_moved".into(),
            note: "2026-01-15 -> 2026-01-17".into(),
            at: T0 + 5,
        }),
    };
    store
        .record_replan(&a.id, Some(&down), std::slice::from_ref(&moved))
        .await
        .unwrap();

    assert_eq!(store.downtimes(&a.id).await.unwrap(), vec![down.clone()]);
    assert!(store.downtimes(&b.id).await.unwrap().is_empty());
    let o = store.order(&a.id, "ord_1").await.unwrap().unwrap();
    assert_eq!(o.promised_date, "2026-01-17");
    assert_eq!(
        o.status,
        status::PLANNED,
        "a moved promise is not a new status"
    );
    assert_eq!(o.events.last().map(|e| e.id.as_str()), Some("evt_moved"));
    let days: Vec<_> = store
        .bookings(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.order_id, b.day))
        .collect();
    assert_eq!(
        days,
        [
            ("ord_1".to_string(), "2026-01-14".to_string()),
            ("ord_2".to_string(), "2026-01-12".to_string())
        ]
    );
    assert_eq!(
        store.bookings(&b.id).await.unwrap().len(),
        1,
        "beta untouched"
    );
    // The same downtime id twice is refused whole: nothing half-written.
    let again = Repromise {
        promised_date: "2026-02-01".into(),
        ..moved
    };
    assert!(
        store
            .record_replan(&a.id, Some(&down), &[again])
            .await
            .is_err()
    );
    let o = store.order(&a.id, "ord_1").await.unwrap().unwrap();
    assert_eq!(o.promised_date, "2026-01-17");
}

async fn sales_history_imports_once_and_reads_with_orders(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "beta").await;
    let sale = |id: &str, day: &str| SalesLine {
        id: id.into(),
        day: day.into(),
        at: 0,
        product_id: "mug".into(),
        selections: r#"{"size":"L"}"#.into(),
        quantity: 2,
    };
    let lines = [sale("s1", "2025-12-01"), sale("s2", "2026-01-03")];
    assert_eq!(store.add_sales_history(&a.id, &lines).await.unwrap(), 2);
    // A retried import adds only what is new.
    let again = [sale("s2", "2026-01-03"), sale("s3", "2026-01-04")];
    assert_eq!(store.add_sales_history(&a.id, &again).await.unwrap(), 1);
    assert_eq!(store.add_sales_history(&b.id, &lines).await.unwrap(), 2);
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            3,
            create_wo("wo_1", "MUG-L", 3, 1),
        ))
        .await
        .unwrap();

    let read = store.sales_lines(&a.id, "2026-01-01", 0).await.unwrap();
    let summary: Vec<_> = read
        .iter()
        .map(|l| (l.id.as_str(), l.day.as_str(), l.at, l.quantity))
        .collect();
    assert_eq!(
        summary,
        [
            ("s2", "2026-01-03", 0, 2),
            ("s3", "2026-01-04", 0, 2),
            ("ord_1#1", "", T0, 3)
        ]
    );
    assert!(
        store
            .sales_lines(&a.id, "2026-01-01", T0 + 1)
            .await
            .unwrap()
            .len()
            == 2
    );
}
