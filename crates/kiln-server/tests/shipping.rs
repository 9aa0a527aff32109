//! Shipping by carrier over HTTP, on the demo brand (its factory declares
//! packaging and carriers): the delivery date and shipping cost of an order,
//! a shipment Kiln packs and routes, its label with a barcode, and a
//! carrier's tracking events to a late delivery; shipped orders leaving the
//! running schedule.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

api_tests!(
    an_order_is_priced_and_promised_by_its_carrier,
    kiln_packs_ships_labels_and_follows_a_shipment,
    shipped_orders_leave_the_running_schedule_as_a_restart_would,
);

async fn an_order_is_priced_and_promised_by_its_carrier(app: App) {
    // Two mugs to London: one small box, the post's home standard band.
    let id = app.place_ok(&mug("ada@example.com")).await;
    let order = app.order(&id).await;
    let total: f64 = order["total"].as_str().unwrap().parse().unwrap();
    let shipping: f64 = order["shipping"].as_str().unwrap().parse().unwrap();
    // Goods from 60.00 ship free; below, the post's band up to 2 kg (two
    // large mugs in one small box: 150 g + 2 × 490 g).
    if total - shipping >= 60.0 {
        assert_eq!(shipping, 0.0, "{order}");
    } else {
        assert_eq!(shipping, 4.90, "{order}");
    }
    // The promise is a weekday the post delivers on (Monday to Saturday).
    let promised = order["promised_date"].as_str().unwrap();
    let day: jiff::civil::Date = promised.parse().unwrap();
    assert_ne!(day.weekday(), jiff::civil::Weekday::Sunday, "{order}");

    // Nowhere the brand's carriers go: a problem naming the address.
    let mut body = mug("ada@example.com");
    body["ship_to"]["country"] = json!("AQ");
    let paths = app
        .post("/orders", &body)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/ship_to/country"]);

    // Farther costs more: one shirt (no free shipping below 60) to Paris.
    let shirt = |country: &str, postal: &str| {
        let mut b = order_body(
            "grace@example.com",
            "shirt",
            json!({ "fabric": "poplin", "size": "M" }),
            1,
        );
        b["ship_to"]["country"] = json!(country);
        b["ship_to"]["postal_code"] = json!(postal);
        b
    };
    let home = app.place_ok(&shirt("GB", "N1 9GU")).await;
    let abroad = app.place_ok(&shirt("FR", "75001")).await;
    let cost = |o: &serde_json::Value| o["shipping"].as_str().unwrap().parse::<f64>().unwrap();
    let (home, abroad) = (app.order(&home).await, app.order(&abroad).await);
    assert_eq!(cost(&home), 4.90, "{home}");
    assert_eq!(cost(&abroad), 9.90, "{abroad}");
    assert!(
        abroad["promised_date"].as_str() >= home["promised_date"].as_str(),
        "{home} {abroad}"
    );
}

