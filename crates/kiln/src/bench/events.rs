//! `kiln bench events`: Segment batches through `/v1/batch` over HTTP into a
//! server in this process, on a fresh SQLite store with the demo brand, from
//! `--clients` connections beside it (issue 13's figure: 50,000 events/s on
//! 2 cores). Then identity resolution at volume: `--identifiers` identifiers
//! in identify calls, one profile in ten joined to another by a later call
//! (a merge), timed from the first call to the last answer.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

#[derive(clap::Args)]
pub struct EventsArgs {
    /// Track events sent through `/v1/batch`.
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Calls per batch request (Segment's libraries send up to 100; 500 fits
    /// the 500 KB limit for small events).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent connections sending batches.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Distinct users the track events come from.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Identifiers to resolve in the second phase (4 per person: user id,
    /// anonymous id, email, phone); 0 skips it.
    #[arg(long, default_value_t = 1_000_000)]
    identifiers: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(bench(args))
}

/// Sends `bodies` from `clients` connections; (seconds, refused requests).
async fn send_all(
    url: &str,
    key: &str,
    bodies: Vec<String>,
    clients: usize,
) -> anyhow::Result<(f64, usize)> {
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (bodies, next, url, key) = (
            bodies.clone(),
            next.clone(),
            url.to_string(),
            key.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut refused = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let r = http
                    .post(&url)
                    .basic_auth(&key, Some(""))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    _ => refused += 1,
                }
            }
            refused
        }));
    }
    let mut refused = 0;
    for t in tasks {
        refused += t.await?;
    }
    Ok((start.elapsed().as_secs_f64(), refused))
}

