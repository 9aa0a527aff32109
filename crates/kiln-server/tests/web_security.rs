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
