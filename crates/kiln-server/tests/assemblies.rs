//! Sub-assemblies over HTTP, on the demo brand: the sneaker's sole unit is
//! an `[assembly.*]` of the factory file. An order's work order and its
//! bookings on the live schedule make the sole unit before the sneaker's own
//! first operation, on the same job, and the order needs the sole unit's
//! outsole.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(a_sneaker_order_makes_its_sole_unit_first,);

/// `[setup start, start, end]` of each of the order's operations on the
/// live schedule (a bar per day it spans, each with the operation's times).
async fn booked(app: &App, order: &str) -> Vec<(String, [jiff::Timestamp; 3])> {
    let schedule = app
        .get(&format!("/schedule?from={}&days=92", today_plus(0)))
        .await
        .expect(StatusCode::OK)
        .body;
    let mut out: Vec<(String, [jiff::Timestamp; 3])> = Vec::new();
    for wc in schedule["work_centers"].as_array().expect("work centres") {
        for day in wc["days"].as_array().unwrap() {
            for bar in day["bars"].as_array().unwrap() {
                let op = bar["operation"].as_str().unwrap();
                if bar["order_id"] == order && !out.iter().any(|(o, _)| o == op) {
                    let times = ["setup_start", "start", "end"].map(|k| timestamp(&bar[k]));
                    out.push((op.to_string(), times));
                }
            }
        }
    }
    out.sort_by_key(|(_, t)| t[1]);
    out
}

async fn a_sneaker_order_makes_its_sole_unit_first(app: App) {
    let body = order_body(
        "ada@example.com",
        "sneaker",
        json!({ "size": "40", "sole_material": "foam" }),
        3,
    );
    let id = app.place_ok(&body).await;
    let order = app.order(&id).await;

    // The foam sole unit's outsole, one pair per sneaker; no rubber one.
    let requirements = order["requirements"].as_array().expect("requirements");
    let need = |m: &str| -> Option<f64> {
        requirements
            .iter()
            .find(|r| r["material"] == m)
            .map(|r| r["gross"].as_str().unwrap().parse().unwrap())
    };
    assert_eq!(need("foam-outsole"), Some(3.0), "{order}");
    assert_eq!(need("rubber-outsole"), None, "{order}");
    assert!(need("leather").is_some_and(|q| q > 0.0), "{order}");

    // The work order's routing: the sole unit's trimming, then the sneaker's.
    let wo = &work_orders_of(&order)[0];
    let w = app
        .get(&format!("/work-orders/{wo}"))
        .await
        .expect(StatusCode::OK)
        .body;
    let mut ops: Vec<&Value> = w["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .collect();
    ops.sort_by_key(|o| o["seq"].as_i64());
    let ids: Vec<&str> = ops
        .iter()
        .map(|o| o["operation"].as_str().unwrap())
        .collect();
    assert_eq!(&ids[..2], ["foam-sole.trim", "cut-upper"], "{w}");
    assert!(!ids.contains(&"rubber-sole.trim"), "{w}");
    assert_eq!(ops[0]["work_center"], "assembly");
    assert_eq!(ops[0]["name"], "Trim and rough the outsoles");

    // Booked on the live schedule in that order: the trimming is over
    // before the first of the sneaker's own operations starts (its machine
    // may be set up meanwhile).
    let bars = booked(&app, &id).await;
    let names: Vec<&str> = bars.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(&names[..2], ["foam-sole.trim", "cut-upper"], "{bars:?}");
    let (trim, cut) = (bars[0].1, bars[1].1);
    assert!(trim[2] <= cut[1], "trimmed {trim:?}, cut {cut:?}");
    assert_eq!(bars.len(), ids.len(), "{bars:?}");
}