async fn bench(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let dir = std::env::temp_dir().join(format!(
        "kiln-bench-events-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(kiln_store::SqliteStore::open_dir(&dir).await?);
    let app = kiln_app::App::new(store, kiln_app::Config::default());
    let (brand, _) = app.seed_demo().await.context("seeding the demo")?;
    let key = app
        .create_write_key(
            brand.slug.as_str(),
            &kiln_app::Actor::Cli,
            kiln_app::profiles::WriteKeyInput {
                name: "bench".into(),
            },
        )
        .await?
        .write_key;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/batch", listener.local_addr()?);
    let state = kiln_server::AppState::new(app.clone());
    let server = tokio::spawn(async move { kiln_server::serve(listener, state).await });

    // Phase 1: track events from `users` people.
    let now = kiln_domain::Timestamp::now().to_string();
    let bodies: Vec<String> = (0..args.events.div_ceil(args.batch))
        .map(|b| {
            let calls: Vec<serde_json::Value> = (b * args.batch..((b + 1) * args.batch).min(args.events))
                .map(|n| {
                    serde_json::json!({"type": "track", "userId": format!("user-{}", n % args.users.max(1)),
                        "event": "Product Viewed", "properties": {"product_id": "mug", "n": n},
                        "messageId": format!("ev-{n}"), "timestamp": now})
                })
                .collect();
            serde_json::json!({"batch": calls, "sentAt": now}).to_string()
        })
        .collect();
    let (seconds, refused) = send_all(&url, &key, bodies, args.clients).await?;
    let rate = args.events as f64 / seconds;

    // Phase 2: identifiers to resolve; a tenth of the people come back with
    // a new device first and are merged by a later identify. Resolved twice:
    // by the resolver alone, in memory (the engine's figure), then end to
    // end through `/v1/batch` into SQLite.
    let mut resolve = None;
    let mut in_memory = None;
    if args.identifiers > 0 {
        let calls = identity_calls(args.identifiers / 4);
        let bodies: Vec<String> = calls
            .chunks(args.batch)
            .map(|c| serde_json::json!({"batch": c}).to_string())
            .collect();
        in_memory = Some(resolve_in_memory(&bodies));
        let (s, r) = send_all(&url, &key, bodies, args.clients).await?;
        resolve = Some((s, r, args.identifiers / 40));
    }
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);

    let mut failed = refused > 0;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "events": args.events, "batch": args.batch, "clients": args.clients,
                "seconds": seconds, "events_per_s": rate, "refused": refused,
                "identifiers": args.identifiers,
                "resolve_s": resolve.map(|r| r.0), "resolve_refused": resolve.map(|r| r.1),
                "merges": resolve.map(|r| r.2),
                "resolve_in_memory_s": in_memory.as_ref().map(|m| m.seconds),
                "resolved_identifiers": in_memory.as_ref().map(|m| m.identifiers),
                "in_memory_merges": in_memory.as_ref().map(|m| m.merges),
                "profiles": in_memory.as_ref().map(|m| m.profiles),
            })
        );
    } else {
        println!(
            "ingest: {} events in batches of {} from {} clients: {:.2} s, {:.0} events/s (goal 50,000), {} requests refused",
            args.events, args.batch, args.clients, seconds, rate, refused
        );
        if let Some(m) = &in_memory {
            println!(
                "resolve in memory: {} identifiers of {} calls into {} profiles ({} merges): {:.2} s (goal 5 s)",
                m.identifiers, m.calls, m.profiles, m.merges, m.seconds
            );
        }
        if let Some((s, r, merges)) = resolve {
            println!(
                "resolve end to end (HTTP, resolution, SQLite): {} identifiers ({} merges): {:.2} s, {} requests refused",
                args.identifiers, merges, s, r
            );
            failed |= r > 0;
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The identify calls of `people` people: one in ten seen first
/// anonymously with their email, then everyone signed in on another
/// device with their phone (and email, but for that tenth), then for that
/// tenth a call joining the two (a merge).
fn identity_calls(people: usize) -> Vec<serde_json::Value> {
    let mut calls: Vec<serde_json::Value> = Vec::with_capacity(people + people / 5);
    for p in (0..people).step_by(10) {
        calls.push(
            serde_json::json!({"type": "identify", "anonymousId": format!("dev-{p}"),
            "traits": {"email": format!("p{p}@example.com")}, "messageId": format!("a-{p}")}),
        );
    }
    for p in 0..people {
        let mut traits = serde_json::json!({"phone": format!("+44770{:07}", p % 10_000_000)});
        if p % 10 != 0 {
            traits["email"] = format!("p{p}@example.com").into();
        }
        calls.push(
            serde_json::json!({"type": "identify", "userId": format!("u-{p}"),
            "anonymousId": format!("web-{p}"), "traits": traits, "messageId": format!("i-{p}")}),
        );
    }
    for p in (0..people).step_by(10) {
        calls.push(
            serde_json::json!({"type": "identify", "userId": format!("u-{p}"),
            "traits": {"email": format!("p{p}@example.com")}, "messageId": format!("m-{p}")}),
        );
    }
    calls
}

struct InMemory {
    calls: usize,
    identifiers: usize,
    profiles: usize,
    merges: usize,
    seconds: f64,
}

/// Resolves `calls` with the resolver alone, as one batch over an empty
/// brand under the default rules: parsing as the API does, normalising,
/// resolving, and the changes the store would be handed.
fn resolve_in_memory(bodies: &[String]) -> InMemory {
    use kiln_app::profiles::resolve::Resolver;
    let rules = kiln_domain::ResolutionRules::default();
    let now = kiln_domain::Timestamp::now();
    // Parsed before the clock starts, as the API parses before it resolves.
    let parsed: Vec<_> = bodies
        .iter()
        .filter_map(|b| kiln_app::profiles::tracking::parse_batch(b.as_bytes(), now).ok())
        .flat_map(|p| p.calls)
        .collect();
    let calls = parsed.len();
    let start = Instant::now();
    let mut resolver = Resolver::new(&rules, Vec::new(), Vec::new(), now);
    let mut identifiers = 0;
    for call in parsed {
        let ids = Resolver::identities(&rules, &call.identifiers);
        identifiers += ids.len();
        if let Some(profile) = resolver.resolve(ids, &call.message_id)
            && let Some(traits) = &call.traits
        {
            resolver.set_traits(&profile, traits);
        }
    }
    let changes = resolver.finish();
    InMemory {
        calls,
        identifiers,
        profiles: changes.new_profiles.len() - changes.merges.len(),
        merges: changes.merges.len(),
        seconds: start.elapsed().as_secs_f64(),
    }
}
