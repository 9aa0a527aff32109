//! `kiln bench orders`: concurrent clients place orders over HTTP, like a
//! storefront at peak; reports acknowledged orders per second and latency.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

#[derive(clap::Args)]
pub struct OrdersArgs {
    /// Base URL of a running server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// Brand slug.
    #[arg(long, default_value = "demo")]
    brand: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// How long to place orders.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// A key to place orders with (default: none, a public checkout).
    #[arg(long, env = "KILN_KEY")]
    key: Option<String>,
    /// Subscribe a webhook receiver in this process to `order.created` for
    /// the run (needs `--key` with `webhooks:write`), to measure throughput
    /// with deliveries going on.
    #[arg(long)]
    webhook: bool,
    /// Then run PostgreSQL's pgbench against this database URL (the one the
    /// server uses), three inserts per transaction from as many clients, and
    /// print its rate beside Kiln's and the ratio.
    #[arg(long, value_name = "POSTGRES_URL")]
    compare_pgbench: Option<String>,
    /// Also report every this many seconds (orders/s, p50, p99, and the
    /// server's memory with `--server-pid`): a soak's steadiness, last
    /// window against the first.
    #[arg(long, value_name = "SECONDS")]
    every: Option<f64>,
    /// Place at most this many orders per second in all (each client paced
    /// evenly), as a steady load for a soak rather than the most the server
    /// takes.
    #[arg(long, value_name = "ORDERS_PER_SECOND")]
    rate: Option<f64>,
    /// The server's process id, to read its resident memory each window
    /// (Linux, `/proc/PID/status`).
    #[arg(long, requires = "every")]
    server_pid: Option<u32>,
    /// Play the factory too (needs `--key` with factory and operations
    /// rights): each order, once this many seconds old, has its work orders
    /// made and ships, so open work stays bounded, as in a factory keeping
    /// pace: before each order a client waits 10 ms for every second the
    /// factory is late beyond one, at most 1 s (so a factory slower than
    /// one order a second per client still falls behind). For a soak:
    /// memory should follow the open work.
    #[arg(long, value_name = "SECONDS", requires = "key")]
    make_after: Option<f64>,
}

pub fn run(args: OrdersArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(bench(args))
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    /// When each acknowledged order completed, in ms since the start.
    done_ms: Vec<u64>,
    failed: u64,
    first_failure: Option<String>,
    /// Refusals by status (`503 retry-after` when it said when to retry);
    /// `network` for no answer.
    refusals: std::collections::BTreeMap<String, u64>,
}

