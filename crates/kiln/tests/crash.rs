//! A server killed with SIGKILL while orders are being placed loses no order
//! it acknowledged: the real binary is started on a temporary data directory,
//! eight clients place orders, the process is killed mid-flight, restarted on
//! the same directory, and every acknowledged order is counted back. The
//! outbox holds exactly one `order.created` event per stored order: no event
//! without its order, no order without its event. On SQLite, and on
//! PostgreSQL when `KILN_TEST_POSTGRES` is set.

mod process;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use process::Server;

use serde_json::{Value, json};

const CLIENTS: usize = 8;
/// How long the clients place orders before the kill.
const LOAD: Duration = Duration::from_millis(1500);
/// Upper bound on the orders one client places, whatever the speed.
const MAX_PER_CLIENT: usize = 20_000;

/// The order a client sends for its `n`th request; the same inputs give the
/// same body, so a retry can resend it exactly.
fn order_body(client: usize, n: usize) -> Value {
    let size = ["S", "M", "L"][n % 3];
    let glaze = ["#f4f1de", "#1d3557", "#e63946", "#81b29a"][client % 4];
    json!({
        "customer": { "name": format!("Client {client}"), "email": format!("client{client}@example.com") },
        "ship_to": {
            "name": format!("Client {client}"),
            "line1": "1 Kiln Yard",
            "city": "Stoke-on-Trent",
            "postal_code": "ST1 1AA",
            "country": "GB"
        },
        "channel": "online",
        "lines": [{ "product": "mug", "selections": { "size": size, "glaze": glaze }, "quantity": 1 }]
    })
}

struct Acked {
    client: usize,
    n: usize,
    key: String,
    id: String,
}

#[derive(Default)]
struct ClientReport {
    acked: Vec<Acked>,
    /// HTTP answers other than 201: the server answered, and refused.
    refused: Vec<String>,
    /// Whether the last request failed in transport (in flight at the kill).
    cut_off: bool,
}