async fn kiln_packs_ships_labels_and_follows_a_shipment(app: App) {
    let body = order_body("ada@example.com", "shirt", json!({ "size": "L" }), 3);
    let id = app.place_ok(&body).await;
    let order = app.order(&id).await;
    let promised = order["promised_date"].as_str().unwrap().to_string();

    // An unknown carrier needs its own tracking number.
    let paths = app
        .post(
            &format!("/orders/{id}/shipments"),
            &json!({ "carrier": "Pigeon" }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/carrier"]);

    for wo in work_orders_of(&order) {
        make_work_order(&app, &wo).await;
    }
    assert_eq!(app.order(&id).await["status"], "made");

    // Nothing given: Kiln packs, routes and numbers the shipment.
    let shipment = app
        .post(&format!("/orders/{id}/shipments"), &json!({}))
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(shipment["carrier"], "post", "{shipment}");
    assert_eq!(shipment["service"], "standard", "{shipment}");
    assert_eq!(shipment["promised_date"], promised.as_str());
    let tracking = shipment["tracking_number"].as_str().unwrap().to_string();
    assert!(
        tracking.starts_with("POST") && tracking.len() == 16,
        "{tracking}"
    );
    let parcels = shipment["parcels"].as_array().expect("parcels");
    let units: u64 = parcels
        .iter()
        .flat_map(|p| p["contents"].as_array().unwrap())
        .map(|c| c["units"].as_u64().unwrap())
        .sum();
    assert_eq!(units, 3, "{shipment}");
    assert_eq!(app.order(&id).await["status"], "shipped");
    let sid = shipment["id"].as_str().unwrap().to_string();

    // Its label: an SVG with the number, a barcode and the packing list.
    let label = app.get(&format!("/shipments/{sid}/label.svg")).await;
    assert_eq!(label.status, StatusCode::OK);
    assert!(label.text.starts_with("<svg"), "{}", label.text);
    assert!(label.text.contains(&tracking));
    assert!(label.text.contains("barcode"));
    assert!(label.text.contains("PACKING LIST"));
    assert!(label.text.contains("Ada Lovelace"));

    // Tracking events: each once; delivered three weeks after the promise.
    let before = json!({ "status": "picked_up", "at": "2020-01-05T09:00:00Z" });
    let paths = app
        .post(&format!("/shipments/{sid}/tracking"), &before)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/at"]);
    let picked_at = jiff::Timestamp::now().to_string();
    let picked = json!({ "status": "picked_up", "at": picked_at, "location": "Depot" });
    for _ in 0..2 {
        app.post(&format!("/shipments/{sid}/tracking"), &picked)
            .await
            .expect(StatusCode::OK);
    }
    let bad = json!({ "status": "teleported" });
    app.post(&format!("/shipments/{sid}/tracking"), &bad)
        .await
        .problem(StatusCode::BAD_REQUEST);
    let promised_day: jiff::civil::Date = promised.parse().unwrap();
    let late_day = promised_day.checked_add(jiff::Span::new().days(2)).unwrap();
    let now = jiff::Timestamp::now();
    let at = if late_day
        .at(12, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        < now
    {
        late_day
            .at(12, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp()
    } else {
        now
    };
    let delivered = app
        .post(
            &format!("/shipments/{sid}/tracking"),
            &json!({ "status": "delivered", "at": at.to_string() }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(delivered["shipment"]["status"], "delivered");
    assert_eq!(
        delivered["events"].as_array().unwrap().len(),
        2,
        "{delivered}"
    );
    let arrived = kiln_domain::utc_day(at);
    let late = (arrived - promised_day).get_days();
    if late > 0 {
        assert_eq!(delivered["shipment"]["late_days"], late, "{delivered}");
    } else {
        assert!(delivered["shipment"]["late_days"].is_null(), "{delivered}");
    }
    assert_eq!(app.order(&id).await["status"], "delivered");
    app.get("/shipments/shp_nope")
        .await
        .problem(StatusCode::NOT_FOUND);
}

async fn shipped_orders_leave_the_running_schedule_as_a_restart_would(app: App) {
    // More orders than one retirement batch (64), made and shipped.
    let mut ids = Vec::new();
    for n in 0..70 {
        let body = order_body(&format!("b{n}@example.com"), "shirt", json!({}), 1);
        ids.push(app.place_ok(&body).await);
    }
    let open = app.place_ok(&mug("open@example.com")).await;
    let mut made: Vec<String> = Vec::new();
    for id in &ids {
        for wo in work_orders_of(&app.order(id).await) {
            if !made.contains(&wo) {
                make_work_order(&app, &wo).await;
                made.push(wo);
            }
        }
    }
    let window = format!("/schedule?from={}&days=92", today_plus(-1));
    let before = scheduled_operations(&app.get(&window).await.expect(StatusCode::OK).body);
    // Made, each is on the schedule or was done ahead of its slot and left
    // its machine then (most here: they are made at once, months ahead);
    // what planned work is set up from stays.
    let made_on = ids
        .iter()
        .filter(|id| before.iter().any(|o| &o.4 == *id))
        .count();
    assert!(made_on >= 1, "no made order on the schedule");
    // What left its machine is stored so: a restart builds the same plan.
    let restarted = app.restarted().await;
    let rebuilt = scheduled_operations(&restarted.get(&window).await.expect(StatusCode::OK).body);
    assert_eq!(before, rebuilt);
    drop(restarted);
    for id in &ids {
        app.post(&format!("/orders/{id}/shipments"), &json!({}))
            .await
            .expect(StatusCode::CREATED);
    }
    let live = app.get(&window).await.expect(StatusCode::OK).body;
    let ops = scheduled_operations(&live);
    assert!(ops.iter().any(|o| o.4 == open), "open work stays");
    let left = ids
        .iter()
        .filter(|id| ops.iter().any(|o| &o.4 == *id))
        .count();
    assert!(
        left <= made_on.min(6),
        "{left} of 70 shipped orders still on the schedule ({made_on} before)"
    );
    // A restart restores open orders only: with every shipped order gone
    // from both, the two are one schedule.
    let again = app.restarted().await;
    let rebuilt = scheduled_operations(&again.get(&window).await.expect(StatusCode::OK).body);
    let open_ops = |ops: &[(String, u64, String, String, String, i64, String)]| {
        ops.iter()
            .filter(|o| !ids.contains(&o.4))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(open_ops(&ops), open_ops(&rebuilt));
    // New work goes on the running schedule around what is left.
    let next = app.place_ok(&mug("next@example.com")).await;
    let ops = scheduled_operations(&app.get(&window).await.expect(StatusCode::OK).body);
    assert!(ops.iter().any(|o| o.4 == next));
    for pair in ops.windows(2) {
        if pair[0].0 == pair[1].0 && pair[0].1 == pair[1].1 {
            assert!(pair[0].3 <= pair[1].2, "overlap on a machine: {pair:?}");
        }
    }
}
