//! Online and offline as one (issue 13): Segment's tracking API with a
//! brand's write key, one profile per person across channels, blocked
//! values, merges undone, and erasure with suppression. Runs on SQLite and,
//! with `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    a_write_key_is_made_listed_and_revoked,
    segment_paths_take_the_key_as_basic_or_in_the_body,
    a_batch_keeps_good_calls_and_names_bad_ones_by_index,
    anonymous_browsing_a_sign_in_and_a_store_order_are_one_profile,
    a_message_id_counts_once,
    blocked_values_and_shared_emails_merge_no_one,
    a_wrong_merge_is_undone,
    an_erased_person_is_gone_and_stays_gone,
    resolution_rules_are_checked_and_kept,
    a_shopper_online_is_the_customer_the_clerk_and_the_console_see,
    concurrent_batches_about_the_same_people_make_one_profile_each,
    segments_are_kept_up_to_date_and_fire_events,
    a_segment_mails_who_enters_it_and_keeps_its_trend,
    time_passing_brings_a_profile_into_a_segment,
);

async fn write_key(app: &App) -> String {
    let r = app
        .post("/write-keys", &json!({"name": "web shop"}))
        .await
        .expect(StatusCode::CREATED);
    r.body["write_key"]
        .as_str()
        .expect("a write key")
        .to_string()
}

/// `POST /v1/{path}` with the write key as HTTP Basic.
async fn send(app: &App, key: &str, path: &str, body: &Value) -> Reply {
    let req = app
        .http
        .post(format!("{}/v1/{path}", app.base))
        .basic_auth(key, Some(""))
        .json(body);
    Reply::from(req.send().await.unwrap()).await
}

async fn find(app: &App, query: &str) -> Vec<Value> {
    app.get(&format!("/profiles?{query}"))
        .await
        .expect(StatusCode::OK)
        .body["profiles"]
        .as_array()
        .expect("a list")
        .clone()
}

async fn one(app: &App, query: &str) -> Value {
    let found = find(app, query).await;
    assert_eq!(found.len(), 1, "{query}: {found:?}");
    found[0].clone()
}

fn event_names(profile: &Value) -> Vec<String> {
    profile["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["name"]
                .as_str()
                .unwrap_or(e["type"].as_str().unwrap())
                .to_string()
        })
        .collect()
}

