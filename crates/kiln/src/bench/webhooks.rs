//! `kiln bench webhooks`: orders arrive at a steady rate while a receiver in
//! this process takes the platform's signed `order.created` deliveries.
//! Reports the delay from each order's acknowledgement (its commit) to its
//! event reaching the receiver, and, with `--down-seconds`, what a receiver
//! that was down gets once it is back: every event, each id at most once
//! after a 2xx.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct WebhooksArgs {
    /// Base URL of a running `kiln serve --demo` (webhooks to loopback allowed).
    #[arg(long)]
    url: String,
    /// A key of the brand with `orders:write` and `webhooks:write` (the demo key).
    #[arg(long, env = "KILN_KEY")]
    key: String,
    #[arg(long, default_value = "demo")]
    brand: String,
    /// Orders per second.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// How long orders arrive at that rate.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// The receiver answers 503 for this long from the start, then 2xx.
    #[arg(long, default_value_t = 0.0)]
    down_seconds: f64,
    /// How long to wait for the last deliveries after the orders stop.
    #[arg(long, default_value_t = 120.0)]
    drain_seconds: f64,
    /// Concurrent clients placing orders.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long)]
    json: bool,
}

pub fn run(args: WebhooksArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(bench(args))
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// order id -> when its event first arrived with a 2xx answer.
    delivered: HashMap<String, Instant>,
    /// webhook-id -> 2xx answers given.
    ok_by_id: HashMap<String, u32>,
    refused: u64,
}

struct Receiver {
    seen: Mutex<Seen>,
    up_at: Instant,
}

async fn receive(
    axum::extract::State(rx): axum::extract::State<Arc<Receiver>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let now = Instant::now();
    let mut seen = rx.seen.lock().unwrap_or_else(|e| e.into_inner());
    if now < rx.up_at {
        seen.refused += 1;
        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    *seen.ok_by_id.entry(id).or_default() += 1;
    if let Ok(event) = serde_json::from_slice::<Value>(&body)
        && let Some(order) = event["data"]["id"].as_str()
    {
        seen.delivered.entry(order.to_string()).or_insert(now);
    }
    axum::http::StatusCode::NO_CONTENT
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn bench(args: WebhooksArgs) -> anyhow::Result<ExitCode> {
    let base = args.url.trim_end_matches('/').to_string();
    let brand = format!("{base}/api/v1/brands/{}", args.brand);
    let started = Instant::now();
    let rx = Arc::new(Receiver {
        seen: Mutex::default(),
        up_at: started + Duration::from_secs_f64(args.down_seconds),
    });
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(rx.clone());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let subscription = super::hook::Subscription::start(&client, &brand, &args.key, router).await?;

    // Orders at a steady rate: order n is due at n / rate seconds.
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let total = (args.rate * args.seconds).round() as u64;
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, url, key, acked, next, failed) = (
            client.clone(),
            format!("{brand}/orders"),
            args.key.clone(),
            acked.clone(),
            next.clone(),
            failed.clone(),
        );
        let rate = args.rate;
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let due = t0 + Duration::from_secs_f64(n as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                let body = super::hook::order(n, "mug", "hook");
                let sent = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let at = Instant::now();
                        if let Ok(o) = r.json::<Value>().await
                            && let Some(id) = o["id"].as_str()
                        {
                            acked
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push((id.to_string(), at));
                        }
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let placing = t0.elapsed().as_secs_f64();
    let acked = std::mem::take(&mut *acked.lock().unwrap_or_else(|e| e.into_inner()));
    // Wait for every acknowledged order's event.
    let drain_until = Instant::now() + Duration::from_secs_f64(args.drain_seconds);
    loop {
        let missing = {
            let seen = rx.seen.lock().unwrap_or_else(|e| e.into_inner());
            acked
                .iter()
                .filter(|(id, _)| !seen.delivered.contains_key(id))
                .count()
        };
        if missing == 0 || Instant::now() > drain_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = std::mem::take(&mut *rx.seen.lock().unwrap_or_else(|e| e.into_inner()));
    // Delay from the acknowledgement, for orders placed while the receiver was up.
    let mut delays: Vec<f64> = acked
        .iter()
        .filter(|(_, at)| *at >= rx.up_at)
        .filter_map(|(id, at)| {
            seen.delivered
                .get(id)
                .map(|d| d.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    delays.sort_by(f64::total_cmp);
    let lost = acked
        .iter()
        .filter(|(id, _)| !seen.delivered.contains_key(id))
        .count();
    let duplicates = seen.ok_by_id.values().filter(|n| **n > 1).count();
    // A receiver that was down: when its backlog was through.
    let backlog_done = acked
        .iter()
        .filter(|(_, at)| *at < rx.up_at)
        .filter_map(|(id, _)| seen.delivered.get(id))
        .max()
        .map(|last| last.saturating_duration_since(rx.up_at).as_secs_f64());
    let report = json!({
        "orders": acked.len(),
        "failed_orders": failed.load(Ordering::Relaxed),
        "orders_per_second": (acked.len() as f64 / placing * 10.0).round() / 10.0,
        "delivered": seen.delivered.len(),
        "lost": lost,
        "ids_delivered_twice_after_2xx": duplicates,
        "refused_while_down": seen.refused,
        "delay_p50_ms": (percentile(&delays, 0.5) * 10.0).round() / 10.0,
        "delay_p99_ms": (percentile(&delays, 0.99) * 10.0).round() / 10.0,
        "delay_max_ms": (percentile(&delays, 1.0) * 10.0).round() / 10.0,
        "backlog_through_after_up_s": backlog_done.map(|s| (s * 10.0).round() / 10.0),
        "rate": args.rate,
        "down_seconds": args.down_seconds,
    });
    subscription.cancel(&client).await;
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{} orders at {:.0}/s; {} events delivered, {} lost, {} ids twice after a 2xx; delay from commit p50 {} ms, p99 {} ms, max {} ms{}",
            report["orders"],
            report["orders_per_second"].as_f64().unwrap_or_default(),
            report["delivered"],
            lost,
            duplicates,
            report["delay_p50_ms"],
            report["delay_p99_ms"],
            report["delay_max_ms"],
            match backlog_done {
                Some(s) if args.down_seconds > 0.0 => format!(
                    "; backlog through {s:.1} s after the receiver came back ({} refusals while down)",
                    report["refused_while_down"]
                ),
                _ => String::new(),
            }
        );
    }
    Ok(if lost == 0 && duplicates == 0 && !acked.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
