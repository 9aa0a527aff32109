//! A strategy per store (issue 13, section 3): stores declared through the
//! API or met in a till's events, each store's sales by week against its
//! forecast, what runs hotter or colder there, its display and its staffing,
//! and its demand as a series of the brand's plan. Runs on SQLite and, with
//! `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    a_store_is_checked_added_and_listed,
    each_demo_store_has_a_strategy_of_its_own,
    a_tills_events_become_the_stores_sales,
    a_strategy_refuses_bad_parameters_and_unknown_stores,
);

async fn put(app: &App, path: &str, body: &Value) -> Reply {
    app.call(
        "PUT",
        &format!("/api/v1/brands/{}{path}", app.slug),
        Some(&app.key),
        Some(body),
    )
    .await
}

fn store_ids(list: &Value) -> Vec<String> {
    list["stores"]
        .as_array()
        .expect("stores")
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn sum(v: &Value) -> f64 {
    v.as_array()
        .expect("numbers")
        .iter()
        .map(|x| x.as_f64().unwrap())
        .sum()
}

async fn a_store_is_checked_added_and_listed(app: App) {
    let address = json!({"name": "Kiln Paris", "line1": "3 rue du Bac", "city": "Paris",
                         "postal_code": "75007", "country": "FR"});
    let paths = put(
        &app,
        "/stores/Paris!",
        &json!({"name": "Kiln Paris", "address": address}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/store"]);
    let paths = put(
        &app,
        "/stores/paris",
        &json!({"name": " ", "address": {"name": "x", "line1": "", "city": "Paris",
                "postal_code": "75007", "country": "FR"}}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(paths.contains(&"/name".to_string()), "{paths:?}");
    assert!(paths.contains(&"/address/line1".to_string()), "{paths:?}");
    let made = put(
        &app,
        "/stores/paris",
        &json!({"name": "Kiln Paris", "address": address}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(made.body["id"], "paris");
    let list = app.get("/stores").await.expect(StatusCode::OK).body;
    let ids = store_ids(&list);
    assert!(ids.contains(&"paris".to_string()) && ids.contains(&"london".to_string()));
    // Renamed, not doubled.
    put(
        &app,
        "/stores/paris",
        &json!({"name": "Kiln Paris, Saint-Germain", "address": address}),
    )
    .await
    .expect(StatusCode::OK);
    let list = app.get("/stores").await.expect(StatusCode::OK).body;
    assert_eq!(store_ids(&list).iter().filter(|i| *i == "paris").count(), 1);
}

async fn each_demo_store_has_a_strategy_of_its_own(app: App) {
    let london = app
        .get("/stores/london/strategy")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(london["history_weeks"].as_array().unwrap().len(), 26);
    assert_eq!(london["units"].as_array().unwrap().len(), 26);
    assert_eq!(london["forecast"].as_array().unwrap().len(), 8);
    assert!(sum(&london["units"]) > 100.0, "{}", london["units"]);
    assert!(
        london["backtest"]["wape"].is_number(),
        "{}",
        london["backtest"]
    );
    // London sells one configuration of each product far more than the brand.
    let hotter = london["hotter"].as_array().unwrap();
    assert!(hotter.iter().any(|h| h["option"].is_string()), "{hotter:?}");
    let samples = london["assortment"]["samples"].as_array().unwrap();
    assert!(!samples.is_empty() && samples.len() <= 12);
    assert!(samples[0]["label"].as_str().unwrap().contains(" · "));
    let days = london["staffing"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 14);
    assert!(days.iter().all(|d| d["staff"].as_u64().unwrap() >= 1));
    // Berlin sells few of the first product: colder there.
    let berlin = app
        .get("/stores/berlin/strategy?display_slots=4&minutes_per_sale=30")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(
        berlin["colder"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["option"].is_null()),
        "{}",
        berlin["colder"]
    );
    assert!(berlin["assortment"]["samples"].as_array().unwrap().len() <= 4);
    assert_eq!(berlin["staffing"]["minutes_per_sale"], 30);
    // Each store's demand is a series of the brand's plan.
    let demand = app.get("/demand").await.expect(StatusCode::OK).body;
    let weeks = demand["history_weeks"].as_array().unwrap().len();
    let stores = demand["stores"].as_array().unwrap();
    for id in ["london", "berlin"] {
        let s = stores.iter().find(|s| s["store"] == id).expect(id);
        assert_eq!(s["history"].as_array().unwrap().len(), weeks);
        assert_eq!(s["forecast"].as_array().unwrap().len(), 8);
        assert!(sum(&s["history"]) > 0.0);
    }
}

/// A Monday-to-Sunday week's day, `weeks` whole weeks before this one.
fn day_in_past_week(weeks: i64, weekday: i64) -> String {
    let today = jiff::Zoned::now().date();
    let monday = today
        .checked_sub(jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())))
        .unwrap();
    let day = monday
        .checked_sub(jiff::Span::new().days(7 * weeks - weekday))
        .unwrap();
    format!("{day}T12:00:00Z")
}

async fn a_tills_events_become_the_stores_sales(app: App) {
    let key = app
        .post("/write-keys", &json!({"name": "till"}))
        .await
        .expect(StatusCode::CREATED)
        .body["write_key"]
        .as_str()
        .unwrap()
        .to_string();
    let mug = json!({"size": "L", "shape": "tall", "glaze": "#1d3557", "pattern": "stripes"});
    let mut batch = Vec::new();
    for i in 0..30 {
        batch.push(json!({
            "type": "track", "event": "Order Completed", "userId": format!("member-{}", i % 7),
            "messageId": format!("till-{i}"), "timestamp": day_in_past_week(1 + i % 3, i % 7),
            "context": {"store_id": "kreuzberg"},
            "properties": {"order_id": format!("R{i}"), "products": [
                {"product_id": "mug", "quantity": 2, "selections": mug},
            ]},
        }));
    }
    // One return, one online order (no store), one of Kiln's own kind.
    batch.push(json!({
        "type": "track", "event": "Order Refunded", "userId": "member-1", "messageId": "till-r1",
        "timestamp": day_in_past_week(1, 2), "context": {"store_id": "kreuzberg"},
        "properties": {"order_id": "R1", "products": [{"product_id": "mug", "quantity": 2}]},
    }));
    batch.push(json!({
        "type": "track", "event": "Order Completed", "userId": "member-2", "messageId": "web-1",
        "timestamp": day_in_past_week(1, 3),
        "properties": {"products": [{"product_id": "mug", "quantity": 5}]},
    }));
    let send = || async {
        let r = app
            .http
            .post(format!("{}/v1/batch", app.base))
            .basic_auth(&key, Some(""))
            .json(&json!({"batch": batch}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    };
    send().await;
    // Sent again (a retry): counted once.
    send().await;
    let list = app.get("/stores").await.expect(StatusCode::OK).body;
    assert!(
        store_ids(&list).contains(&"kreuzberg".to_string()),
        "{list}"
    );
    let s = app
        .get("/stores/kreuzberg/strategy")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(sum(&s["units"]), 58.0, "{}", s["units"]);
    assert_eq!(sum(&s["tickets"]), 30.0, "{}", s["tickets"]);
    // All it sells is blue mugs: mugs run hotter there than in the brand.
    let hotter = s["hotter"].as_array().unwrap();
    assert!(
        hotter
            .iter()
            .any(|h| h["product"] == "mug" && h["option"].is_null()),
        "{hotter:?}"
    );
    let sample = &s["assortment"]["samples"][0];
    assert_eq!(sample["product"], "mug");
    assert_eq!(sample["selections"]["glaze"], "#1d3557");
    let demand = app.get("/demand").await.expect(StatusCode::OK).body;
    let series = demand["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["store"] == "kreuzberg")
        .expect("kreuzberg's series")
        .clone();
    assert_eq!(sum(&series["history"]), 58.0);
}

async fn a_strategy_refuses_bad_parameters_and_unknown_stores(app: App) {
    let paths = app
        .get("/stores/london/strategy?weeks=1")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["weeks"]);
    let paths = app
        .get("/stores/london/strategy?display_slots=many")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["display_slots"]);
    app.get("/stores/atlantis/strategy")
        .await
        .problem(StatusCode::NOT_FOUND);
    // Planning reads it; a key without planning:read may not.
    let key = app
        .post(
            "/api-keys",
            &json!({"label": "orders only", "scopes": ["orders:read"]}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    app.get_with_key("/stores/london/strategy", Some(&key))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.get_with_key("/stores", Some(&key))
        .await
        .expect(StatusCode::OK);
}
