//! The live material plan (issue 12 §3): one MRP plan per brand kept current
//! by net change. After every kind of change (an order, a cancellation, a
//! receipt, material issued to production) it equals the plan a restarted
//! server regenerates from the store; orders consume the forecast instead of
//! adding to it.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    net_change_equals_a_rebuild_after_every_change,
    orders_consume_the_forecast,
    a_late_purchase_moves_the_orders_waiting_for_it,
    a_sub_assembly_is_a_level_above_its_materials,
    an_order_taking_a_purchase_on_order_is_not_short_of_it
);

/// The plan without its timing figures.
async fn plan_of(app: &App) -> Value {
    let mut plan = app.get("/material-plan").await.expect(StatusCode::OK).body;
    plan.as_object_mut().unwrap().remove("net_change");
    plan
}

/// The live plan must be what a server started now would plan.
async fn same_as_rebuilt(app: &App, step: &str) -> Value {
    let live = plan_of(app).await;
    let rebuilt = plan_of(&app.restarted().await).await;
    assert_eq!(
        live, rebuilt,
        "after {step}: live plan differs from a rebuild"
    );
    live
}

fn num(v: &Value) -> f64 {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string: {v}"))
        .parse()
        .unwrap()
}

/// A material's total gross requirement over its days.
fn gross(plan: &Value, material: &str) -> f64 {
    plan["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["material"] == material)
        .flat_map(|m| m["days"].as_array().unwrap())
        .map(|d| num(&d["gross"]))
        .sum()
}

/// The units of a sub-assembly the plan makes, over its days.
fn made(plan: &Value, assembly: &str) -> f64 {
    plan["making"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["assembly"] == assembly)
        .map(|m| num(&m["qty"]))
        .sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

async fn net_change_equals_a_rebuild_after_every_change(app: App) {
    let before = same_as_rebuilt(&app, "nothing").await;

    // 100 poplin shirts: more fabric than the demo holds, so a purchase too.
    let shirts = order_body(
        "buyer@example.com",
        "shirt",
        json!({ "fabric": "poplin", "size": "M" }),
        100,
    );
    let id = app.place_ok(&shirts).await;
    let order = app.order(&id).await;
    let poplin: f64 = order["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["material"] == "poplin")
        .map(|r| num(&r["gross"]))
        .expect("the shirts need poplin");
    let placed = same_as_rebuilt(&app, "an order").await;
    // A cart rated for a shopper is planned and taken straight back out:
    // the live plan is as it was (the schedule too: the same promise again).
    let cart = [kiln_app::storefront::CartLine {
        product: "shirt".into(),
        selections: serde_json::from_value(json!({ "fabric": "poplin", "size": "L" })).unwrap(),
        quantity: 40,
        shown_promise: None,
    }];
    let first = app.kiln.rate_cart(&app.slug, &cart, None).await.unwrap();
    assert_eq!(same_as_rebuilt(&app, "rating a cart").await, placed);
    let again = app.kiln.rate_cart(&app.slug, &cart, None).await.unwrap();
    assert_eq!(first.promised, again.promised);
    assert!(first.promised.is_some());
    assert!(
        close(gross(&placed, "poplin"), gross(&before, "poplin") + poplin),
        "the order's poplin is in the plan: {placed}"
    );
    let timing = app.get("/material-plan").await.body["net_change"].clone();
    assert!(timing["changes"].as_u64().unwrap() >= 1, "{timing}");

    // A second order, then the first cancelled: its need leaves the plan.
    let mugs = app.place_ok(&mug("potter@example.com")).await;
    same_as_rebuilt(&app, "a second order").await;
    app.post(&format!("/orders/{id}/cancel"), &json!({}))
        .await
        .expect(StatusCode::OK);
    let cancelled = same_as_rebuilt(&app, "a cancellation").await;
    assert!(close(gross(&cancelled, "poplin"), gross(&before, "poplin")));

    // A purchase received moves from on order into stock.
    let open = app.get("/purchase-suggestions").await.body["purchase_suggestions"].clone();
    if let Some(first) = open.as_array().unwrap().first() {
        let suggestion = first["id"].as_str().unwrap();
        app.post(
            &format!("/purchase-suggestions/{suggestion}/receive"),
            &json!({}),
        )
        .await
        .expect(StatusCode::OK);
        same_as_rebuilt(&app, "a receipt").await;
    }

    // The mugs made: their materials are issued and leave the plan.
    let mug_order = app.order(&mugs).await;
    for wo in work_orders_of(&mug_order) {
        make_work_order(&app, &wo).await;
    }
    same_as_rebuilt(&app, "material issued").await;

    // A work centre down moves production, and with it the day the
    // materials are needed; back up, they move again.
    app.place_ok(&order_body(
        "later@example.com",
        "shirt",
        json!({ "fabric": "poplin", "size": "S" }),
        20,
    ))
    .await;
    same_as_rebuilt(&app, "a third order").await;
    let down = app
        .post(
            "/work-centers/cutting/downtimes",
            &json!({"from": today_plus(0), "to": today_plus(6), "reason": "blade"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    same_as_rebuilt(&app, "a work centre down").await;
    let id = down["downtime"]["id"]
        .as_str()
        .or(down["id"].as_str())
        .unwrap_or_else(|| panic!("a downtime id: {down}"));
    let back = app
        .http
        .delete(app.brand_url(&format!("/downtimes/{id}")))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert!(back.status().is_success(), "{}", back.status());
    same_as_rebuilt(&app, "the work centre back up").await;
}

async fn orders_consume_the_forecast(app: App) {
    // The demo's year of sales makes a forecast; the live plan takes it.
    app.get("/demand").await.expect(StatusCode::OK);
    let before = plan_of(&app).await;
    let left = |plan: &Value, material: &str| -> Vec<(String, f64)> {
        plan["materials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["material"] == material)
            .flat_map(|m| m["forecast"].as_array().unwrap())
            .map(|w| (w["week"].as_str().unwrap().to_string(), num(&w["qty"])))
            .collect()
    };
    let clay_before = left(&before, "stoneware-clay");
    assert!(
        !clay_before.is_empty(),
        "the mug forecast needs clay: {before}"
    );

    let id = app.place_ok(&mug("forecast@example.com")).await;
    let order = app.order(&id).await;
    let clay: f64 = order["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["material"] == "stoneware-clay")
        .map(|r| num(&r["gross"]))
        .expect("mugs need clay");
    let after = plan_of(&app).await;
    let clay_after = left(&after, "stoneware-clay");
    // The order's week gave up what it needs of its forecast (all of it,
    // when the forecast is smaller); every other week is untouched.
    let changed: Vec<_> = clay_before
        .iter()
        .filter(|(w, q)| {
            let now = clay_after
                .iter()
                .find(|(w2, _)| w2 == w)
                .map_or(0.0, |x| x.1);
            !close(now, *q)
        })
        .collect();
    assert_eq!(changed.len(), 1, "one week consumed: {changed:?}");
    let consumed: f64 =
        clay_before.iter().map(|x| x.1).sum::<f64>() - clay_after.iter().map(|x| x.1).sum::<f64>();
    assert!(
        consumed > 0.0 && close(consumed, clay.min(changed[0].1)),
        "{consumed} {clay}"
    );
    // So the requirement grows only by what the forecast did not foresee.
    assert!(
        close(
            gross(&after, "stoneware-clay") - gross(&before, "stoneware-clay"),
            clay - consumed
        ),
        "gross {} -> {}, order {clay}, consumed {consumed}",
        gross(&before, "stoneware-clay"),
        gross(&after, "stoneware-clay")
    );
    // Cancelled, the order gives its week's forecast back.
    app.post(&format!("/orders/{id}/cancel"), &json!({}))
        .await
        .expect(StatusCode::OK);
    let back = plan_of(&app).await;
    assert_eq!(left(&back, "stoneware-clay"), clay_before);
}

async fn a_late_purchase_moves_the_orders_waiting_for_it(app: App) {
    // 100 poplin shirts need more than the demo holds: production waits for
    // the weaver's delivery.
    let shirts = order_body(
        "late@example.com",
        "shirt",
        json!({ "fabric": "poplin", "size": "M" }),
        100,
    );
    let id = app.place_ok(&shirts).await;
    let before = app.order(&id).await;
    let previous: jiff::civil::Date = before["promised_date"].as_str().unwrap().parse().unwrap();
    let open = app.get("/purchase-suggestions").await.body["purchase_suggestions"].clone();
    let purchase = open
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["order_id"] == id.as_str() && s["material"] == "poplin")
        .unwrap_or_else(|| panic!("a poplin purchase for {id}: {open}"))
        .clone();
    let suggestion = purchase["id"].as_str().unwrap();
    let arrives: jiff::civil::Date = purchase["arrives"].as_str().unwrap().parse().unwrap();
    let path = format!("/purchase-suggestions/{suggestion}/delay");

    // Bad input: a clear problem naming the field, nothing changed.
    let past = app.post(&path, &json!({ "arrives": "2020-01-01" })).await;
    assert_eq!(past.problem(StatusCode::UNPROCESSABLE_ENTITY), ["/arrives"]);
    let garbled = app.post(&path, &json!({ "arrives": "soon" })).await;
    assert_eq!(
        garbled.problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["/arrives"]
    );
    app.post(
        "/purchase-suggestions/pur_nope/delay",
        &json!({ "arrives": today_plus(30) }),
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    // Three weeks late: the order waits for it and its promise moves.
    let late = arrives
        .checked_add(jiff::ToSpan::days(21))
        .unwrap()
        .to_string();
    let report = app
        .post(&path, &json!({ "arrives": late }))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(report["purchase"]["arrives"], late.as_str(), "{report}");
    assert!(
        report["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == id.as_str()),
        "{report}"
    );
    let moved = report["moved"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["order_id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} moved: {report}"))
        .clone();
    assert_eq!(moved["previous_date"], previous.to_string());
    let now: jiff::civil::Date = moved["promised_date"].as_str().unwrap().parse().unwrap();
    assert!(now > previous, "{moved}");
    let after = app.order(&id).await;
    assert_eq!(after["promised_date"], now.to_string(), "stored");
    assert!(
        after["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["status"] == "promise_moved"
                && e["note"].as_str().unwrap().contains("poplin")),
        "the customer is told why: {after}"
    );
    // Made only once the fabric is there (a machine may be set up the day
    // before), so delivered after it arrives.
    assert!(now.to_string() > late, "promised {now}, fabric on {late}");
    // The live plan needs the fabric when production starts, as a rebuild does.
    same_as_rebuilt(&app, "a late purchase").await;
    // Received meanwhile: too late to move it.
    app.post(
        &format!("/purchase-suggestions/{suggestion}/receive"),
        &json!({}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(&path, &json!({ "arrives": today_plus(40) }))
        .await
        .problem(StatusCode::CONFLICT);
}

async fn a_sub_assembly_is_a_level_above_its_materials(app: App) {
    let before = same_as_rebuilt(&app, "nothing").await;
    let mut body = order_body(
        "soles@example.com",
        "sneaker",
        json!({ "size": "40", "sole_material": "foam" }),
        3,
    );
    body["lines"] = json!([
        {"product": "sneaker", "selections": {"size": "40", "sole_material": "foam"}, "quantity": 3},
        {"product": "sneaker", "selections": {"size": "42", "sole_material": "rubber"}, "quantity": 2},
    ]);
    let id = app.place_ok(&body).await;
    let placed = same_as_rebuilt(&app, "a sneaker order").await;

    // Each sole unit is made for the order, and its outsole (one pair per
    // unit) is needed a level below it, as much as when it was flattened.
    let more =
        |plan: &Value, f: fn(&Value, &str) -> f64, item: &str| f(plan, item) - f(&before, item);
    assert!(close(more(&placed, made, "foam-sole"), 3.0), "{placed}");
    assert!(close(more(&placed, made, "rubber-sole"), 2.0), "{placed}");
    assert!(close(more(&placed, gross, "foam-outsole"), 3.0), "{placed}");
    assert!(
        close(more(&placed, gross, "rubber-outsole"), 2.0),
        "{placed}"
    );
    let record = placed["assemblies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["assembly"] == "foam-sole")
        .unwrap_or_else(|| panic!("a record of the foam sole unit: {placed}"));
    assert_eq!(record["unit"], "pair");
    let needed: f64 = record["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| num(&d["gross"]))
        .sum();
    assert!(needed >= 3.0, "{record}");

    // The rubber-soled line cancelled: its sole unit and outsole leave.
    let path = app.brand_path(&format!("/orders/{id}/lines/2"));
    app.call("DELETE", &path, Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
    let cancelled = same_as_rebuilt(&app, "a cancelled line").await;
    assert!(
        close(more(&cancelled, made, "rubber-sole"), 0.0),
        "{cancelled}"
    );
    assert!(
        close(more(&cancelled, gross, "rubber-outsole"), 0.0),
        "{cancelled}"
    );
    assert!(
        close(more(&cancelled, made, "foam-sole"), 3.0),
        "{cancelled}"
    );

    // Made: its materials are issued and nothing is left to make.
    for wo in work_orders_of(&app.order(&id).await) {
        make_work_order(&app, &wo).await;
    }
    let done = same_as_rebuilt(&app, "the sneakers made").await;
    assert!(close(more(&done, made, "foam-sole"), 0.0), "{done}");
    assert!(close(more(&done, gross, "foam-outsole"), 0.0), "{done}");
}

async fn an_order_taking_a_purchase_on_order_is_not_short_of_it(app: App) {
    // 160 linen shirts need more linen than the demo holds: a purchase.
    let body = order_body(
        "linen@example.com",
        "shirt",
        json!({ "fabric": "linen", "size": "L" }),
        160,
    );
    let first = app.place_ok(&body).await;
    app.post(&format!("/orders/{first}/cancel"), &json!({}))
        .await
        .expect(StatusCode::OK);
    // The purchase stays on order; the next order takes it, and its
    // production waits for it to arrive instead of starting short.
    let second = app.place_ok(&body).await;
    let plan = same_as_rebuilt(&app, "an order on a purchase").await;
    let short: Vec<&Value> = plan["shortages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["order_id"] == second.as_str())
        .collect();
    assert!(short.is_empty(), "the order is planned short: {short:?}");
}
