//! Two `kiln serve` processes on one PostgreSQL database (skipped unless
//! `KILN_TEST_POSTGRES` is set): clients place orders on both, round-robin,
//! as behind a load balancer, retrying on the other server when one refuses
//! (503) or does not answer. The server planning the demo brand is killed
//! with SIGKILL in the middle. Then: every acknowledged order is stored once,
//! orders are acknowledged again within 10 s of the kill, and no two
//! operations share a machine at any minute. And a rolling restart: each
//! server stopped cleanly and started again in turn, under the same load.

mod process;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use process::{Database, Server};
use serde_json::{Value, json};

const CLIENTS: usize = 8;
/// Orders placed before the kill, and after it.
const BEFORE: Duration = Duration::from_millis(1500);
const AFTER: Duration = Duration::from_secs(8);

#[derive(Debug)]
struct Acked {
    key: String,
    body: Value,
    id: String,
    at: Instant,
}

fn order_body(client: usize, n: usize) -> Value {
    let size = ["S", "M", "L"][n % 3];
    json!({
        "customer": { "name": format!("Client {client}"), "email": format!("failover{client}-{n}@example.com") },
        "ship_to": { "name": "Client", "line1": "1 Kiln Yard", "city": "Stoke-on-Trent", "postal_code": "ST1 1AA", "country": "GB" },
        "channel": "online",
        "lines": [{ "product": "mug", "selections": { "size": size }, "quantity": 1 }]
    })
}

/// The servers behind the load balancer; a restarted server's new address
/// replaces its old one.
type Bases = Arc<RwLock<Vec<String>>>;