async fn bench(args: OrdersArgs) -> anyhow::Result<ExitCode> {
    let base = args.url.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let products: serde_json::Value = client
        .get(format!("{base}/api/v1/brands/{}/products", args.brand))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .context("listing products (is `kiln serve --demo` running at --url?)")?
        .json()
        .await?;
    let ids: Vec<String> = products["products"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!ids.is_empty(), "brand `{}` has no products", args.brand);

    let receiver = if args.webhook {
        let key = args.key.clone().context("--webhook needs --key")?;
        let got = Arc::new(AtomicU64::new(0));
        let counted = got.clone();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::Relaxed);
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let brand = format!("{base}/api/v1/brands/{}", args.brand);
        Some((
            super::hook::Subscription::start(&client, &brand, &key, router).await?,
            got,
        ))
    } else {
        None
    };
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let counter = Arc::new(AtomicU64::new(0));
    let url = Arc::new(format!("{base}/api/v1/brands/{}/orders", args.brand));
    let ids = Arc::new(ids);
    let started = Instant::now();
    let memory = match (args.every, args.server_pid) {
        (Some(every), Some(pid)) => Some(tokio::spawn(sample_memory(pid, every, deadline))),
        _ => None,
    };
    let factory = args.make_after.map(|after| {
        super::factory::start(
            client.clone(),
            format!("{base}/api/v1/brands/{}", args.brand),
            args.key.clone().unwrap_or_default(),
            Duration::from_secs_f64(after.max(0.0)),
            deadline,
        )
    });
    let to_factory = factory
        .as_ref()
        .map(|(tx, pace, _)| (tx.clone(), pace.clone()));
    let clients = args.concurrency.max(1);
    // Each client's interval between orders, to hold `--rate` in all.
    let pace = args
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(clients as f64 / r));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, url, ids, counter, key, to_factory) = (
            client.clone(),
            url.clone(),
            ids.clone(),
            counter.clone(),
            args.key.clone(),
            to_factory.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            // Clients start spread over one interval.
            let mut next = pace.map(|p| Instant::now() + p.mul_f64(c as f64 / clients as f64));
            while Instant::now() < deadline {
                if let (Some(at), Some(p)) = (next.as_mut(), pace) {
                    tokio::time::sleep_until((*at).into()).await;
                    *at += p;
                }
                // A factory that has fallen behind holds the clients back.
                if let Some((_, pace)) = &to_factory {
                    pace.keep(deadline).await;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let product = &ids[n as usize % ids.len()];
                let body = super::hook::order(n, product, "buyer");
                let t = Instant::now();
                let mut req = client
                    .post(url.as_str())
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                    .json(&body);
                if let Some(key) = &key {
                    req = req.bearer_auth(key);
                }
                let result = req.send().await;
                match result {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let body = r.bytes().await;
                        tally.latencies_us.push(t.elapsed().as_micros() as u64);
                        if let (Some((tx, _)), Ok(body)) = (&to_factory, body)
                            && let Ok(order) = serde_json::from_slice(&body)
                            && let Some(placed) = super::factory::Placed::of(t, &order)
                        {
                            let _ = tx.send(placed);
                        }
                        tally.done_ms.push(started.elapsed().as_millis() as u64);
                    }
                    Ok(r) => {
                        tally.failed += 1;
                        let status = r.status();
                        let retry = if r.headers().contains_key(reqwest::header::RETRY_AFTER) {
                            " retry-after"
                        } else {
                            ""
                        };
                        *tally
                            .refusals
                            .entry(format!("{}{retry}", status.as_u16()))
                            .or_default() += 1;
                        let text = r.text().await.unwrap_or_default();
                        tally
                            .first_failure
                            .get_or_insert(format!("{status}: {text}"));
                    }
                    Err(e) => {
                        tally.failed += 1;
                        *tally.refusals.entry("network".into()).or_default() += 1;
                        tally.first_failure.get_or_insert(e.to_string());
                    }
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        let t = t.await?;
        all.latencies_us.extend(t.latencies_us);
        all.done_ms.extend(t.done_ms);
        all.failed += t.failed;
        for (k, n) in t.refusals {
            *all.refusals.entry(k).or_default() += n;
        }
        if all.first_failure.is_none() {
            all.first_failure = t.first_failure;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(to_factory);
    let made = match factory {
        Some((tx, _, task)) => {
            drop(tx);
            Some(task.await?)
        }
        None => None,
    };
    let windows = match args.every {
        Some(every) => {
            let memory = match memory {
                Some(m) => m.await?,
                None => Vec::new(),
            };
            Some(windows(&all, every, args.seconds, &memory))
        }
        None => None,
    };
    all.latencies_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((all.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        all.latencies_us[i] as f64 / 1000.0
    };
    let ok = all.latencies_us.len();
    let delivered = match receiver {
        Some((subscription, got)) => {
            subscription.cancel(&client).await;
            Some(got.load(Ordering::Relaxed))
        }
        None => None,
    };
    // The live material plan's net change per order, as the server timed it
    // (read with the key, which needs `planning:read`).
    let net_change = match &args.key {
        Some(key) => client
            .get(format!("{base}/api/v1/brands/{}/material-plan", args.brand))
            .bearer_auth(key)
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success())
            .map(|r| r.json::<serde_json::Value>()),
        None => None,
    };
    let net_change = match net_change {
        Some(body) => body.await.ok().map(|b| b["net_change"].clone()),
        None => None,
    };
    let report = json!({
        "material_plan_net_change": net_change,
        "webhook_deliveries_received": delivered,
        "orders": ok,
        "failed": all.failed,
        "seconds": (elapsed * 1000.0).round() / 1000.0,
        "orders_per_second": ((ok as f64 / elapsed) * 10.0).round() / 10.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "concurrency": args.concurrency,
        "refusals": all.refusals,
        "windows": windows,
        "factory": made.as_ref().map(|m| json!({
            "shipped": m.shipped,
            "not_due": m.not_due,
            "open": m.open(ok as u64),
            "work_orders_made": m.work_orders,
            "failed": m.failed,
            "most_late_ms": m.most_late.as_millis() as u64,
        })),
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{ok} orders acknowledged in {elapsed:.1} s: {:.0} orders/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} clients, {} failed)",
            ok as f64 / elapsed,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            args.concurrency,
            all.failed
        );
        if !all.refusals.is_empty() {
            println!("refused: {:?}", all.refusals);
        }
        if let Some(n) = &net_change {
            println!(
                "live material plan: {} net changes, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
                n["changes"],
                n["p50_us"].as_f64().unwrap_or(0.0) / 1000.0,
                n["p99_us"].as_f64().unwrap_or(0.0) / 1000.0,
                n["max_us"].as_f64().unwrap_or(0.0) / 1000.0
            );
        }
        if let Some(m) = &made {
            println!(
                "factory: {} orders made and shipped ({} work orders), {} not due before the end, {} still open, {} failed; at most {:.1} s late",
                m.shipped,
                m.work_orders,
                m.not_due,
                m.open(ok as u64),
                m.failed,
                m.most_late.as_secs_f64()
            );
            if let Some(f) = &m.first_failure {
                eprintln!("factory's first failure: {f}");
            }
        }
        if let Some(w) = &windows {
            print_windows(w, args.seconds);
        }
    }
    if let Some(n) = delivered {
        eprintln!("{n} webhook deliveries reached the receiver during the run");
    }
    if let Some(db) = &args.compare_pgbench {
        let (clients, seconds) = (args.concurrency.max(1), args.seconds);
        let pg = tokio::task::spawn_blocking({
            let db = db.clone();
            move || super::pgbench::run(&db, clients, seconds)
        })
        .await??;
        let rate = ok as f64 / elapsed;
        println!(
            "pgbench: {:.0} transactions/s of three inserts, p99 {} ({clients} clients, same database); \
             Kiln / pgbench = {:.2}",
            pg.tps,
            pg.p99_ms.map_or("?".to_string(), |p| format!("{p:.1} ms")),
            rate / pg.tps
        );
    }
    if let Some(f) = &all.first_failure {
        eprintln!("first failure: {f}");
    }
    Ok(if all.failed == 0 && ok > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One window of a run: what was acknowledged in `[from_s, to_s)`.
#[derive(serde::Serialize)]
struct Window {
    from_s: f64,
    to_s: f64,
    orders_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The server's resident memory at the window's end, when watched.
    rss_mib: Option<f64>,
}

/// The run cut into windows of `every` seconds by completion time.
fn windows(all: &Tally, every: f64, seconds: f64, memory: &[(f64, f64)]) -> Vec<Window> {
    let every_ms = (every * 1000.0).max(1.0);
    let mut by: std::collections::BTreeMap<u64, Vec<u64>> = std::collections::BTreeMap::new();
    for (done, lat) in all.done_ms.iter().zip(&all.latencies_us) {
        by.entry((*done as f64 / every_ms) as u64)
            .or_default()
            .push(*lat);
    }
    by.into_iter()
        .map(|(i, mut lat)| {
            lat.sort_unstable();
            let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0;
            let (from_s, to_s) = (i as f64 * every, (i + 1) as f64 * every);
            Window {
                from_s,
                to_s,
                // The last window may end at the deadline, not a whole one.
                orders_per_second: (lat.len() as f64
                    / (to_s.min(seconds) - from_s).max(every / 100.0)
                    * 10.0)
                    .round()
                    / 10.0,
                p50_ms: pct(0.5),
                p99_ms: pct(0.99),
                rss_mib: memory
                    .iter()
                    .rev()
                    .find(|(at, _)| *at <= to_s + every / 2.0)
                    .map(|(_, mib)| *mib),
            }
        })
        .collect()
}

fn print_windows(w: &[Window], seconds: f64) {
    for x in w {
        println!(
            "  {:>6.0}-{:<6.0} s: {:>6.0} orders/s, p50 {:>6.1} ms, p99 {:>6.1} ms{}",
            x.from_s,
            x.to_s,
            x.orders_per_second,
            x.p50_ms,
            x.p99_ms,
            x.rss_mib
                .map_or(String::new(), |m| format!(", server {m:.0} MiB"))
        );
    }
    // A window cut short by the deadline says little: compare whole ones.
    let whole: Vec<&Window> = w.iter().filter(|x| x.to_s <= seconds + 1e-6).collect();
    if let (Some(first), Some(last)) = (whole.first(), whole.last()) {
        println!(
            "steadiness: p99 of the last whole window {:.1} ms against the first's {:.1} ms ({:+.0}%)",
            last.p99_ms,
            first.p99_ms,
            (last.p99_ms / first.p99_ms - 1.0) * 100.0
        );
    }
}

/// The watched process's resident memory every `every` seconds until the
/// deadline: `(seconds since start, MiB)`.
async fn sample_memory(pid: u32, every: f64, deadline: Instant) -> Vec<(f64, f64)> {
    let started = Instant::now();
    let mut out = Vec::new();
    loop {
        if let Some(kib) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            })
        {
            out.push((started.elapsed().as_secs_f64(), kib / 1024.0));
        }
        if Instant::now() >= deadline {
            return out;
        }
        tokio::time::sleep(Duration::from_secs_f64(every)).await;
    }
}
