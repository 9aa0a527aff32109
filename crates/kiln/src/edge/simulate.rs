//! `kiln edge simulate`: plays a brand's factory floor against a running
//! server, for the demo, the tests and the benchmark. Operators start each
//! open work order's next operation when the plan starts it and complete it
//! when the plan ends it, machines report that they run, and break down at
//! random and come back after a few seconds; every event goes through HTTP
//! (`POST .../machine-events`) or, with `--nats`, JetStream.
//!
//! It measures what a planner would see: for each breakdown, the time from
//! sending the event to the server showing the machine down (`GET
//! .../machines`, committed with the replan and its moved promises).

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::bench::rng::Rng;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// The brand whose floor to play.
    #[arg(long)]
    brand: String,
    /// The running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// A key of the brand with `factory:write`.
    #[arg(long, env = "KILN_KEY")]
    key: String,
    /// Publish on NATS JetStream at this URL (`nats://127.0.0.1:4222`) instead
    /// of posting over HTTP; the server must run with `--nats`.
    #[arg(long)]
    nats: Option<String>,
    /// The subjects' prefix on NATS, as the server's `--nats-prefix`.
    #[arg(long, default_value = super::PREFIX)]
    nats_prefix: String,
    /// How long to play, in seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Events per second besides breakdowns: operations started and
    /// completed when the plan says (operators on time), the rest machines
    /// reporting that they run (`machine.up` while up changes nothing but
    /// is kept and applied like any event).
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Breakdowns per minute across the factory, each repaired 5 to 30 s later.
    #[arg(long, default_value_t = 12.0)]
    breakdowns: f64,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// An open work order and its operations not done: `(seq, status, work centre)`.
type OpenWork = (String, Vec<(i64, String, String)>);

/// One machine of the floor, with the next `seq` it will send.
struct Machine {
    work_center: String,
    index: u16,
    next_seq: i64,
    /// When a broken machine is repaired.
    repaired_at: Option<Instant>,
}

/// A breakdown sent and not yet seen applied.
struct Probe {
    machine: usize,
    seq: i64,
    sent: Instant,
}

enum Transport {
    Http(reqwest::Client),
    Nats(Box<(async_nats::jetstream::Context, super::Floor)>),
}

pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(simulate(args))
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let http = reqwest::Client::new();
    let base = format!(
        "{}/api/v1/brands/{}",
        args.url.trim_end_matches('/'),
        args.brand
    );
    let get = {
        let (http, base, key) = (http.clone(), base.clone(), args.key.clone());
        move |path: &str| {
            let http = http.clone();
            let url = format!("{base}{path}");
            let key = key.clone();
            async move {
                let response = http.get(&url).bearer_auth(&key).send().await?;
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                anyhow::ensure!(status.is_success(), "GET {url}: {status} {body}");
                Ok::<_, anyhow::Error>(body)
            }
        }
    };
    let schedule = get("/schedule?days=1").await?;
    let known: HashMap<(String, u16), i64> = get("/machines")
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some((
                (
                    m["work_center"].as_str()?.to_string(),
                    u16::try_from(m["machine"].as_u64()?).ok()?,
                ),
                m["last_seq"].as_i64()?,
            ))
        })
        .collect();
    let mut machines = Vec::new();
    for wc in schedule["work_centers"]
        .as_array()
        .context("the schedule's work centres")?
    {
        let id = wc["id"].as_str().unwrap_or_default().to_string();
        let count = wc["machines"]
            .as_u64()
            .unwrap_or(0)
            .min(u64::from(u16::MAX)) as u16;
        for index in 0..count {
            let last = known.get(&(id.clone(), index)).copied().unwrap_or(0);
            machines.push(Machine {
                work_center: id.clone(),
                index,
                next_seq: last + 1,
                repaired_at: None,
            });
        }
    }
    anyhow::ensure!(!machines.is_empty(), "the brand's factory has no machines");
    let transport = match &args.nats {
        Some(url) => {
            let client = async_nats::connect(url)
                .await
                .with_context(|| format!("connecting to NATS at {url}"))?;
            let js = async_nats::jetstream::new(client);
            let floor = super::Floor::new(&args.nats_prefix)?;
            floor.stream(&js).await?;
            Transport::Nats(Box::new((js, floor)))
        }
        None => Transport::Http(http.clone()),
    };

    let mut rng = Rng(args.seed);
    let mut work: Vec<OpenWork> = Vec::new();
    // The plan's due operations, looked up every 2 s, and the breakdowns'
    // progress, every 50 ms, each by a task of its own so the events keep
    // their rate.
    let due: Arc<Mutex<Option<Vec<OpenWork>>>> = Arc::default();
    let probes: Arc<Mutex<Vec<Probe>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let ids: Arc<Vec<(String, u16)>> = Arc::new(
        machines
            .iter()
            .map(|m| (m.work_center.clone(), m.index))
            .collect(),
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let looker = {
        let (due, stop, get) = (due.clone(), stop.clone(), get.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let (Ok(list), Ok(schedule)) = (
                    get("/work-orders?state=open").await,
                    get("/schedule?days=2").await,
                ) {
                    *lock(&due) = Some(open_operations(&list, &schedule));
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        })
    };
    let watcher = {
        let (probes, latencies, stop, get, ids) = (
            probes.clone(),
            latencies.clone(),
            stop.clone(),
            get.clone(),
            ids.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) || !lock(&probes).is_empty() {
                if !lock(&probes).is_empty()
                    && let Ok(states) = get("/machines").await
                {
                    seen(&states, &ids, &mut lock(&probes), &mut lock(&latencies));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut sent: HashMap<&'static str, u64> = HashMap::new();
    let mut outcomes: HashMap<String, u64> = HashMap::new();
    let start = Instant::now();
    let end = start + Duration::from_secs(args.seconds);
    let tick = Duration::from_millis(10);
    let mut owed = 0.0f64;
    let mut last_tick = start;
    while Instant::now() < end {
        let now = Instant::now();
        if let Some(fresh) = lock(&due).take() {
            work = fresh;
        }
        let mut batch: Vec<(usize, Value)> = Vec::new();
        // Repairs due, then breakdowns.
        for (i, m) in machines.iter_mut().enumerate() {
            if m.repaired_at.is_some_and(|t| t <= now) {
                m.repaired_at = None;
                batch.push((i, event(m, json!({ "type": "machine.up" }))));
                *sent.entry("machine.up").or_default() += 1;
            }
        }
        let p_break = args.breakdowns / 60.0 * (now - last_tick).as_secs_f64();
        if (rng.next() as f64 / u64::MAX as f64) < p_break {
            let i = rng.below(machines.len());
            let m = &mut machines[i];
            if m.repaired_at.is_none() {
                m.repaired_at = Some(now + Duration::from_secs(rng.range(5, 30)));
                let minutes = rng.range(30, 240);
                let e = event(
                    m,
                    json!({ "type": "machine.down", "reason": "simulated breakdown", "expected_minutes": minutes }),
                );
                lock(&probes).push(Probe {
                    machine: i,
                    seq: e["seq"].as_i64().unwrap_or(0),
                    sent: now,
                });
                batch.push((i, e));
                *sent.entry("machine.down").or_default() += 1;
            }
        }
        owed += args.rate * (now - last_tick).as_secs_f64();
        last_tick = now;
        while owed >= 1.0 {
            owed -= 1.0;
            let (i, e, kind) = match next_operation(&mut work, &mut rng) {
                Some((wc, seq, started, work_order)) => {
                    let candidates: Vec<usize> = machines
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| m.work_center == wc)
                        .map(|(i, _)| i)
                        .collect();
                    let i = if candidates.is_empty() {
                        rng.below(machines.len())
                    } else {
                        rng.pick(&candidates)
                    };
                    let kind = if started {
                        "operation.completed"
                    } else {
                        "operation.started"
                    };
                    let e = event(
                        &mut machines[i],
                        json!({ "type": kind, "work_order": work_order, "operation": seq }),
                    );
                    (i, e, kind)
                }
                None => {
                    // A running machine says so (a broken one is silent).
                    let up: Vec<usize> = (0..machines.len())
                        .filter(|&i| machines[i].repaired_at.is_none())
                        .collect();
                    if up.is_empty() {
                        continue;
                    }
                    let i = rng.pick(&up);
                    (
                        i,
                        event(&mut machines[i], json!({ "type": "machine.up" })),
                        "machine.up",
                    )
                }
            };
            *sent.entry(kind).or_default() += 1;
            batch.push((i, e));
        }
        if !batch.is_empty() {
            send(&transport, &base, &args, &machines, batch, &mut outcomes).await?;
        }
        tokio::time::sleep_until((now + tick).into()).await;
    }
    // Breakdowns still in flight get two seconds to show.
    stop.store(true, Ordering::Relaxed);
    looker.abort();
    let _ = tokio::time::timeout(Duration::from_secs(2), watcher).await;
    let mut latencies = std::mem::take(&mut *lock(&latencies));
    let unseen = lock(&probes).len();
    let elapsed = start.elapsed().as_secs_f64();
    let total: u64 = sent.values().sum();
    let mut kinds: Vec<_> = sent.into_iter().collect();
    kinds.sort();
    println!(
        "edge simulate: {total} events in {elapsed:.1} s ({:.0}/s) over {} by {}",
        total as f64 / elapsed,
        if args.nats.is_some() {
            "NATS JetStream"
        } else {
            "HTTP"
        },
        kinds
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !outcomes.is_empty() {
        let mut o: Vec<_> = outcomes.into_iter().collect();
        o.sort_by_key(|x| std::cmp::Reverse(x.1));
        println!(
            "  outcomes: {}",
            o.iter()
                .take(6)
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "  breakdown to replanned and shown (GET /machines, polled every 50 ms): {} seen, {} not within 2 s; p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        unseen,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(if unseen == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One event of machine `m`, numbered by its next `seq`.
fn event(m: &mut Machine, mut what: Value) -> Value {
    let seq = m.next_seq;
    m.next_seq += 1;
    what["seq"] = json!(seq);
    what["at"] = json!(jiff::Timestamp::now().to_string());
    what["work_center"] = json!(m.work_center);
    what["machine"] = json!(m.index);
    what
}

/// Per open work order, its operations not done and due on the floor now:
/// `(seq, status, work centre)`. An operation is due to start once the
/// first of its lines' bars on the schedule starts, and to complete once
/// the last ends: operators work to the plan, on time.
fn open_operations(list: &Value, schedule: &Value) -> Vec<OpenWork> {
    let now = jiff::Timestamp::now();
    // (order, operation name) -> (first start, last end)
    let mut times: HashMap<(String, String), (jiff::Timestamp, jiff::Timestamp)> = HashMap::new();
    for wc in schedule["work_centers"].as_array().into_iter().flatten() {
        for day in wc["days"].as_array().into_iter().flatten() {
            for b in day["bars"].as_array().into_iter().flatten() {
                let (Some(order), Some(op)) = (b["order_id"].as_str(), b["operation"].as_str())
                else {
                    continue;
                };
                let parse = |k: &str| {
                    b[k].as_str()
                        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                };
                let (Some(start), Some(end)) = (parse("setup_start"), parse("end")) else {
                    continue;
                };
                let e = times
                    .entry((order.to_string(), op.to_string()))
                    .or_insert((start, end));
                e.0 = e.0.min(start);
                e.1 = e.1.max(end);
            }
        }
    }
    list["work_orders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| {
            let orders: Vec<&str> = w["order_ids"]
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let ops: Vec<(i64, String, String)> = w["operations"]
                .as_array()?
                .iter()
                .filter(|o| o["status"] != "done")
                .take(1)
                .filter(|o| {
                    let name = o["name"].as_str().unwrap_or_default();
                    let span = orders
                        .iter()
                        .filter_map(|id| times.get(&(id.to_string(), name.to_string())))
                        .fold(
                            None,
                            |acc: Option<(jiff::Timestamp, jiff::Timestamp)>, t| {
                                Some(acc.map_or(*t, |a| (a.0.min(t.0), a.1.max(t.1))))
                            },
                        );
                    match (o["status"].as_str(), span) {
                        (Some("started"), Some((_, end))) => end <= now,
                        (Some("planned"), Some((start, _))) => start <= now,
                        _ => false,
                    }
                })
                .filter_map(|o| {
                    Some((
                        o["seq"].as_i64()?,
                        o["status"].as_str()?.to_string(),
                        o["work_center"].as_str()?.to_string(),
                    ))
                })
                .collect();
            let id = w["id"].as_str()?.to_string();
            (!ops.is_empty()).then_some((id, ops))
        })
        .collect()
}

/// The next step of a random open work order: `(work centre, operation,
/// started already, work order)`; the step is taken off the local copy.
fn next_operation(work: &mut Vec<OpenWork>, rng: &mut Rng) -> Option<(String, i64, bool, String)> {
    if work.is_empty() {
        return None;
    }
    let w = rng.below(work.len());
    let (id, ops) = &mut work[w];
    let (seq, status, wc) = ops.first()?;
    let step = (wc.clone(), *seq, status == "started", id.clone());
    // One step per work order until the next look at the plan.
    work.remove(w);
    Some(step)
}

async fn send(
    transport: &Transport,
    base: &str,
    args: &SimulateArgs,
    machines: &[Machine],
    batch: Vec<(usize, Value)>,
    outcomes: &mut HashMap<String, u64>,
) -> anyhow::Result<()> {
    match transport {
        Transport::Http(http) => {
            let events: Vec<Value> = batch.into_iter().map(|(_, e)| e).collect();
            let response = http
                .post(format!("{base}/machine-events"))
                .bearer_auth(&args.key)
                .json(&json!({ "events": events }))
                .send()
                .await?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            anyhow::ensure!(status.is_success(), "POST machine-events: {status} {body}");
            for a in body["applied"].as_array().into_iter().flatten() {
                let o = a["outcome"].as_str().unwrap_or_default();
                // "applied: down until ..." counts as applied.
                let key = o.split(':').next().unwrap_or(o).to_string();
                *outcomes.entry(key).or_default() += 1;
            }
        }
        Transport::Nats(nats) => {
            let (js, floor) = &**nats;
            let mut acks = Vec::with_capacity(batch.len());
            for (i, e) in batch {
                let m = &machines[i];
                let subject = floor.subject(&args.brand, &m.work_center, m.index);
                let id = format!(
                    "{}.{}.{}.{}",
                    args.brand,
                    m.work_center,
                    m.index,
                    e["seq"].as_i64().unwrap_or(0)
                );
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", id.as_str());
                let ack = js
                    .publish_with_headers(subject, headers, serde_json::to_vec(&e)?.into())
                    .await
                    .map_err(|err| anyhow::anyhow!("publishing: {err}"))?;
                acks.push(ack);
            }
            for ack in acks {
                ack.await
                    .map_err(|err| anyhow::anyhow!("JetStream did not keep an event: {err}"))?;
            }
        }
    }
    Ok(())
}

/// Takes off `probes` the breakdowns the server shows applied.
fn seen(
    states: &Value,
    ids: &[(String, u16)],
    probes: &mut Vec<Probe>,
    latencies: &mut Vec<Duration>,
) {
    let now = Instant::now();
    probes.retain(|p| {
        let (wc, index) = &ids[p.machine];
        let applied = states.as_array().into_iter().flatten().any(|s| {
            s["work_center"] == wc.as_str()
                && s["machine"] == *index
                && s["last_seq"].as_i64().is_some_and(|last| last >= p.seq)
        });
        if applied {
            latencies.push(now - p.sent);
        }
        !applied
    });
}

/// A mutex's guard; a panicked holder left nothing half-done here.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
