//! The open platform over HTTP: a brand joins with a platform admin key,
//! publishes its own catalog, hands out scoped keys, and a partner receives
//! signed webhooks; and a new brand's own product goes from its catalog to a
//! delivered order over the API alone. On both backends, like `api.rs`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    a_new_brand_goes_from_joining_to_a_delivered_order,
    brands_join_with_the_admin_key_only,
    a_bad_catalog_is_refused_whole_with_every_error_at_its_line,
    a_product_with_no_valid_configuration_is_refused_at_its_conflicting_rules,
    a_new_catalog_version_leaves_placed_orders_alone,
    scoped_keys_are_checked_and_revoked_at_once,
    webhooks_are_signed_and_delivered_at_least_once,
    webhook_urls_are_checked_against_request_forgery,
);

const FACTORY: &str = r#"[factory]
name = "Tote works"

[work_center.cutting]
name = "Cutting table"
machines = 1
minutes_per_day = 480

[work_center.sewing]
name = "Sewing machines"
machines = 2
minutes_per_day = 480

[material.canvas]
name = "Cotton canvas"
unit = "m"
on_hand = 200
lead_days = 5
"#;

/// A canvas tote: two sizes, a price rule, a BOM line by size, two operations.
fn tote(base_price: &str, default_size: &str, sewing: &str) -> String {
    format!(
        r#"[product]
id = "tote"
name = "Canvas tote"
currency = "EUR"
base_price = "{base_price}"
ship_days = 2

[option.size]
name = "Size"
values = {{ S = "Small", L = "Large" }}
default = "{default_size}"

[[price]]
if = "size = L"
add = "4.00"

[[bom]]
material = "canvas"
qty = {{ S = 0.5, L = 0.8 }}

[[operation]]
id = "cut"
work_center = "cutting"
minutes = 5

[[operation]]
id = "sew"
work_center = "{sewing}"
minutes = 12
"#
    )
}

fn catalog(base_price: &str) -> Value {
    json!({"files": [
        {"name": "factory.toml", "source": FACTORY},
        {"name": "tote.toml", "source": tote(base_price, "S", "sewing")},
    ]})
}

fn tote_order(email: &str) -> Value {
    json!({
        "customer": {"name": "Ada Lovelace", "email": email},
        "ship_to": {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
                    "postal_code": "SW1Y 4JH", "country": "GB"},
        "channel": "api",
        "lines": [{"product": "tote", "selections": {"size": "L"}, "quantity": 3}]
    })
}