async fn place_orders(
    http: reqwest::Client,
    url: String,
    client: usize,
    stop: Arc<AtomicBool>,
) -> ClientReport {
    let mut report = ClientReport::default();
    for n in 0..MAX_PER_CLIENT {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let key = format!("crash-{client}-{n}-{}", uuid::Uuid::new_v4().simple());
        let sent = http
            .post(&url)
            .header("Idempotency-Key", &key)
            .json(&order_body(client, n))
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(_) => {
                report.cut_off = true;
                break;
            }
        };
        let status = response.status();
        // Acknowledged means: a 201 whose body, with the id, arrived whole.
        match response.json::<Value>().await {
            Ok(body) if status == reqwest::StatusCode::CREATED => {
                let id = body["id"]
                    .as_str()
                    .expect("a 201 carries an id")
                    .to_string();
                report.acked.push(Acked { client, n, key, id });
            }
            Ok(body) => report.refused.push(format!("{status}: {body}")),
            Err(_) => {
                report.cut_off = true;
                break;
            }
        }
    }
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_no_acknowledged_order() {
    crash_case(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_sigkill_loses_no_acknowledged_order() {
    let Ok(admin) = std::env::var("KILN_TEST_POSTGRES") else {
        eprintln!("skipping: set KILN_TEST_POSTGRES=postgres://... to run it");
        return;
    };
    let (url, _guard) = process::Database::create(&admin, "kiln_crash").await;
    crash_case(Some(url)).await;
}

/// No acknowledged order lost, and the outbox exactly matching the orders.
async fn crash_case(database: Option<String>) {
    let data = tempfile::tempdir().expect("a temporary directory");
    let dir = data.path().to_path_buf();
    let db = database.clone();
    let mut first = tokio::task::spawn_blocking(move || Server::start(&dir, db.as_deref(), true))
        .await
        .unwrap();
    let old_key = first.key.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let url = format!("{}/api/v1/brands/demo/orders", first.base);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(place_orders(http.clone(), url.clone(), c, stop.clone())))
        .collect();
    tokio::time::sleep(LOAD).await;
    // Kill while the clients are still sending.
    first.kill();
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    let mut cut_off = 0;
    for c in clients {
        let report = c.await.expect("a client task");
        acked.extend(report.acked);
        refused.extend(report.refused);
        cut_off += usize::from(report.cut_off);
    }
    drop(first);
    eprintln!(
        "{} orders acknowledged before SIGKILL; {cut_off} of {CLIENTS} clients had a request cut off",
        acked.len()
    );
    assert!(refused.is_empty(), "the server refused orders: {refused:?}");
    assert!(
        !acked.is_empty(),
        "no order was acknowledged before the kill"
    );

    // Restart on the same data directory: a fresh key is printed.
    let dir = data.path().to_path_buf();
    let db = database.clone();
    let second = tokio::task::spawn_blocking(move || Server::start(&dir, db.as_deref(), true))
        .await
        .unwrap();
    assert_ne!(second.key, old_key);
    let base = second.base.clone();
    let acked = Arc::new(acked);
    let mut checkers = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, acked) = (http.clone(), base.clone(), acked.clone());
        let keys = [second.key.clone(), old_key.clone()];
        checkers.push(tokio::spawn(async move {
            let mut problems = Vec::new();
            for a in acked.iter().skip(c).step_by(CLIENTS) {
                // Readable with the new key, and with the old one.
                for key in &keys {
                    let r = http
                        .get(format!("{base}/api/v1/brands/demo/orders/{}", a.id))
                        .bearer_auth(key)
                        .send()
                        .await
                        .expect("the restarted server answers");
                    if r.status() != reqwest::StatusCode::OK {
                        problems.push(format!("GET {}: {}", a.id, r.status()));
                        continue;
                    }
                    let body: Value = r.json().await.unwrap();
                    if body["id"] != a.id.as_str() {
                        problems.push(format!("GET {} returned {}", a.id, body["id"]));
                    }
                }
                // The same key and body replays the same order.
                let r = http
                    .post(format!("{base}/api/v1/brands/demo/orders"))
                    .header("Idempotency-Key", &a.key)
                    .json(&order_body(a.client, a.n))
                    .send()
                    .await
                    .expect("the restarted server answers");
                let status = r.status();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                if status != reqwest::StatusCode::CREATED || body["id"] != a.id.as_str() {
                    problems.push(format!(
                        "retrying {} gave {status} {} instead of {}",
                        a.key, body["id"], a.id
                    ));
                }
            }
            problems
        }));
    }
    let mut problems = Vec::new();
    for c in checkers {
        problems.extend(c.await.expect("a checker task"));
    }
    eprintln!(
        "after the restart: {} of {} acknowledged orders found",
        acked.len() - problems.len().min(acked.len()),
        acked.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems after the restart, e.g. {:?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    drop(second);
    outbox_matches_orders(data.path(), database.as_deref()).await;
}

/// Every stored order has exactly one `order.created` event, and every such
/// event its order.
async fn outbox_matches_orders(data_dir: &Path, database: Option<&str>) {
    let store: Box<dyn kiln_store::Store> = match database {
        Some(url) => Box::new(
            kiln_store::PostgresStore::open(url)
                .await
                .expect("PostgreSQL"),
        ),
        None => Box::new(
            kiln_store::SqliteStore::open_dir(data_dir)
                .await
                .expect("SQLite"),
        ),
    };
    let brand = store
        .brand_by_slug("demo")
        .await
        .unwrap()
        .expect("the demo brand");
    let orders: std::collections::BTreeSet<String> = store
        .orders(
            &brand.id,
            &kiln_domain::OrderQuery {
                limit: i64::MAX,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id.to_string())
        .collect();
    let mut reported = std::collections::BTreeMap::<String, usize>::new();
    for e in store.events(&brand.id, i64::MAX).await.unwrap() {
        if e.kind == kiln_domain::EventType::OrderCreated {
            let body: Value = serde_json::from_str(&e.payload).expect("a JSON payload");
            let id = body["data"]["id"]
                .as_str()
                .expect("the order's id")
                .to_string();
            *reported.entry(id).or_default() += 1;
        }
    }
    let without_event: Vec<&String> = orders
        .iter()
        .filter(|o| !reported.contains_key(*o))
        .collect();
    let without_order: Vec<&String> = reported.keys().filter(|e| !orders.contains(*e)).collect();
    let twice: Vec<&String> = reported
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    eprintln!(
        "outbox: {} orders stored, {} order.created events",
        orders.len(),
        reported.values().sum::<usize>()
    );
    assert!(
        without_event.is_empty(),
        "orders without their event: {without_event:?}"
    );
    assert!(
        without_order.is_empty(),
        "events without their order: {without_order:?}"
    );
    assert!(twice.is_empty(), "orders reported twice: {twice:?}");
}