/// One client: orders round-robin over `bases`, each retried with its key on
/// the next server until acknowledged (or 30 s pass).
async fn client(
    http: reqwest::Client,
    bases: Bases,
    c: usize,
    stop: Arc<AtomicBool>,
) -> Vec<Acked> {
    let mut acked = Vec::new();
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let key = format!("failover-{c}-{n}");
        let body = order_body(c, n);
        let deadline = Instant::now() + Duration::from_secs(30);
        let count = bases.read().unwrap().len();
        let mut server = n % count;
        loop {
            let base = bases.read().unwrap()[server].clone();
            let sent = http
                .post(format!("{base}/api/v1/brands/demo/orders"))
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
                .await;
            if let Ok(r) = sent {
                let status = r.status();
                match r.json::<Value>().await {
                    Ok(b) if status == reqwest::StatusCode::CREATED => {
                        let id = b["id"].as_str().expect("an order id").to_string();
                        acked.push(Acked {
                            key,
                            body,
                            id,
                            at: Instant::now(),
                        });
                        break;
                    }
                    Ok(b) => assert!(
                        status == reqwest::StatusCode::SERVICE_UNAVAILABLE,
                        "only 503 may refuse an order here: {status} {b}"
                    ),
                    Err(_) => {}
                }
            }
            assert!(Instant::now() < deadline, "{key} never acknowledged");
            server = (server + 1) % count;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_killed_server_loses_nothing_and_its_brand_moves() {
    let Ok(admin) = std::env::var("KILN_TEST_POSTGRES") else {
        eprintln!("skipping: set KILN_TEST_POSTGRES=postgres://... to run it");
        return;
    };
    let (url, _guard) = Database::create(&admin, "kiln_failover").await;
    let data = tempfile::tempdir().expect("a temporary directory");
    let (dir_a, dir_b) = (data.path().join("a"), data.path().join("b"));
    let db = url.clone();
    let mut first = tokio::task::spawn_blocking(move || Server::start(&dir_a, Some(&db), true))
        .await
        .unwrap();
    let db = url.clone();
    let second = tokio::task::spawn_blocking(move || Server::start(&dir_b, Some(&db), false))
        .await
        .unwrap();
    let key = first.key.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // The first server plans the demo brand (it seeded it).
    let bases = Arc::new(RwLock::new(vec![first.base.clone(), second.base.clone()]));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(client(http.clone(), bases.clone(), c, stop.clone())))
        .collect();
    tokio::time::sleep(BEFORE).await;
    first.kill();
    let killed = Instant::now();
    tokio::time::sleep(AFTER).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    for c in clients {
        acked.extend(c.await.expect("a client"));
    }

    let before = acked.iter().filter(|a| a.at < killed).count();
    let mut after: Vec<Instant> = acked
        .iter()
        .filter(|a| a.at >= killed)
        .map(|a| a.at)
        .collect();
    after.sort();
    eprintln!(
        "{} orders acknowledged: {before} before the kill, {} after",
        acked.len(),
        after.len()
    );
    assert!(
        before > 0 && !after.is_empty(),
        "orders on both sides of the kill"
    );
    let failover = after[0] - killed;
    assert!(
        failover <= Duration::from_secs(10),
        "failover took {failover:?}"
    );

    every_order_once(&http, &second.base, &acked).await;
    no_machine_twice(&url).await;
    // The survivor's schedule answers, with the orders of both servers.
    let schedule = http
        .get(format!(
            "{}/api/v1/brands/demo/schedule?days=60",
            second.base
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.status(), reqwest::StatusCode::OK);
    drop(second);
}

/// Every acknowledged order, once: its key replays the same order.
async fn every_order_once(http: &reqwest::Client, base: &str, acked: &[Acked]) {
    let orders = format!("{base}/api/v1/brands/demo/orders");
    for a in acked {
        let r = http
            .post(&orders)
            .header("Idempotency-Key", &a.key)
            .json(&a.body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["id"],
            a.id.as_str(),
            "{} is the order acknowledged",
            a.key
        );
    }
}

/// No machine minute booked twice, in what the servers plan from.
async fn no_machine_twice(url: &str) {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT work_center, machine, setup_start, end_at FROM bookings \
         ORDER BY work_center, machine, setup_start",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for w in rows.windows(2) {
        if w[0].0 == w[1].0 && w[0].1 == w[1].1 {
            assert!(
                w[1].2 >= w[0].3,
                "two operations on one machine at once: {w:?}"
            );
        }
    }
}

/// A rolling restart under load: each server in turn is stopped cleanly
/// (SIGTERM: it answers what it took, flushes its orders and gives its
/// leases back) and started again, while the clients go on. Every
/// acknowledged order is stored once and no gap between acknowledgements
/// lasts 10 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_rolling_restart_loses_nothing_and_refuses_briefly() {
    let Ok(admin) = std::env::var("KILN_TEST_POSTGRES") else {
        eprintln!("skipping: set KILN_TEST_POSTGRES=postgres://... to run it");
        return;
    };
    let (url, _guard) = Database::create(&admin, "kiln_rolling").await;
    let data = tempfile::tempdir().expect("a temporary directory");
    let dirs = [data.path().join("a"), data.path().join("b")];
    let start = |i: usize, demo: bool| {
        let (dir, db) = (dirs[i].clone(), url.clone());
        tokio::task::spawn_blocking(move || Server::start(&dir, Some(&db), demo))
    };
    let mut servers = [
        start(0, true).await.unwrap(),
        start(1, false).await.unwrap(),
    ];
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // The load balancer's list, which the restarts update.
    let bases = Arc::new(std::sync::RwLock::new(
        servers.iter().map(|s| s.base.clone()).collect::<Vec<_>>(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(client(http.clone(), bases.clone(), c, stop.clone())))
        .collect();
    let began = Instant::now();
    for (i, server) in servers.iter_mut().enumerate() {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.terminate();
        let again = start(i, false).await.unwrap();
        bases.write().unwrap()[i] = again.base.clone();
        *server = again;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    for c in clients {
        acked.extend(c.await.expect("a client"));
    }
    let mut times: Vec<Instant> = acked.iter().map(|a| a.at).collect();
    times.push(began);
    times.sort();
    let gap = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    eprintln!(
        "{} orders acknowledged through two restarts; longest gap between acknowledgements {gap:?}",
        acked.len()
    );
    assert!(gap <= Duration::from_secs(10), "orders refused for {gap:?}");
    assert!(acked.len() > 20, "only {} orders", acked.len());
    let last = servers[1].base.clone();
    every_order_once(&http, &last, &acked).await;
    no_machine_twice(&url).await;
}
