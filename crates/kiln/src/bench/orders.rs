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
}

pub fn run(args: OrdersArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(bench(args))
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
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
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, url, ids, counter, key) = (
            client.clone(),
            url.clone(),
            ids.clone(),
            counter.clone(),
            args.key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
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
                        let _ = r.bytes().await;
                        tally.latencies_us.push(t.elapsed().as_micros() as u64);
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
        all.failed += t.failed;
        for (k, n) in t.refusals {
            *all.refusals.entry(k).or_default() += n;
        }
        if all.first_failure.is_none() {
            all.first_failure = t.first_failure;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
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
    let report = json!({
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
