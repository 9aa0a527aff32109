//! Several servers on one PostgreSQL database (skipped unless
//! `KILN_TEST_POSTGRES` is set): one plans a brand at a time, under its
//! lease; the others forward the brand's requests there; a holder whose lease
//! was taken while it was away writes nothing (the fence); a brand whose
//! holder stopped is taken over and rebuilt from the store, with nothing
//! acknowledged lost and no machine minute booked twice.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Reply, database_url, order_body, pg_connect};
use kiln_store::{Holder, Lease, LeaseStore, PostgresStore, Store};
use reqwest::StatusCode;
use serde_json::json;

/// One server of the group: its store (with leases), app and address.
struct Server {
    base: String,
    kiln: Arc<kiln_app::App>,
    store: Arc<dyn Store>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// A server on `url`, holding leases for `ttl`.
    async fn start(url: &str, name: &str, ttl: Duration) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let holder = Holder {
            id: format!("{name}-{}", uuid::Uuid::new_v4().simple()),
            address: base.clone(),
        };
        let store: Arc<dyn Store> = Arc::new(
            PostgresStore::open(url)
                .await
                .expect("PostgreSQL opens")
                .with_leases(holder, ttl),
        );
        let kiln = kiln_app::App::new(store.clone(), common::config());
        kiln.start_leases();
        let state = kiln_server::AppState::new(kiln.clone());
        let task = tokio::spawn(async move {
            let _ = kiln_server::serve(listener, state).await;
        });
        Server {
            base,
            kiln,
            store,
            task,
        }
    }

    async fn place(&self, http: &reqwest::Client, slug: &str, key: &str, email: &str) -> Reply {
        let body = order_body(email, "mug", json!({}), 1);
        let url = format!("{}/api/v1/brands/{slug}/orders", self.base);
        let req = http
            .post(url)
            .bearer_auth(key)
            .header("Idempotency-Key", email)
            .json(&body);
        Reply::from(req.send().await.unwrap()).await
    }
}

/// A fresh database; `None` (skipped) without `KILN_TEST_POSTGRES`.
async fn database(test: &str) -> Option<(String, String, String)> {
    let Ok(admin) = std::env::var("KILN_TEST_POSTGRES") else {
        eprintln!("skipping {test}: set KILN_TEST_POSTGRES=postgres://... to run it");
        return None;
    };
    let name = format!("kiln_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut pg_connect(&admin).await)
        .await
        .expect("CREATE DATABASE");
    let url = database_url(&admin, &name);
    Some((admin, name, url))
}

async fn drop_database(admin: &str, name: &str) {
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut pg_connect(admin).await)
        .await;
}

/// Every operation on the brand's machines, from the store: no two on one
/// machine may overlap.
async fn assert_no_double_booking(store: &dyn Store, brand: &kiln_domain::BrandId) -> usize {
    let mut rows: Vec<_> = store
        .scheduled_bookings(brand)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.booking)
        .collect();
    rows.sort_by_key(|b| (b.work_center.clone(), b.machine, b.setup_start));
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.work_center == b.work_center && a.machine == b.machine {
            assert!(
                b.setup_start >= a.end_at,
                "two operations on {} machine {} at once: {a:?} and {b:?}",
                a.work_center,
                a.machine
            );
        }
    }
    rows.len()
}