async fn a_write_key_is_made_listed_and_revoked(app: App) {
    let made = app
        .post("/write-keys", &json!({"name": "store app"}))
        .await
        .expect(StatusCode::CREATED);
    let key = made.body["write_key"].as_str().unwrap().to_string();
    let id = made.body["id"].as_str().unwrap().to_string();
    let listed = app.get("/write-keys").await.expect(StatusCode::OK);
    assert!(
        !listed.text.contains(&key),
        "a listed key never shows itself"
    );
    assert!(listed.text.contains(&id));
    let call = json!({"userId": "u1", "event": "Probe"});
    send(&app, &key, "track", &call)
        .await
        .expect(StatusCode::OK);
    app.call(
        "DELETE",
        &format!("/api/v1/brands/{}/write-keys/{id}", app.slug),
        Some(&app.key),
        None,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    send(&app, &key, "track", &call)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // A blank name, and a brand key without the scope.
    assert_eq!(
        app.post("/write-keys", &json!({"name": " "}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["/name"]
    );
}

async fn segment_paths_take_the_key_as_basic_or_in_the_body(app: App) {
    let key = write_key(&app).await;
    for (path, body) in [
        (
            "identify",
            json!({"userId": "p1", "traits": {"plan": "pro"}}),
        ),
        ("track", json!({"userId": "p1", "event": "Product Viewed"})),
        ("page", json!({"userId": "p1", "name": "Home"})),
        ("screen", json!({"userId": "p1", "name": "Home"})),
        ("group", json!({"userId": "p1", "groupId": "acme"})),
        ("alias", json!({"userId": "p1", "previousId": "anon-p1"})),
    ] {
        let r = send(&app, &key, path, &body).await.expect(StatusCode::OK);
        assert_eq!(r.body["success"], true, "{path}");
    }
    let in_body = app
        .http
        .post(format!("{}/v1/track", app.base))
        .json(&json!({"writeKey": key, "userId": "p1", "event": "Body Key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(in_body.status(), StatusCode::OK);
    send(
        &app,
        "wrong-key",
        "track",
        &json!({"userId": "p1", "event": "E"}),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
    // Segment's limits: 32 KB a call, 500 KB a batch.
    let big = json!({"userId": "p1", "event": "Big", "properties": {"x": "x".repeat(40_000)}});
    send(&app, &key, "track", &big)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    let calls: Vec<Value> = (0..30)
        .map(|_| json!({"type": "track", "userId": "p1", "event": "E", "properties": {"x": "x".repeat(20_000)}}))
        .collect();
    send(&app, &key, "batch", &json!({"batch": calls}))
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    send(&app, &key, "track", &json!({"event": "Nobody"}))
        .await
        .problem(StatusCode::BAD_REQUEST);
    // The profile holds the alias, the traits and every call but the body-key one's kind.
    let p = one(&app, "user_id=p1").await;
    assert_eq!(p["traits"]["plan"], "pro");
    assert!(p["identities"].to_string().contains("anon-p1"));
    let names = event_names(&p);
    for n in ["Product Viewed", "Home", "acme", "Body Key"] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
}

async fn a_batch_keeps_good_calls_and_names_bad_ones_by_index(app: App) {
    let key = write_key(&app).await;
    let r = send(
        &app,
        &key,
        "batch",
        &json!({"batch": [
            {"type": "identify", "userId": "b0", "traits": {"email": "b0@example.com"}},
            {"type": "identify", "traits": {"email": "b1@example.com"}},
            {"type": "track", "userId": "b2", "event": "Kept", "timestamp": "not a time"},
            {"type": "identify", "userId": "b3", "traits": {"email": "b3@example.com"}},
        ], "sentAt": "2026-12-05T10:00:00Z"}),
    )
    .await
    .expect(StatusCode::OK);
    let rejected: Vec<u64> = r.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["index"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, [1, 2]);
    assert!(
        r.body["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("userId")
    );
    assert_eq!(r.body["kept"], 2);
    one(&app, "email=b0@example.com").await;
    one(&app, "email=B3@Example.com").await;
    assert!(find(&app, "email=b1@example.com").await.is_empty());
}

async fn anonymous_browsing_a_sign_in_and_a_store_order_are_one_profile(app: App) {
    let key = write_key(&app).await;
    send(
        &app,
        &key,
        "page",
        &json!({"anonymousId": "anon-ada", "name": "Mug configurator"}),
    )
    .await
    .expect(StatusCode::OK);
    send(&app, &key, "track", &json!({"anonymousId": "anon-ada", "event": "Product Configured", "properties": {"product_id": "mug"}}))
        .await
        .expect(StatusCode::OK);
    send(&app, &key, "identify", &json!({"userId": "ada", "anonymousId": "anon-ada", "traits": {"email": "ada@example.com", "name": "Ada"}}))
        .await
        .expect(StatusCode::OK);
    // A store order under the same email, written another way.
    let mut order = mug("  ADA@Example.COM ");
    order["channel"] = json!("store");
    order["store_id"] = json!("london");
    let placed = app
        .post("/orders", &order)
        .await
        .expect(StatusCode::CREATED);
    let id = placed.body["id"].as_str().unwrap().to_string();
    // The order joins the profile off the order's path: wait for it.
    let mut p = Value::Null;
    for _ in 0..50 {
        p = one(&app, "email=ada@example.com").await;
        if event_names(&p).iter().any(|n| n == "Order Completed") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let names = event_names(&p);
    for n in ["Mug configurator", "Product Configured", "Order Completed"] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    assert_eq!(p["orders"][0]["id"], id.as_str());
    assert_eq!(p["stores"], json!(["london"]));
    assert!(
        p["lifetime_value"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .is_some()
    );
    assert_eq!(p["traits"]["name"], "Ada");
    // Found by each identity, and the same profile each time.
    for q in [
        "user_id=ada",
        "anonymous_id=anon-ada",
        "email=%20Ada@EXAMPLE.com",
    ] {
        assert_eq!(one(&app, q).await["id"], p["id"], "{q}");
    }
    let pid = p["id"].as_str().unwrap();
    let events = app
        .get(&format!("/profiles/{pid}/events?limit=2"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(events.body["events"].as_array().unwrap().len(), 2);
    app.get(&format!("/profiles/{pid}/events?before=yesterday"))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    // A store order of someone never seen online makes their profile.
    let id2 = app.place_ok(&mug("walk-in@example.com")).await;
    for _ in 0..50 {
        if !find(&app, "email=walk-in@example.com").await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        one(&app, "email=walk-in@example.com").await["orders"][0]["id"],
        id2.as_str()
    );
    // A search needs exactly one identity.
    app.get("/profiles")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.get("/profiles?email=a@b.c&user_id=x")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_message_id_counts_once(app: App) {
    let key = write_key(&app).await;
    let call = json!({"userId": "d1", "event": "Once", "messageId": "m-1"});
    let first = send(&app, &key, "track", &call)
        .await
        .expect(StatusCode::OK);
    assert_eq!(first.body["kept"], 1);
    let again = send(&app, &key, "track", &call)
        .await
        .expect(StatusCode::OK);
    assert_eq!(again.body["duplicates"], 1);
    let batch = json!({"batch": [
        {"type": "track", "userId": "d1", "event": "Twice", "messageId": "m-2"},
        {"type": "track", "userId": "d1", "event": "Twice", "messageId": "m-2"},
    ]});
    let r = send(&app, &key, "batch", &batch)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (r.body["kept"].as_u64(), r.body["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    let names = event_names(&one(&app, "user_id=d1").await);
    assert_eq!(names.iter().filter(|n| *n == "Once").count(), 1);
    assert_eq!(names.iter().filter(|n| *n == "Twice").count(), 1);
}

async fn blocked_values_and_shared_emails_merge_no_one(app: App) {
    let key = write_key(&app).await;
    for (anon, email) in [("bla", "a@example.com"), ("blb", "b@example.com")] {
        send(
            &app,
            &key,
            "identify",
            &json!({"userId": "anonymous", "anonymousId": anon, "traits": {"email": email}}),
        )
        .await
        .expect(StatusCode::OK);
    }
    let (a, b) = (
        one(&app, "email=a@example.com").await,
        one(&app, "email=b@example.com").await,
    );
    assert_ne!(a["id"], b["id"]);
    assert!(find(&app, "user_id=anonymous").await.is_empty());
    for user in ["c", "d"] {
        send(
            &app,
            &key,
            "identify",
            &json!({"userId": user, "traits": {"email": "null@example.com"}}),
        )
        .await
        .expect(StatusCode::OK);
    }
    assert_ne!(
        one(&app, "user_id=c").await["id"],
        one(&app, "user_id=d").await["id"]
    );
    // A family email: two signed-in people never become one.
    for user in ["mum", "dad"] {
        send(
            &app,
            &key,
            "identify",
            &json!({"userId": user, "traits": {"email": "family@example.com"}}),
        )
        .await
        .expect(StatusCode::OK);
    }
    let (mum, dad) = (
        one(&app, "user_id=mum").await,
        one(&app, "user_id=dad").await,
    );
    assert_ne!(mum["id"], dad["id"]);
    assert_eq!(one(&app, "email=family@example.com").await["id"], mum["id"]);
}

async fn a_wrong_merge_is_undone(app: App) {
    let key = write_key(&app).await;
    send(
        &app,
        &key,
        "identify",
        &json!({"anonymousId": "kiosk", "traits": {"email": "eve@example.com", "team": "red"}}),
    )
    .await
    .expect(StatusCode::OK);
    send(
        &app,
        &key,
        "track",
        &json!({"userId": "frank", "event": "Frank Browsed"}),
    )
    .await
    .expect(StatusCode::OK);
    // A shared kiosk's anonymous id joins Frank to Eve's profile.
    send(
        &app,
        &key,
        "track",
        &json!({"userId": "frank", "anonymousId": "kiosk", "event": "Kiosk"}),
    )
    .await
    .expect(StatusCode::OK);
    let merged = one(&app, "user_id=frank").await;
    assert_eq!(merged["id"], one(&app, "email=eve@example.com").await["id"]);
    let merge = merged["merged"][0]["id"]
        .as_str()
        .expect("a merge")
        .to_string();
    let pid = merged["id"].as_str().unwrap();
    let undone = app
        .post(&format!("/profiles/{pid}/merges/{merge}/undo"), &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(undone.body["merged"], json!([]));
    let (eve, frank) = (
        one(&app, "email=eve@example.com").await,
        one(&app, "user_id=frank").await,
    );
    assert_ne!(eve["id"], frank["id"]);
    assert!(event_names(&frank).contains(&"Frank Browsed".to_string()));
    assert!(!event_names(&eve).contains(&"Frank Browsed".to_string()));
    assert_eq!(eve["traits"]["team"], "red");
    app.post(&format!("/profiles/{pid}/merges/{merge}/undo"), &json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
}

async fn an_erased_person_is_gone_and_stays_gone(app: App) {
    let key = write_key(&app).await;
    send(
        &app,
        &key,
        "identify",
        &json!({"userId": "gone", "traits": {"email": "gone@example.com"}}),
    )
    .await
    .expect(StatusCode::OK);
    let order = app.place_ok(&mug("gone@example.com")).await;
    let p = one(&app, "email=gone@example.com").await;
    let pid = p["id"].as_str().unwrap();
    let r = app
        .call(
            "DELETE",
            &format!("/api/v1/brands/{}/profiles/{pid}", app.slug),
            Some(&app.key),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["orders_anonymised"], 1);
    assert!(find(&app, "email=gone@example.com").await.is_empty());
    app.get(&format!("/profiles/{pid}"))
        .await
        .problem(StatusCode::NOT_FOUND);
    let o = app.order(&order).await;
    assert!(!o.to_string().contains("gone@example.com"), "{o}");
    assert_eq!(o["ship_to"]["country"], "GB");
    assert!(o["total"].is_string());
    // Later events with the same identities are dropped.
    let later = send(
        &app,
        &key,
        "identify",
        &json!({"anonymousId": "new-device", "traits": {"email": "GONE@example.com"}}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(later.body["suppressed"], 1);
    assert!(find(&app, "email=gone@example.com").await.is_empty());
    assert!(find(&app, "anonymous_id=new-device").await.is_empty());
    // The erasure is audited, without the person.
    let audit = app.get("/audit").await.expect(StatusCode::OK);
    assert!(audit.text.contains("profile.erased"), "{}", audit.text);
    assert!(!audit.text.contains("gone@example.com"));
}

async fn resolution_rules_are_checked_and_kept(app: App) {
    let rules = app.get("/identity-rules").await.expect(StatusCode::OK).body;
    assert_eq!(rules["identities"][0]["kind"], "user_id");
    let bad = json!({"identities": [
        {"kind": "email", "priority": 1, "limit": 0},
        {"kind": "email", "priority": 2, "limit": 1}], "blocked": []});
    let put = |body: Value| {
        let req = app
            .http
            .put(app.brand_url("/identity-rules"))
            .bearer_auth(&app.key)
            .json(&body);
        async move { Reply::from(req.send().await.unwrap()).await }
    };
    let paths = put(bad).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/identities/0/limit", "/identities/1/kind"]);
    // Only emails resolve, and "shared@example.com" is junk.
    let mine = json!({"identities": [{"kind": "email", "priority": 1, "limit": 1}], "blocked": ["shared@example.com"]});
    put(mine.clone()).await.expect(StatusCode::OK);
    assert_eq!(app.get("/identity-rules").await.body, mine);
    let key = write_key(&app).await;
    let r = send(
        &app,
        &key,
        "identify",
        &json!({"userId": "x", "traits": {"email": "shared@example.com"}}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(r.body["unresolved"], 1);
}

/// Polls `query` until its one profile has an event named `name`.
async fn wait_for_event(app: &App, query: &str, name: &str) -> Value {
    for _ in 0..50 {
        let found = find(app, query).await;
        if let [p] = found.as_slice()
            && event_names(p).iter().any(|n| n == name)
        {
            return p.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no profile for {query} with {name}: {:?}",
        find(app, query).await
    );
}

async fn a_shopper_online_is_the_customer_the_clerk_and_the_console_see(app: App) {
    let http = no_redirects();
    let shop = format!("{}/shop/{}", app.base, app.slug);
    // An anonymous visitor looks at the mug and puts one in the cart.
    let viewed = http.get(format!("{shop}/p/mug")).send().await.unwrap();
    let visitor = cookies_of(&viewed)
        .into_iter()
        .find(|c| c.starts_with("kiln_visitor="))
        .expect("a visitor cookie");
    let added = http
        .post(format!("{shop}/cart"))
        .header(reqwest::header::COOKIE, visitor.clone())
        .form(&[("_product", "mug"), ("size", "L"), ("shape", "tall")])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let cookie = [visitor.clone(), cookies_of(&added).join("; ")].join("; ");
    // Checks out: who they are joins what they did.
    let placed = http
        .post(format!("{shop}/checkout"))
        .header(reqwest::header::COOKIE, cookie)
        .form(&[
            ("name", "Olive Online"),
            ("email", "olive@example.com"),
            ("line1", "1 High Street"),
            ("city", "London"),
            ("postal_code", "N1 9GU"),
            ("country", "GB"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        placed.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        placed.text().await
    );
    let p = wait_for_event(&app, "email=olive@example.com", "Order Completed").await;
    let p = if event_names(&p).iter().any(|n| n == "Product Added") {
        p
    } else {
        wait_for_event(&app, "email=olive@example.com", "Product Added").await
    };
    let names = event_names(&p);
    for n in [
        "Product Viewed",
        "Product Configured",
        "Product Added",
        "Order Completed",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    let anon = visitor.trim_start_matches("kiln_visitor=");
    assert_eq!(
        one(&app, &format!("anonymous_id={anon}")).await["id"],
        p["id"]
    );
    // The clerk who looks her up in a store sees what she did online.
    let clerk = store_mode_cookie(&app, &http, "london").await;
    let home = http
        .get(format!("{}/store?customer=olive@example.com", app.base))
        .header(reqwest::header::COOKIE, clerk)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Online lately"), "{home}");
    assert!(home.contains("put a mug in the cart"), "{home}");
    // The console finds her and shows her whole; an admin can erase her.
    let console = console_cookie(&app, &http).await;
    let get = |path: String| {
        let req = http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, console.clone());
        async move { req.send().await.unwrap() }
    };
    let list = get("/console/profiles?q=olive@example.com".into())
        .await
        .text()
        .await
        .unwrap();
    let pid = p["id"].as_str().unwrap();
    assert!(list.contains(&format!("/console/profiles/{pid}")), "{list}");
    let page = get(format!("/console/profiles/{pid}"))
        .await
        .text()
        .await
        .unwrap();
    for s in ["Olive Online", "Product Added", "Order Completed", "Erase"] {
        assert!(page.contains(s), "{s}: {page}");
    }
    let erased = http
        .post(format!("{}/console/profiles/{pid}/erase", app.base))
        .header(reqwest::header::COOKIE, console.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), StatusCode::SEE_OTHER);
    assert!(find(&app, "email=olive@example.com").await.is_empty());
    assert_eq!(
        get(format!("/console/profiles/{pid}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn concurrent_batches_about_the_same_people_make_one_profile_each(app: App) {
    let key = write_key(&app).await;
    // Eight clients at once, each telling about the same 40 people from
    // its own device: requests are written together, never twice.
    let sends = (0..8).map(|client| {
        let calls: Vec<Value> = (0..40)
            .map(|p| {
                json!({"type": "identify", "anonymousId": format!("dev-{client}-{p}"),
                       "userId": format!("same-{p}"), "traits": {"email": format!("same{p}@example.com")}})
            })
            .collect();
        let body = json!({"batch": calls});
        let (app, key) = (&app, key.clone());
        async move { send(app, &key, "batch", &body).await }
    });
    for r in futures_join(sends).await {
        let r = r.expect(StatusCode::OK);
        assert_eq!(r.body["kept"], 40);
    }
    for p in [0, 17, 39] {
        let one = one(&app, &format!("email=same{p}@example.com")).await;
        let anons = one["identities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "anonymous_id")
            .count();
        assert_eq!(anons, 8, "{one}");
    }
}

/// Runs the futures at once and gives their outputs in order.
async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let fs: Vec<_> = fs.map(Box::pin).collect();
    let mut out = Vec::new();
    // Polled together: each is started before any is awaited to the end.
    let mut pending: Vec<_> = fs.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, f) in pending.iter_mut().enumerate() {
            if let Some(fut) = f {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *f = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(
        results
            .into_iter()
            .map(|r| r.expect("every future finished")),
    );
    out
}

async fn segments_are_kept_up_to_date_and_fire_events(app: App) {
    let key = write_key(&app).await;
    let configured = |user: &str| json!({"userId": user, "event": "Product Configured", "properties": {"product_id": "sneaker"}});
    send(&app, &key, "track", &configured("s1"))
        .await
        .expect(StatusCode::OK);
    let made = app
        .post(
            "/segments",
            &json!({"name": "Sneaker browsers", "rules": [
                {"kind": "did", "event": "Product Configured", "within_days": 7, "product_id": "sneaker"},
                {"kind": "did_not", "event": "Order Completed", "within_days": 7}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(made.body["members"], 1, "filled when made: {}", made.text);
    send(&app, &key, "track", &configured("s2"))
        .await
        .expect(StatusCode::OK);
    let listed = app.get("/segments").await.expect(StatusCode::OK);
    assert_eq!(listed.body["segments"][0]["members"], 2, "{}", listed.text);
    assert_eq!(
        one(&app, "user_id=s2").await["segments"],
        json!(["Sneaker browsers"])
    );
    // s1 orders: out of the segment.
    send(
        &app,
        &key,
        "track",
        &json!({"userId": "s1", "event": "Order Completed"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(app.get("/segments").await.body["segments"][0]["members"], 1);
    assert_eq!(one(&app, "user_id=s1").await["segments"], json!([]));
    // Each move is an event of the platform, for its webhooks.
    let events = app
        .get("/events?limit=50")
        .await
        .expect(StatusCode::OK)
        .text;
    assert_eq!(
        events.matches("profile.entered_segment").count(),
        2,
        "{events}"
    );
    assert_eq!(
        events.matches("profile.left_segment").count(),
        1,
        "{events}"
    );
    // A segment without a `did` rule, or with a bad window, is refused.
    let paths = app
        .post(
            "/segments",
            &json!({"name": "x", "rules": [{"kind": "did_not", "event": "E", "within_days": 0}]}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/rules", "/rules/0/within_days"]);
    // The console lists it with its members.
    let http = no_redirects();
    let console = console_cookie(&app, &http).await;
    let page = http
        .get(format!("{}/console/segments", app.base))
        .header(reqwest::header::COOKIE, console)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sneaker browsers"), "{page}");
    assert!(
        page.contains("did Product Configured of sneaker in the last 7 days"),
        "{page}"
    );
}

async fn a_segment_mails_who_enters_it_and_keeps_its_trend(app: App) {
    let key = write_key(&app).await;
    let paths = app
        .post(
            "/segments",
            &json!({"name": "Mug lovers", "rules": [{"kind": "did", "event": "Product Viewed"}],
                    "mail": {"subject": "two\nlines", "body": ""}}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/mail/subject", "/mail/body"]);
    app.post(
        "/segments",
        &json!({"name": "Mug lovers", "rules": [{"kind": "did", "event": "Product Viewed"}],
                "mail": {"subject": "A mug for you, {name}", "body": "Hello {name},\nyour mug awaits."}}),
    )
    .await
    .expect(StatusCode::CREATED);
    send(
        &app,
        &key,
        "identify",
        &json!({"userId": "m1", "traits": {"email": "mia@example.com", "name": "Mia"}}),
    )
    .await
    .expect(StatusCode::OK);
    // One without an email enters too, and gets no mail.
    for user in ["m1", "m2"] {
        send(
            &app,
            &key,
            "track",
            &json!({"userId": user, "event": "Product Viewed"}),
        )
        .await
        .expect(StatusCode::OK);
    }
    assert_eq!(app.kiln.send_due_mail().await.unwrap(), 1);
    // Sent once: nothing is due any more.
    assert_eq!(app.kiln.send_due_mail().await.unwrap(), 0);
    let dir = app.kiln.mail_dir().unwrap().to_path_buf();
    let mails: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter(|m| m.contains("To: mia@example.com"))
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("Subject: A mug for you, Mia"));
    assert!(mails[0].contains("Hello Mia,"));
    let listed = app.get("/segments").await.expect(StatusCode::OK).body;
    let segment = &listed["segments"][0];
    assert_eq!(segment["members"], 2);
    assert_eq!(segment["mail"]["subject"], "A mug for you, {name}");
    let trend = segment["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 30);
    assert_eq!(trend[29]["members"], 2);
    assert_eq!(trend[29]["entered"], 2);
}

async fn time_passing_brings_a_profile_into_a_segment(app: App) {
    let key = write_key(&app).await;
    let days_ago =
        |d: i64| (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * d)).to_string();
    let bought = |user: &str, days: i64| {
        json!({"userId": user, "event": "Order Completed", "timestamp": days_ago(days),
               "properties": {"products": [{"product_id": "mug", "quantity": 1}]}})
    };
    // Bought a mug 93 days ago and nothing since; bought one 10 days ago.
    send(&app, &key, "track", &bought("lapsed", 93))
        .await
        .expect(StatusCode::OK);
    send(&app, &key, "track", &bought("recent", 10))
        .await
        .expect(StatusCode::OK);
    let made = app
        .post(
            "/segments",
            &json!({"name": "Lapsed mug buyers", "rules": [
                {"kind": "did", "event": "Order Completed", "product_id": "mug"},
                {"kind": "did_not", "event": "Order Completed", "within_days": 90}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(made.body["members"], 1, "{}", made.text);
    let segment = kiln_domain::SegmentId::from(made.body["id"].as_str().unwrap());
    let lapsed =
        kiln_domain::ProfileId::from(one(&app, "user_id=lapsed").await["id"].as_str().unwrap());
    // As if the segment had been made before the 90 days ran out: the
    // member is taken out, and the sweep finds them by time alone.
    let brand = app.store.brand_by_slug(&app.slug).await.unwrap().unwrap();
    app.store
        .change_memberships(
            &brand.id,
            &kiln_store::MembershipChanges {
                left: vec![(segment.clone(), lapsed.clone())],
                at: Some(jiff::Timestamp::now()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(app.get("/segments").await.body["segments"][0]["members"], 0);
    app.kiln.sweep_due_segments().await.unwrap();
    assert_eq!(app.get("/segments").await.body["segments"][0]["members"], 1);
    assert_eq!(
        one(&app, "user_id=lapsed").await["segments"],
        json!(["Lapsed mug buyers"])
    );
    assert_eq!(one(&app, "user_id=recent").await["segments"], json!([]));
}
