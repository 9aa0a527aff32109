//! Purchases as a buyer places them: an order short of fabric makes
//! suggestions in whole lots, arriving on the supplier's delivery day, and
//! `GET /purchase-suggestions/by-supplier` groups them by supplier and day.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

api_tests!(purchases_group_by_supplier_and_delivery_day);

async fn purchases_group_by_supplier_and_delivery_day(app: App) {
    // 100 poplin shirts need about 170 m; the demo holds 160 m.
    let body = order_body(
        "buyer@example.com",
        "shirt",
        json!({ "fabric": "poplin", "size": "M" }),
        100,
    );
    app.place_ok(&body).await;
    let groups = app
        .get("/purchase-suggestions/by-supplier")
        .await
        .expect(StatusCode::OK)
        .body;
    let groups = groups["purchases"].as_array().expect("purchases");
    let weaver = groups
        .iter()
        .find(|g| g["supplier"] == "weaver")
        .unwrap_or_else(|| panic!("no purchase from the weaver: {groups:?}"));
    assert_eq!(weaver["supplier_name"], "Lancashire Weavers");
    let arrives: jiff::civil::Date = weaver["arrives"].as_str().unwrap().parse().unwrap();
    assert!(
        matches!(
            arrives.weekday(),
            jiff::civil::Weekday::Tuesday | jiff::civil::Weekday::Thursday
        ),
        "the weaver delivers on Tuesdays and Thursdays: {arrives}"
    );
    let poplin = weaver["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["material"] == "poplin")
        .expect("poplin");
    let qty: f64 = poplin["qty"].as_str().unwrap().parse().unwrap();
    assert!(
        qty >= 100.0 && qty % 50.0 == 0.0,
        "whole lots of 50 m: {poplin}"
    );
    let unit: f64 = poplin["unit_cost"].as_str().unwrap().parse().unwrap();
    let cost: f64 = poplin["cost"].as_str().unwrap().parse().unwrap();
    assert!((qty * unit - cost).abs() < 0.01, "{poplin}");
    // Every suggestion is in exactly one group.
    let open = app
        .get("/purchase-suggestions")
        .await
        .expect(StatusCode::OK)
        .body;
    let listed: usize = groups
        .iter()
        .flat_map(|g| g["lines"].as_array().unwrap())
        .map(|l| l["suggestions"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        listed,
        open["purchase_suggestions"].as_array().unwrap().len()
    );
}