/// Expires the brand's lease, as if its holder had stopped renewing it.
async fn expire(url: &str, brand: &kiln_domain::BrandId) {
    sqlx::query("UPDATE brand_leases SET expires_at = 0 WHERE brand_id = $1")
        .bind(brand.as_str())
        .execute(&mut pg_connect(url).await)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_servers_plan_a_brand_once_and_hand_it_over() {
    let Some((admin, name, url)) = database("two_servers").await else {
        return;
    };
    // Long leases: the test expires them by hand, never by waiting.
    let a = Server::start(&url, "a", Duration::from_secs(120)).await;
    let b = Server::start(&url, "b", Duration::from_secs(120)).await;
    let (brand, key) = a.kiln.seed_demo().await.expect("the demo seeds");
    let slug = brand.slug.to_string();
    let http = reqwest::Client::new();

    // Orders through both: a holds the brand, b forwards to it.
    for i in 0..12 {
        let server = if i % 2 == 0 { &a } else { &b };
        server
            .place(&http, &slug, &key, &format!("both-{i}@example.com"))
            .await
            .expect(StatusCode::CREATED);
    }
    let leases_b = b.store.leases().unwrap();
    assert!(
        a.store.leases().unwrap().valid(&brand.id),
        "a holds the brand"
    );
    assert!(!leases_b.valid(&brand.id), "b never planned it");
    // A read through b is a's view.
    let via_b = http
        .get(format!("{}/api/v1/brands/{slug}/schedule?days=30", b.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(via_b.status(), StatusCode::OK);
    assert!(via_b.headers().get("x-kiln-forwarded").is_none());

    // a is away past its lease; b takes the brand (rebuilt from the store).
    expire(&url, &brand.id).await;
    b.place(&http, &slug, &key, "taken@example.com")
        .await
        .expect(StatusCode::CREATED);
    assert!(leases_b.valid(&brand.id), "b took the brand");

    // a comes back still believing it holds the brand: its write is fenced
    // off, nothing is stored, and the answer says to retry.
    let stale = a
        .kiln
        .place_order(
            &slug,
            Some("stale-key".into()),
            serde_json::from_value(order_body("stale@example.com", "mug", json!({}), 1)).unwrap(),
            kiln_app::orders::Proof::Proven,
        )
        .await;
    assert!(
        matches!(stale, Err(kiln_app::Error::Elsewhere { .. })),
        "a stale holder's order is refused: {stale:?}"
    );
    assert!(
        a.store
            .order_by_idempotency_key(&brand.id, "stale-key")
            .await
            .unwrap()
            .is_none(),
        "nothing of it was written"
    );
    // The same order through a's HTTP now goes to b.
    a.place(&http, &slug, &key, "after@example.com")
        .await
        .expect(StatusCode::CREATED);
    assert!(!a.store.leases().unwrap().valid(&brand.id));
    match a.store.take_lease(&brand.id).await.unwrap() {
        Lease::Elsewhere { address, .. } => assert_eq!(address, b.base),
        held => panic!("b holds the brand, not {held:?}"),
    }

    // A holder that does not answer (dead, its lease not yet expired):
    // requests for its brand are refused with 503 and Retry-After, nothing
    // done; once the lease expires, another server takes the brand.
    sqlx::query(
        "UPDATE brand_leases SET holder = 'gone', address = 'http://127.0.0.1:9', \
         epoch = epoch + 1, expires_at = expires_at + 600000 WHERE brand_id = $1",
    )
    .bind(brand.id.as_str())
    .execute(&mut pg_connect(&url).await)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = b.place(&http, &slug, &key, "during@example.com").await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.text
    );
    assert_eq!(
        refused.body["type"], "/problems/elsewhere",
        "{}",
        refused.text
    );
    expire(&url, &brand.id).await;
    a.place(&http, &slug, &key, "during@example.com")
        .await
        .expect(StatusCode::CREATED);

    // Every acknowledged order is there once, and no machine is double-booked.
    let mut acknowledged: Vec<String> = (0..12).map(|i| format!("both-{i}@example.com")).collect();
    acknowledged.extend(["taken", "after", "during"].map(|k| format!("{k}@example.com")));
    for key in &acknowledged {
        let order = a
            .store
            .order_by_idempotency_key(&brand.id, key)
            .await
            .unwrap();
        assert!(
            order.is_some(),
            "the order acknowledged for {key} is stored"
        );
        let query = kiln_domain::OrderQuery {
            customer_email: Some(key.clone()),
            limit: 10,
            ..Default::default()
        };
        let placed = a.store.orders(&brand.id, &query).await.unwrap();
        assert_eq!(placed.len(), 1, "{key} was placed once");
    }
    assert!(assert_no_double_booking(a.store.as_ref(), &brand.id).await > 0);
    a.task.abort();
    b.task.abort();
    drop_database(&admin, &name).await;
}

/// A server's store on `url`, with leases as `kiln serve` runs it on
/// PostgreSQL, for tests that need no HTTP.
async fn store_on(url: &str, name: &str) -> PostgresStore {
    let holder = Holder {
        id: format!("{name}-{}", uuid::Uuid::new_v4().simple()),
        address: format!("http://{name}.invalid"),
    };
    let store = PostgresStore::open(url).await.expect("PostgreSQL opens");
    store.with_leases(holder, Duration::from_secs(120))
}

/// A server's application on `url` (see [`store_on`]).
async fn app_on(url: &str, name: &str) -> Arc<kiln_app::App> {
    let store: Arc<dyn Store> = Arc::new(store_on(url, name).await);
    kiln_app::App::new(store, common::config())
}

/// Two servers keeping the same new person's events at the same moment (a
/// web shop's calls spread by the load balancer) make one profile of them:
/// every batch is kept, none is refused, and the person's identities from
/// both end on one profile with every event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_servers_resolve_one_person_once() {
    let Some((admin, name, url)) = database("one_person").await else {
        return;
    };
    let (a, b) = (app_on(&url, "a").await, app_on(&url, "b").await);
    let (brand, _) = a.seed_demo().await.expect("the demo seeds");
    let slug = brand.slug.to_string();
    let key = a
        .create_write_key(
            &slug,
            &kiln_app::Actor::Cli,
            kiln_app::profiles::WriteKeyInput {
                name: "web shop".into(),
            },
        )
        .await
        .expect("a write key")
        .write_key;
    let batch = |user: &str, anonymous: &str, n: usize| {
        let calls: Vec<_> = (0..n)
            .map(|i| {
                json!({"type": "track", "event": "Product Viewed", "userId": user,
                       "anonymousId": anonymous,
                       "messageId": format!("{anonymous}-{i}")})
            })
            .collect();
        serde_json::to_vec(&json!({ "batch": calls })).unwrap()
    };
    for round in 0..20 {
        let user = format!("user-{round}");
        let (on_a, on_b) = (format!("a-{round}"), format!("b-{round}"));
        let (body_a, body_b) = (batch(&user, &on_a, 5), batch(&user, &on_b, 5));
        let (kept_a, kept_b) = tokio::join!(
            a.track(Some(&key), None, &body_a),
            b.track(Some(&key), None, &body_b),
        );
        for (server, kept) in [("a", kept_a), ("b", kept_b)] {
            let kept = kept.unwrap_or_else(|e| panic!("round {round}: {server} refused: {e}"));
            assert_eq!(
                kept.ingested.kept, 5,
                "round {round}: {server} kept every call"
            );
        }
        let find = |search: kiln_app::profiles::ProfileSearch| {
            let a = &a;
            let slug = &slug;
            async move { a.find_profiles(slug, &search).await.expect("found") }
        };
        let by_user = find(kiln_app::profiles::ProfileSearch {
            user_id: Some(user.clone()),
            ..Default::default()
        })
        .await;
        assert_eq!(by_user.len(), 1, "round {round}: one profile for {user}");
        let profile = &by_user[0].profile;
        for anonymous in [&on_a, &on_b] {
            let found = find(kiln_app::profiles::ProfileSearch {
                anonymous_id: Some(anonymous.clone()),
                ..Default::default()
            })
            .await;
            assert_eq!(
                found.iter().map(|p| &p.profile.id).collect::<Vec<_>>(),
                [&profile.id],
                "round {round}: {anonymous} is on {user}'s profile"
            );
        }
        let events = a
            .profile_events(&slug, &profile.id, None, None)
            .await
            .expect("its events");
        assert_eq!(
            events.len(),
            10,
            "round {round}: every event on the profile"
        );
    }
    drop((a, b));
    drop_database(&admin, &name).await;
}

/// A brand's lock across servers: held by one, the other waits; given
/// back when its guard drops, however the holder ends, a wait that was
/// given up part-way included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_brand_lock_is_held_by_one_server_and_given_back() {
    let Some((admin, name, url)) = database("brand_lock").await else {
        return;
    };
    let (a, b) = (store_on(&url, "a").await, store_on(&url, "b").await);
    let brand = kiln_domain::BrandId::new();
    let work = kiln_store::BrandWork::Profiles;
    let held = a.lock_brand(&brand, work).await.expect("a takes it");
    // b waits while a holds it; b's wait is given up part-way.
    let waited = tokio::time::timeout(Duration::from_millis(300), b.lock_brand(&brand, work)).await;
    assert!(waited.is_err(), "b waits while a holds the lock");
    // Another brand's lock is free meanwhile.
    drop(
        b.lock_brand(&kiln_domain::BrandId::new(), work)
            .await
            .expect("another brand's lock is free"),
    );
    drop(held);
    let taken = tokio::time::timeout(Duration::from_secs(2), b.lock_brand(&brand, work))
        .await
        .expect("b takes it once a gives it back")
        .expect("no error");
    // And a, whose connection went back to its pool, waits for b in turn.
    let waited = tokio::time::timeout(Duration::from_millis(300), a.lock_brand(&brand, work)).await;
    assert!(waited.is_err(), "a waits while b holds the lock");
    drop(taken);
    drop(
        tokio::time::timeout(Duration::from_secs(2), a.lock_brand(&brand, work))
            .await
            .expect("a takes it again")
            .expect("no error"),
    );
    drop((a, b));
    drop_database(&admin, &name).await;
}

/// The segment sweep, which every server runs each minute, sweeps each
/// brand once per minute across them: the first server to claim the
/// brand's minute sweeps it, the others skip it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_servers_sweep_a_brand_once_a_minute() {
    let Some((admin, name, url)) = database("sweep_once").await else {
        return;
    };
    let (a, b) = (app_on(&url, "a").await, app_on(&url, "b").await);
    a.seed_demo().await.expect("the demo seeds");
    let (on_a, on_b) = tokio::join!(a.sweep_due_segments(), b.sweep_due_segments());
    let (on_a, on_b) = (on_a.expect("a sweeps"), on_b.expect("b sweeps"));
    assert_eq!(
        on_a + on_b,
        1,
        "the demo brand swept once: a {on_a}, b {on_b}"
    );
    let (on_a, on_b) = tokio::join!(a.sweep_due_segments(), b.sweep_due_segments());
    assert_eq!(
        (on_a.unwrap(), on_b.unwrap()),
        (0, 0),
        "not again within the minute"
    );
    drop((a, b));
    drop_database(&admin, &name).await;
}
