//! The web platform against its users (issue 16): security headers on every
//! response, no inline script, no form post from another site, and no JSON
//! body that a plain HTML form could send. Runs on SQLite and, with
//! `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;

api_tests!(
    every_response_carries_the_security_headers,
    a_console_post_from_another_site_is_refused,
    the_api_takes_only_json_bodies,
    without_a_key_only_an_online_order_can_be_placed,
    a_publishable_key_places_online_orders_only,
    an_unproven_order_never_joins_or_renames_a_known_customer,
    a_key_for_a_role_holds_that_roles_scopes,
    what_people_type_is_shown_escaped_everywhere,
    the_openapi_document_declares_the_limits_the_server_enforces,
);

async fn every_response_carries_the_security_headers(app: App) {
    let http = no_redirects();
    let cookie = console_cookie(&app, &http).await;
    for path in [
        "/".to_string(),
        format!("/shop/{}", app.slug),
        format!("/shop/{}/p/mug", app.slug),
        format!("/shop/{}/verify", app.slug),
        "/console".into(),
        "/console/orders".into(),
        "/store".into(),
        format!("/api/v1/brands/{}/products", app.slug),
        "/no/such/page".into(),
    ] {
        let r = http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        let h = r.headers().clone();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let csp = get("content-security-policy");
        let script = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in `{csp}`"));
        assert!(!script.contains("unsafe-inline"), "{path}: {script}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get("x-frame-options"), "DENY", "{path}");
        assert!(!get("referrer-policy").is_empty(), "{path}");
        assert!(
            get("strict-transport-security").is_empty(),
            "{path}: HSTS over HTTP"
        );
        // No inline script: only `<script src>` and JSON data blocks.
        let text = r.text().await.unwrap();
        for tag in text.match_indices("<script").map(|(i, _)| &text[i..]) {
            let open = &tag[..tag.find('>').unwrap_or(tag.len())];
            assert!(
                open.contains("src=") || open.contains("application/json"),
                "{path}: inline script {open}"
            );
        }
        assert!(!text.contains(" onclick="), "{path}: an inline handler");
    }
    // Behind a TLS proxy, HSTS.
    let tls = reqwest::Client::new()
        .get(format!("{}/", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(
        tls.headers()
            .get("strict-transport-security")
            .is_some_and(|v| v.to_str().unwrap().contains("max-age=")),
        "no HSTS behind TLS"
    );
}

async fn a_console_post_from_another_site_is_refused(app: App) {
    let http = no_redirects();
    let cookie = console_cookie(&app, &http).await;
    let day = today_plus(9);
    let form = [
        ("work_center", "kiln"),
        ("from", day.as_str()),
        ("to", day.as_str()),
        ("reason", "cross-site"),
    ];
    let downtimes = || async {
        app.get("/downtimes").await.body["downtimes"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = downtimes().await;
    let host = app.base.trim_start_matches("http://").to_string();
    for (name, value) in [
        ("origin", "http://evil.example".to_string()),
        ("sec-fetch-site", "cross-site".to_string()),
        ("origin", "null".to_string()),
    ] {
        let r = http
            .post(format!("{}/console/downtimes", app.base))
            .header(reqwest::header::COOKIE, &cookie)
            .header(name, value.clone())
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(r.text().await.unwrap().contains("sent from another site"));
    }
    assert_eq!(downtimes().await, before, "a refused post took effect");
    // The console's own post, from its own origin, works.
    let own = http
        .post(format!("{}/console/downtimes", app.base))
        .header(reqwest::header::COOKIE, &cookie)
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(own.status().is_redirection(), "{}", own.status());
    assert_eq!(downtimes().await, before + 1);
}

async fn the_api_takes_only_json_bodies(app: App) {
    let body = mug("plain@example.com").to_string();
    let orders = || async {
        app.get("/orders").await.body["orders"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = orders().await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut req = reqwest::Client::new()
            .post(app.brand_url("/orders"))
            .bearer_auth(&app.key)
            .body(body.clone());
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/not-json");
    }
    assert_eq!(
        orders().await,
        before,
        "an order came through as plain text"
    );
    // JSON with a charset, or a +json type, is JSON.
    let r = reqwest::Client::new()
        .post(app.brand_url("/orders"))
        .bearer_auth(&app.key)
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn without_a_key_only_an_online_order_can_be_placed(app: App) {
    let mut store = mug("counter@example.com");
    store["channel"] = serde_json::json!("store");
    store["store_id"] = serde_json::json!("london");
    let mut b2b = mug("buyer@example.com");
    b2b["channel"] = serde_json::json!("b2b");
    let path = format!("/api/v1/brands/{}/orders", app.slug);
    for body in [&store, &b2b] {
        app.call("POST", &path, None, Some(body))
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    // An online order is the storefront's public checkout.
    app.call("POST", &path, None, Some(&mug("online@example.com")))
        .await
        .expect(StatusCode::CREATED);
    // With the brand's key, any channel.
    app.call("POST", &path, Some(&app.key), Some(&store))
        .await
        .expect(StatusCode::CREATED);
}

async fn a_publishable_key_places_online_orders_only(app: App) {
    let path = format!("/api/v1/brands/{}/orders", app.slug);
    let issued = app
        .call(
            "POST",
            &format!("/api/v1/brands/{}/api-keys", app.slug),
            Some(&app.key),
            Some(&serde_json::json!({"label": "web shop", "scopes": ["orders:online"]})),
        )
        .await
        .expect(StatusCode::CREATED);
    let publishable = issued.body["api_key"].as_str().unwrap().to_string();
    let placed = app
        .call(
            "POST",
            &path,
            Some(&publishable),
            Some(&mug("web@example.com")),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(placed.body["channel"], "online");
    // Nothing to read, and no order that speaks for a store or a buyer.
    let mut store = mug("counter@example.com");
    store["channel"] = serde_json::json!("store");
    store["store_id"] = serde_json::json!("london");
    let refused = app
        .call("POST", &path, Some(&publishable), Some(&store))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("orders:write"), "{}", refused.text);
    let read = app.call("GET", &path, Some(&publishable), None).await;
    assert_eq!(read.status, StatusCode::FORBIDDEN);
    let one = format!("{path}/{}", placed.body["id"].as_str().unwrap());
    assert_eq!(
        app.call("GET", &one, Some(&publishable), None).await.status,
        StatusCode::FORBIDDEN
    );
    // A key that holds neither scope is told of both.
    let reader = app
        .call(
            "POST",
            &format!("/api/v1/brands/{}/api-keys", app.slug),
            Some(&app.key),
            Some(&serde_json::json!({"label": "reader", "scopes": ["orders:read"]})),
        )
        .await
        .expect(StatusCode::CREATED);
    let reader = reader.body["api_key"].as_str().unwrap().to_string();
    let refused = app
        .call("POST", &path, Some(&reader), Some(&mug("r@example.com")))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.text.contains("orders:write") && refused.text.contains("orders:online"),
        "{}",
        refused.text
    );
}

async fn an_unproven_order_never_joins_or_renames_a_known_customer(app: App) {
    let path = format!("/api/v1/brands/{}/orders", app.slug);
    // The brand's own order makes the customer.
    let mut theirs = mug("known@example.com");
    theirs["customer"]["name"] = serde_json::json!("Ada Known");
    theirs["customer"]["phone"] = serde_json::json!("+44 20 7946 0000");
    let first = app
        .call("POST", &path, Some(&app.key), Some(&theirs))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first.body["customer_verified"], true);
    // Anyone on the internet, under the same email and another name.
    let mut stranger = mug("Known@Example.com");
    stranger["customer"]["name"] = serde_json::json!("Mallory");
    stranger["customer"]["phone"] = serde_json::json!("+1 555 0100");
    let placed = app
        .call("POST", &path, None, Some(&stranger))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(placed.body["customer_verified"], false);
    assert_eq!(placed.body["customer"]["name"], "Mallory");
    let id = placed.body["id"].as_str().unwrap();
    let read = app
        .call("GET", &format!("{path}/{id}"), Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(read.body["customer_verified"], false);
    assert_eq!(read.body["customer"]["name"], "Mallory");
    assert_eq!(read.body["customer"]["phone"], "+1 555 0100");
    // The customer's record and first order are as they were.
    let first_id = first.body["id"].as_str().unwrap();
    let again = app
        .call("GET", &format!("{path}/{first_id}"), Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(again.body["customer"]["name"], "Ada Known");
    assert_eq!(again.body["customer"]["phone"], "+44 20 7946 0000");
    let listed = app
        .call(
            "GET",
            &format!("{path}?customer_email=known@example.com"),
            Some(&app.key),
            None,
        )
        .await
        .expect(StatusCode::OK);
    let verified: Vec<bool> = listed.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["customer_verified"].as_bool().unwrap())
        .collect();
    assert_eq!(verified, vec![false, true], "{}", listed.text);
    // Store mode shows the clerk which order is unproven.
    let http = no_redirects();
    let cookie = store_mode_cookie(&app, &http, "london").await;
    let found = http
        .get(format!("{}/store?customer=known", app.base))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(found.contains("Ada Known"), "{found}");
    assert!(!found.contains("Mallory"), "{found}");
    assert!(found.contains("online · unverified"), "{found}");
    // A second public order from a new email makes that customer: verified.
    let fresh = app
        .call("POST", &path, None, Some(&mug("fresh@example.com")))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(fresh.body["customer_verified"], true);
}

async fn a_key_for_a_role_holds_that_roles_scopes(app: App) {
    let keys = format!("/api/v1/brands/{}/api-keys", app.slug);
    let app = &app;
    let keys = &keys;
    let issue = |body: serde_json::Value| async move {
        app.call("POST", keys, Some(&app.key), Some(&body)).await
    };
    let operator = issue(serde_json::json!({"label": "terminal", "role": "operator"}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        operator.body["scopes"],
        serde_json::json!(["factory:read", "operations:write"])
    );
    let key = operator.body["api_key"].as_str().unwrap().to_string();
    let order = app.place_ok(&mug("floor@example.com")).await;
    let wo = work_orders_of(&app.order(&order).await)[0].clone();
    let brand = |p: &str| format!("/api/v1/brands/{}{p}", app.slug);
    app.call(
        "POST",
        &brand(&format!("/work-orders/{wo}/operations/1/start")),
        Some(&key),
        None,
    )
    .await
    .expect(StatusCode::OK);
    // An operator cannot ship, nor read the orders.
    let ship = app
        .call(
            "POST",
            &brand(&format!("/orders/{order}/shipments")),
            Some(&key),
            Some(&serde_json::json!({"carrier": "DHL"})),
        )
        .await;
    assert_eq!(ship.status, StatusCode::FORBIDDEN, "{}", ship.text);
    assert_eq!(
        app.call("GET", &brand("/orders"), Some(&key), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The analyst's key reads and changes nothing.
    let analyst = issue(serde_json::json!({"role": "analyst"}))
        .await
        .expect(StatusCode::CREATED);
    let key = analyst.body["api_key"].as_str().unwrap().to_string();
    app.call("GET", &brand("/orders"), Some(&key), None)
        .await
        .expect(StatusCode::OK);
    let start = app
        .call(
            "POST",
            &brand(&format!("/work-orders/{wo}/operations/2/start")),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(start.status, StatusCode::FORBIDDEN);
    // No key is held to one store; a role and scopes are one or the other.
    assert_eq!(
        issue(serde_json::json!({"role": "store_clerk"}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        vec!["/role"]
    );
    assert_eq!(
        issue(serde_json::json!({"role": "planner", "scopes": ["admin"]}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        vec!["/role"]
    );
}

/// A script, as a hostile customer types it.
const SCRIPT: &str = "<script>alert(1)</script>";

/// Whether `page` shows `SCRIPT` as markup (raw) anywhere.
fn raw_script(page: &str) -> bool {
    page.contains("<script>alert(1)")
}

async fn what_people_type_is_shown_escaped_everywhere(app: App) {
    let http = no_redirects();
    let console = console_cookie(&app, &http).await;
    // A store order (with the key) whose customer and address carry a script,
    // and a claim whose reason does.
    let mut body = order_body(
        "xss@example.com",
        "mug",
        serde_json::json!({ "size": "M", "shape": "classic", "glaze": "#1d3557", "pattern": "none", "engraving": "A&B" }),
        1,
    );
    body["customer"]["name"] = serde_json::json!(format!("{SCRIPT} Tester"));
    body["ship_to"]["name"] = serde_json::json!(format!("{SCRIPT} Tester"));
    body["ship_to"]["line1"] = serde_json::json!(format!("1 {SCRIPT} Street"));
    body["channel"] = serde_json::json!("store");
    body["store_id"] = serde_json::json!("london");
    let path = format!("/api/v1/brands/{}/orders", app.slug);
    let placed = app
        .call("POST", &path, Some(&app.key), Some(&body))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let order = placed["id"].as_str().unwrap().to_string();
    let token_page = {
        let o = app
            .kiln
            .order(&app.slug, &kiln_domain::OrderId::from(order.clone()))
            .await
            .unwrap();
        format!("/shop/{}/orders/{order}?token={}", app.slug, o.access_token)
    };
    // Made, so that it has a unit, a label and a claim.
    for wo in work_orders_of(&app.order(&order).await) {
        let w = app.get(&format!("/work-orders/{wo}")).await.body;
        for op in w["operations"].as_array().unwrap() {
            let seq = op["seq"].as_i64().unwrap();
            for act in ["start", "complete"] {
                app.post(
                    &format!("/work-orders/{wo}/operations/{seq}/{act}"),
                    &serde_json::json!({}),
                )
                .await
                .expect(StatusCode::OK);
            }
        }
    }
    let serial = app.get(&format!("/orders/{order}/units")).await.body["units"][0]["serial"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/units/{serial}/claims"),
        &serde_json::json!({ "kind": "warranty", "reason": format!("It broke {SCRIPT}") }),
    )
    .await
    .expect(StatusCode::CREATED);
    let store = store_mode_cookie(&app, &http, "london").await;
    let pages: Vec<(String, &str)> = vec![
        (format!("/console/orders/{order}"), console.as_str()),
        ("/console/orders".into(), console.as_str()),
        ("/console".into(), console.as_str()),
        ("/console/claims".into(), console.as_str()),
        (format!("/console/orders/{order}/labels"), console.as_str()),
        (format!("/store/orders/{order}"), store.as_str()),
        ("/store?customer=xss%40example.com".into(), store.as_str()),
        (token_page, ""),
        (format!("/shop/{}/21/{serial}", app.slug), ""),
        (format!("/shop/{}/p/mug?engraving=A%26B", app.slug), ""),
    ];
    let mut escaped = 0;
    for (path, cookie) in &pages {
        let r = http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, *cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let text = r.text().await.unwrap();
        assert!(!raw_script(&text), "{path} shows the script as markup");
        if text.contains("&lt;script&gt;alert(1)") || text.contains("&#60;script&#62;alert(1)") {
            escaped += 1;
        }
        // An ampersand in an engraving never breaks the SVG preview.
        assert!(
            !text.contains(">A&B<"),
            "{path}: a raw & in the page or its SVG"
        );
    }
    assert!(
        escaped >= 6,
        "the script was shown escaped on only {escaped} pages"
    );
}

async fn the_openapi_document_declares_the_limits_the_server_enforces(app: App) {
    let doc = app
        .call("GET", "/api/v1/openapi.json", None, None)
        .await
        .expect(StatusCode::OK)
        .body;
    let schemas = &doc["components"]["schemas"];
    let prop = |schema: &str, field: &str| schemas[schema]["properties"][field].clone();
    assert_eq!(
        prop("LineInput", "quantity")["maximum"],
        10000,
        "{}",
        schemas["LineInput"]
    );
    assert_eq!(prop("LineInput", "quantity")["minimum"], 1);
    assert_eq!(prop("Address", "name")["maxLength"], 200);
    assert_eq!(prop("Address", "postal_code")["maxLength"], 20);
    assert_eq!(prop("CustomerInput", "email")["maxLength"], 254);
    assert_eq!(prop("ClaimRequest", "reason")["maxLength"], 1000);
    // And they hold: one past each is refused with the field's path.
    let mut body = mug("limits@example.com");
    body["lines"][0]["quantity"] = serde_json::json!(10001);
    body["ship_to"]["postal_code"] = serde_json::json!("1".repeat(21));
    let paths = app
        .call(
            "POST",
            &format!("/api/v1/brands/{}/orders", app.slug),
            Some(&app.key),
            Some(&body),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        paths.contains(&"/ship_to/postal_code".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("/lines/0/quantity")),
        "{paths:?}"
    );
}