/// A brand made over the API with a fresh platform admin key: (slug, key).
async fn new_brand(app: &App, slug: &str) -> (String, String) {
    let admin = app.kiln.mint_admin_key("test").await.unwrap();
    let made = app
        .call(
            "POST",
            "/api/v1/admin/brands",
            Some(&admin),
            Some(&json!({"slug": slug, "name": "Tote Works"})),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(made.body["brand"]["slug"], slug);
    let key = made.body["api_key"]
        .as_str()
        .expect("the first key")
        .to_string();
    (slug.to_string(), key)
}

async fn a_new_brand_goes_from_joining_to_a_delivered_order(app: App) {
    let (slug, key) = new_brand(&app, "totes").await;
    let b = |path: &str| format!("/api/v1/brands/{slug}{path}");
    // Empty until it publishes.
    let products = app
        .call("GET", &b("/products"), None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(products.body["products"], json!([]));
    let published = app
        .call("PUT", &b("/catalog"), Some(&key), Some(&catalog("20.00")))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(published.body["version"], 1);
    // Configure and order its own product.
    let configured = app
        .call(
            "POST",
            &b("/products/tote/configure"),
            None,
            Some(&json!({"selections": {"size": "L"}})),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(configured.body["price"]["total"], "24.00");
    assert!(configured.body["promised_date"].is_string());
    let order = app
        .call(
            "POST",
            &b("/orders"),
            Some(&key),
            Some(&tote_order("ada@example.com")),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = order.body["id"].as_str().unwrap().to_string();
    assert_eq!(order.body["total"], "72.00");
    assert!(order.body["promised_date"].is_string());
    // Planned on its own factory: its work orders use its work centres.
    let wos = app
        .call("GET", &b("/work-orders"), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    let wos = wos.body["work_orders"].as_array().unwrap().clone();
    assert_eq!(wos.len(), 1);
    let centres: Vec<&str> = wos[0]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["work_center"].as_str().unwrap())
        .collect();
    assert_eq!(centres, ["cutting", "sewing"]);
    // Make it.
    let wo = wos[0]["id"].as_str().unwrap();
    for seq in 1..=2 {
        for step in ["start", "complete"] {
            app.call(
                "POST",
                &b(&format!("/work-orders/{wo}/operations/{seq}/{step}")),
                Some(&key),
                None,
            )
            .await
            .expect(StatusCode::OK);
        }
    }
    let made = app
        .call("GET", &b(&format!("/orders/{id}")), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(made.body["status"], "made");
    // Ship and deliver it.
    let shipment = app
        .call(
            "POST",
            &b(&format!("/orders/{id}/shipments")),
            Some(&key),
            Some(&json!({"carrier": "DHL", "tracking_number": "JD0001"})),
        )
        .await
        .expect(StatusCode::CREATED);
    let sid = shipment.body["id"].as_str().unwrap();
    app.call(
        "POST",
        &b(&format!("/shipments/{sid}/delivered")),
        Some(&key),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let done = app
        .call("GET", &b(&format!("/orders/{id}")), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(done.body["status"], "delivered");
    // The two brands share nothing: neither sees the other's orders.
    let theirs = app
        .call("GET", &b(&format!("/orders/{id}")), Some(&app.key), None)
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let ours = app
        .call(
            "GET",
            &format!("/api/v1/brands/{}/orders", app.slug),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(ours.status, StatusCode::NOT_FOUND);
    let demo_products = app.get_public("/products").await.expect(StatusCode::OK);
    assert!(!demo_products.text.contains("\"tote\""));
}

async fn brands_join_with_the_admin_key_only(app: App) {
    let admin = app.kiln.mint_admin_key("test").await.unwrap();
    let body = json!({"slug": "acme", "name": "Acme"});
    app.call("POST", "/api/v1/admin/brands", Some(&admin), Some(&body))
        .await
        .expect(StatusCode::CREATED);
    for (slug, why) in [("Bad Slug!", "bad"), ("acme", "taken"), ("-x", "bad")] {
        let paths = app
            .call(
                "POST",
                "/api/v1/admin/brands",
                Some(&admin),
                Some(&json!({"slug": slug, "name": "X"})),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(paths, ["/slug"], "a {why} slug `{slug}`");
    }
    let by_brand_key = app
        .call("POST", "/api/v1/admin/brands", Some(&app.key), Some(&body))
        .await;
    assert_eq!(by_brand_key.status, StatusCode::FORBIDDEN);
    let anonymous = app
        .call("POST", "/api/v1/admin/brands", None, Some(&body))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let listed = app
        .call("GET", "/api/v1/admin/brands", Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    assert!(listed.text.contains("\"acme\"") && listed.text.contains("\"demo\""));
    let audit = app
        .call("GET", "/api/v1/admin/audit", Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    assert!(audit.text.contains("brand.created"), "{}", audit.text);
}

async fn a_bad_catalog_is_refused_whole_with_every_error_at_its_line(app: App) {
    let (slug, key) = new_brand(&app, "badcat").await;
    let bad = tote("20.00", "XL", "stitching");
    let files = vec![
        ("factory.toml".to_string(), FACTORY.to_string()),
        ("tote.toml".to_string(), bad.clone()),
    ];
    let want: Vec<(String, u64, u64, String)> = kiln_configure::check_catalog(&files)
        .report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.file.clone(),
                u64::from(d.span.line),
                u64::from(d.span.column),
                d.message.clone(),
            )
        })
        .collect();
    assert!(
        want.len() >= 2,
        "the fixture has two planted errors: {want:?}"
    );
    let body = json!({"files": [
        {"name": "factory.toml", "source": FACTORY},
        {"name": "tote.toml", "source": bad},
    ]});
    let reply = app
        .call(
            "PUT",
            &format!("/api/v1/brands/{slug}/catalog"),
            Some(&key),
            Some(&body),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.content_type, "application/problem+json");
    let got: Vec<(String, u64, u64, String)> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want, "exactly what `kiln model check` reports");
    // Nothing changed.
    let products = app
        .call(
            "GET",
            &format!("/api/v1/brands/{slug}/products"),
            None,
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(products.body["products"], json!([]));
    let versions = app
        .call(
            "GET",
            &format!("/api/v1/brands/{slug}/catalog/versions"),
            Some(&key),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(versions.body["versions"], json!([]));
}

/// The tote with a colour and three rules that cannot all hold, among
/// harmless ones.
fn unsellable_tote() -> String {
    tote("20.00", "S", "sewing")
        + r#"
[option.colour]
values = ["natural", "black"]

[[rule]]
id = "small-natural"
if = "size = S"
then = "colour = natural"

[[rule]]
id = "large-only"
then = "size = L"
message = "Only large totes this season"

[[rule]]
id = "large-black"
if = "size = L"
then = "colour = black"

[[rule]]
id = "black-sold-out"
then = "colour != black"
message = "Black canvas is sold out"
"#
}

/// (file, line, column, message) of each error of a refused upload.
fn errors_of(body: &Value) -> Vec<(String, u64, u64, String)> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn a_product_with_no_valid_configuration_is_refused_at_its_conflicting_rules(app: App) {
    let (slug, key) = new_brand(&app, "unsellable").await;
    let source = unsellable_tote();
    let files = vec![
        ("factory.toml".to_string(), FACTORY.to_string()),
        ("tote.toml".to_string(), source.clone()),
    ];
    assert!(
        kiln_model::check(&files).diagnostics.is_empty(),
        "every file is fine on its own terms"
    );
    // What `kiln model check` prints.
    let want: Vec<(String, u64, u64, String)> = kiln_configure::check_catalog(&files)
        .report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.file.clone(),
                u64::from(d.span.line),
                u64::from(d.span.column),
                d.message.clone(),
            )
        })
        .collect();
    // One error per conflicting rule, at its `[[rule]]` line; the harmless
    // `small-natural` is not among them.
    let line_of = |id: &str| {
        let lines: Vec<&str> = source.lines().collect();
        let at = lines
            .iter()
            .position(|l| *l == format!("id = \"{id}\""))
            .unwrap();
        // The `[[rule]]` header is the line above `id`: 0-based `at` is
        // the header's 1-based line.
        at as u64
    };
    let at: Vec<(String, u64, u64)> = want
        .iter()
        .map(|(f, l, c, _)| (f.clone(), *l, *c))
        .collect();
    let expected: Vec<(String, u64, u64)> = ["large-only", "large-black", "black-sold-out"]
        .iter()
        .map(|id| ("tote.toml".to_string(), line_of(id), 1))
        .collect();
    assert_eq!(at, expected, "{want:?}");
    assert!(
        want[2].3.starts_with(
            "rule `black-sold-out` (Black canvas is sold out) conflicts with rules \
             `large-only` and `large-black`: together they leave no valid configuration of `tote`"
        ),
        "{want:?}"
    );
    let body = json!({"files": [
        {"name": "factory.toml", "source": FACTORY},
        {"name": "tote.toml", "source": source},
    ]});
    let reply = app
        .call(
            "PUT",
            &format!("/api/v1/brands/{slug}/catalog"),
            Some(&key),
            Some(&body),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(
        errors_of(&reply.body),
        want,
        "exactly what `kiln model check` reports"
    );
    // Nothing was published.
    let versions = app
        .call(
            "GET",
            &format!("/api/v1/brands/{slug}/catalog/versions"),
            Some(&key),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(versions.body["versions"], json!([]));
}

async fn a_new_catalog_version_leaves_placed_orders_alone(app: App) {
    let (slug, key) = new_brand(&app, "versions").await;
    let b = |path: &str| format!("/api/v1/brands/{slug}{path}");
    app.call("PUT", &b("/catalog"), Some(&key), Some(&catalog("20.00")))
        .await
        .expect(StatusCode::CREATED);
    let order = app
        .call(
            "POST",
            &b("/orders"),
            Some(&key),
            Some(&tote_order("grace@example.com")),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = order.body["id"].as_str().unwrap();
    let before = app
        .call("GET", &b(&format!("/orders/{id}")), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    let v2 = app
        .call("PUT", &b("/catalog"), Some(&key), Some(&catalog("25.00")))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(v2.body["version"], 2);
    assert!(
        v2.text.contains("base price"),
        "the changes name the base price: {}",
        v2.text
    );
    let after = app
        .call("GET", &b(&format!("/orders/{id}")), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    for field in ["total", "lines", "requirements", "promised_date"] {
        assert_eq!(before.body[field], after.body[field], "{field} kept");
    }
    assert_eq!(after.body["lines"][0]["catalog_version"], 1);
    let price = app
        .call(
            "POST",
            &b("/products/tote/configure"),
            None,
            Some(&json!({"selections": {"size": "L"}})),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(price.body["price"]["total"], "29.00");
    assert_eq!(price.body["catalog_version"], 2);
    // A new order is on version 2, and does not batch with version 1's work order.
    let again = app
        .call(
            "POST",
            &b("/orders"),
            Some(&key),
            Some(&tote_order("grace@example.com")),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again.body["lines"][0]["catalog_version"], 2);
    assert_ne!(
        again.body["lines"][0]["work_order_id"],
        after.body["lines"][0]["work_order_id"]
    );
    // Versions, their files, and the difference.
    let versions = app
        .call("GET", &b("/catalog/versions"), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(versions.body["versions"][0]["version"], 2);
    let v1 = app
        .call("GET", &b("/catalog/versions/1"), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    assert!(v1.text.contains("20.00"));
    let diff = app
        .call("GET", &b("/catalog/diff?from=1&to=2"), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    assert!(!diff.body["changes"].as_array().unwrap().is_empty());
    let audit = app
        .call("GET", &b("/audit"), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    assert!(audit.text.contains("catalog.published"));
}

async fn scoped_keys_are_checked_and_revoked_at_once(app: App) {
    let b = |path: &str| app.brand_path(path);
    let issued = app
        .call(
            "POST",
            &b("/api-keys"),
            Some(&app.key),
            Some(&json!({"label": "reader", "scopes": ["orders:read"]})),
        )
        .await
        .expect(StatusCode::CREATED);
    let reader = issued.body["api_key"].as_str().unwrap().to_string();
    let id = issued.body["id"].as_str().unwrap().to_string();
    assert_eq!(issued.body["scopes"], json!(["orders:read"]));
    app.call("GET", &b("/orders"), Some(&reader), None)
        .await
        .expect(StatusCode::OK);
    let refused = app
        .call(
            "POST",
            &b("/orders"),
            Some(&reader),
            Some(&mug("r@example.com")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("orders:write"), "{}", refused.text);
    let refused = app
        .call("GET", &b("/work-orders"), Some(&reader), None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("factory:read"), "{}", refused.text);
    // Unknown scopes are a problem naming the field.
    let bad = app
        .call(
            "POST",
            &b("/api-keys"),
            Some(&app.key),
            Some(&json!({"scopes": ["orders:nuke"]})),
        )
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(bad, ["/scopes/0"]);
    // Listing never shows a secret.
    let listed = app
        .call("GET", &b("/api-keys"), Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
    assert!(!listed.text.contains(&reader) && !listed.text.contains(&app.key));
    // Rotation: the old key works during the overlap, the new one at once.
    let rotated = app
        .call(
            "POST",
            &b(&format!("/api-keys/{id}/rotate")),
            Some(&app.key),
            Some(&json!({"overlap_seconds": 3600})),
        )
        .await
        .expect(StatusCode::CREATED);
    let fresh = rotated.body["new"]["api_key"].as_str().unwrap().to_string();
    app.call("GET", &b("/orders"), Some(&fresh), None)
        .await
        .expect(StatusCode::OK);
    app.call("GET", &b("/orders"), Some(&reader), None)
        .await
        .expect(StatusCode::OK);
    // Revoked: refused at once.
    app.call(
        "DELETE",
        &b(&format!("/api-keys/{id}")),
        Some(&app.key),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let gone = app.call("GET", &b("/orders"), Some(&reader), None).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    let audit = app
        .call("GET", &b("/audit"), Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
    for action in ["api_key.issued", "api_key.rotated", "api_key.revoked"] {
        assert!(audit.text.contains(action), "{action} in {}", audit.text);
    }
}

/// One delivery as the receiver got it: headers, body, the status it answered.
type Got = (axum::http::HeaderMap, Vec<u8>, u16);

/// A webhook receiver on 127.0.0.1 that answers with `status` and keeps what it got.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Got>>>,
    status: Arc<Mutex<u16>>,
}

async fn receiver() -> Receiver {
    use axum::routing::post;
    let got: Arc<Mutex<Vec<Got>>> = Arc::default();
    let status = Arc::new(Mutex::new(200u16));
    let (g, s) = (got.clone(), status.clone());
    let router = axum::Router::new().route(
        "/hook",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (g, s) = (g.clone(), s.clone());
                async move {
                    let code = *s.lock().unwrap();
                    g.lock().unwrap().push((headers, body.to_vec(), code));
                    axum::http::StatusCode::from_u16(code).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
        status,
    }
}

impl Receiver {
    fn of(&self, order: &str, kind: &str, ok_only: bool) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, body, code)| {
                let text = String::from_utf8_lossy(body);
                text.contains(order) && text.contains(kind) && (!ok_only || *code < 300)
            })
            .cloned()
            .collect()
    }
}

async fn until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

async fn webhooks_are_signed_and_delivered_at_least_once(app: App) {
    let b = |path: &str| app.brand_path(path);
    let rx = receiver().await;
    let made = app
        .call(
            "POST",
            &b("/webhooks"),
            Some(&app.key),
            Some(&json!({"url": rx.url, "events": ["order.created", "order.status_changed"]})),
        )
        .await
        .expect(StatusCode::CREATED);
    let secret = made.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let webhook = made.body["id"].as_str().unwrap().to_string();
    let verifier = kiln_webhooks::Secret::parse(&secret).unwrap();
    // An order is delivered, signed.
    let id = app.place_ok(&mug("hook@example.com")).await;
    assert!(
        until(5, || !rx.of(&id, "order.created", true).is_empty()).await,
        "delivered within 5 s"
    );
    let (headers, body, _) = rx.of(&id, "order.created", true).remove(0);
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert!(h("webhook-id").starts_with("msg_"));
    let ts: i64 = h("webhook-timestamp").parse().unwrap();
    assert!(verifier.verify(&h("webhook-id"), ts, &body, &h("webhook-signature")));
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "order.created");
    assert_eq!(event["data"]["id"], id.as_str());
    assert!(event["timestamp"].is_string());
    // A failing receiver: every event is attempted, then a replay delivers them.
    *rx.status.lock().unwrap() = 500;
    let mut down = Vec::new();
    for n in 0..3 {
        down.push(app.place_ok(&mug(&format!("down{n}@example.com"))).await);
    }
    assert!(
        until(5, || down
            .iter()
            .all(|d| !rx.of(d, "order.created", false).is_empty()))
        .await
    );
    *rx.status.lock().unwrap() = 200;
    app.call(
        "POST",
        &b(&format!("/webhooks/{webhook}/replay")),
        Some(&app.key),
        None,
    )
    .await
    .expect(StatusCode::ACCEPTED);
    assert!(
        until(10, || down
            .iter()
            .all(|d| !rx.of(d, "order.created", true).is_empty()))
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Never again after a 2xx.
    let ok_ids: Vec<String> = rx
        .got
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, code)| *code < 300)
        .map(|(h, _, _)| h["webhook-id"].to_str().unwrap().to_string())
        .collect();
    let mut unique = ok_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ok_ids.len(),
        "an id delivered twice after a 2xx"
    );
    // The delivery log shows the failed attempts and the success.
    let log = app
        .call(
            "GET",
            &b(&format!("/webhooks/{webhook}/deliveries")),
            Some(&app.key),
            None,
        )
        .await
        .expect(StatusCode::OK);
    let failed_then_ok = log.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["state"] == "delivered" && d["attempts"].as_i64().unwrap() >= 2)
        .count();
    assert!(failed_then_ok >= 3, "{}", log.text);
    // Events the endpoint did not subscribe to are not sent.
    assert!(rx.of(&id, "shipment.created", false).is_empty());
}

async fn webhook_urls_are_checked_against_request_forgery(app: App) {
    // This app allows loopback (the tests' receivers); a server that does not
    // refuses it, and nobody gets link-local (cloud metadata) or private ranges.
    let b = |path: &str| app.brand_path(path);
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
        "http://[fe80::1]/hook",
        "ftp://example.com/hook",
        "http://user:pass@example.com/hook",
        "not a url",
    ] {
        let paths = app
            .call(
                "POST",
                &b("/webhooks"),
                Some(&app.key),
                Some(&json!({"url": url, "events": ["order.created"]})),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(paths, ["/url"], "{url}");
    }
    let strict = kiln_app::App::new(app.store.clone(), kiln_app::Config::default());
    let brand = strict.brand(&app.slug).await.unwrap().brand.clone();
    let refused = strict
        .create_webhook(
            &kiln_app::Actor::Cli,
            &brand,
            kiln_app::webhooks::WebhookInput {
                url: "http://127.0.0.1:9/hook".into(),
                events: vec![kiln_domain::EventType::OrderCreated],
                description: String::new(),
            },
        )
        .await;
    assert!(
        matches!(refused, Err(kiln_app::Error::Invalid { .. })),
        "{refused:?}"
    );
}
