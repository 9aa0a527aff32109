//! Orders change (issue 12): a line or a whole order cancelled before
//! production gives its machine time and materials back at once and is
//! re-priced; a line changed (quantity or choices) is replaced by one
//! priced, checked and promised anew; once production starts, refused with
//! where. Runs on SQLite
//! and, with `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    a_cancelled_line_leaves_the_schedule_and_the_bill,
    a_cancelled_order_gives_everything_back,
    production_started_is_refused_with_where,
    a_changed_line_is_priced_checked_and_promised_anew,
    a_change_that_cannot_be_ordered_changes_nothing,
    freed_time_reports_which_orders_could_come_earlier,
    an_order_with_a_cancelled_line_is_made_by_its_other_lines,
);

/// The line numbers of `order`'s bars on the schedule.
async fn bars(app: &App, order: &str) -> Vec<i64> {
    let s = app
        .get("/schedule?days=92")
        .await
        .expect(StatusCode::OK)
        .body;
    let mut out: Vec<i64> = s["work_centers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|wc| wc["days"].as_array().unwrap().iter())
        .flat_map(|d| d["bars"].as_array().unwrap().iter())
        .filter(|b| b["order_id"] == order)
        .map(|b| b["line_no"].as_i64().unwrap())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn two_lines(email: &str) -> Value {
    let mut body = mug(email);
    body["lines"] = json!([
        {"product": "mug", "selections": {"size": "M"}, "quantity": 2},
        {"product": "shirt", "selections": {"size": "L"}, "quantity": 1},
    ]);
    body
}

async fn allocated(app: &App, material: &str) -> f64 {
    let m = app.get("/materials").await.expect(StatusCode::OK).body;
    let list = m.get("materials").unwrap_or(&m);
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == material)
        .map(|x| x["allocated"].as_str().unwrap().parse().unwrap())
        .unwrap_or(0.0)
}

async fn a_cancelled_line_leaves_the_schedule_and_the_bill(app: App) {
    let before = allocated(&app, "poplin").await;
    let id = app.place_ok(&two_lines("two@example.com")).await;
    assert_eq!(bars(&app, &id).await, vec![1, 2]);
    assert!(allocated(&app, "poplin").await > before);
    let placed = app.order(&id).await;
    let path = app.brand_path(&format!("/orders/{id}/lines/2"));
    let changed = app
        .call("DELETE", &path, Some(&app.key), None)
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(changed["lines"][1]["cancelled_at"].as_str().is_some());
    assert!(changed["lines"][0].get("cancelled_at").is_none());
    assert_eq!(changed["status"], "planned");
    let total: f64 = changed["total"].as_str().unwrap().parse().unwrap();
    let was: f64 = placed["total"].as_str().unwrap().parse().unwrap();
    assert!(total < was, "{total} < {was}");
    assert_eq!(
        bars(&app, &id).await,
        vec![1],
        "the cancelled line's bars are gone, the other's stay"
    );
    assert!(
        (allocated(&app, "poplin").await - before).abs() < 1e-9,
        "the shirt's fabric is back"
    );
    let timeline = changed["timeline"].as_array().unwrap();
    assert_eq!(timeline.last().unwrap()["status"], "changed");
    // Again: nothing more changes.
    let again = app
        .call("DELETE", &path, Some(&app.key), None)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(again["timeline"].as_array().unwrap().len(), timeline.len());
    // No such line.
    let none = app.brand_path(&format!("/orders/{id}/lines/9"));
    app.call("DELETE", &none, Some(&app.key), None)
        .await
        .expect(StatusCode::NOT_FOUND);
    // The shirt's work order is gone from the queues.
    let q = app
        .get("/work-centers/sewing/queue")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(q["queue"].as_array().unwrap().is_empty(), "{q}");
    // And after a restart the plan is as the store has it.
    let restarted = app.restarted().await;
    assert_eq!(bars(&restarted, &id).await, vec![1]);
}

async fn a_cancelled_order_gives_everything_back(app: App) {
    let before = allocated(&app, "stoneware-clay").await;
    let id = app.place_ok(&two_lines("all@example.com")).await;
    let path = app.brand_path(&format!("/orders/{id}/cancel"));
    let cancelled = app
        .call("POST", &path, Some(&app.key), None)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["total"], "0");
    let instructions = app.order(&id).await["payment"]["instructions"].clone();
    assert!(
        instructions.as_str().unwrap().starts_with("Nothing to pay"),
        "{instructions}"
    );
    assert!(bars(&app, &id).await.is_empty());
    assert!((allocated(&app, "stoneware-clay").await - before).abs() < 1e-9);
    let events = app.get("/events").await.expect(StatusCode::OK).text;
    assert!(events.contains("order.cancelled"), "{events}");
    // Its lines can no longer change, and it says so.
    let line = app.brand_path(&format!("/orders/{id}/lines/1"));
    let changed = app
        .call(
            "PATCH",
            &line,
            Some(&app.key),
            Some(&json!({"quantity": 3})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert!(
        changed.text.contains(&format!("order {id} is cancelled")),
        "{}",
        changed.text
    );
    // Without the key that may order: refused.
    let anon = app.call("POST", &path, None, None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

async fn production_started_is_refused_with_where(app: App) {
    let id = app.place_ok(&two_lines("busy@example.com")).await;
    let order = app.order(&id).await;
    let wo = order["lines"][0]["work_order_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/work-orders/{wo}/operations/1/start"), &json!({}))
        .await
        .expect(StatusCode::OK);
    let line = app.brand_path(&format!("/orders/{id}/lines/1"));
    let refused = app.call("DELETE", &line, Some(&app.key), None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("has started"), "{}", refused.text);
    // The other line, not started, can go.
    let other = app.brand_path(&format!("/orders/{id}/lines/2"));
    app.call("DELETE", &other, Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
}

fn dec(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

async fn a_changed_line_is_priced_checked_and_promised_anew(app: App) {
    let id = app.place_ok(&two_lines("change@example.com")).await;
    let placed = app.order(&id).await;
    let before = allocated(&app, "poplin").await;
    let shirt_wo = placed["lines"][1]["work_order_id"].clone();
    let path = app.brand_path(&format!("/orders/{id}/lines/2"));
    // Three shirts in XXL instead of one in L.
    let change = json!({"quantity": 3, "selections": {"size": "XXL"}});
    let changed = app
        .call("PATCH", &path, Some(&app.key), Some(&change))
        .await
        .expect(StatusCode::OK)
        .body;
    let lines = changed["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{changed}");
    // The open payment asks for the new total, in its instructions too.
    let stored = app.order(&id).await;
    assert_eq!(stored["payment"]["amount"], stored["total"], "{stored}");
    let instructions = stored["payment"]["instructions"].as_str().unwrap();
    assert!(
        instructions.contains(&format!("Pay {} ", stored["total"].as_str().unwrap())),
        "{instructions}"
    );
    assert!(lines[1]["cancelled_at"].as_str().is_some());
    let new = &lines[2];
    assert_eq!(new["line_no"], 3);
    assert_eq!(new["quantity"], 3);
    assert_eq!(new["selections"]["size"], "XXL");
    assert_eq!(
        new["selections"]["fabric"], placed["lines"][1]["selections"]["fabric"],
        "the other choices are kept"
    );
    assert!(new["sku"].as_str().unwrap().contains("XXL"), "{new}");
    assert_ne!(new["work_order_id"], shirt_wo, "a new SKU, a new batch");
    assert!(new["promised_date"].as_str().is_some());
    // Re-priced: the XXL surcharge, three times, and the mug line kept.
    let mug_line = dec(&lines[0]["unit_price"]) * 2.0;
    let goods = mug_line + dec(&new["unit_price"]) * 3.0;
    let total = dec(&changed["total"]);
    assert!(
        (total - goods - dec(&changed["shipping"])).abs() < 1e-9,
        "{changed}"
    );
    assert!(dec(&new["unit_price"]) > dec(&placed["lines"][1]["unit_price"]));
    // The schedule holds lines 1 and 3; the shirt fabric is taken thrice.
    assert_eq!(bars(&app, &id).await, vec![1, 3]);
    assert!(allocated(&app, "poplin").await > before);
    let timeline = changed["timeline"].as_array().unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(last["status"], "changed");
    assert!(
        last["note"].as_str().unwrap().contains("line 2 changed"),
        "{last}"
    );
    // The same change again changes nothing.
    let again = app
        .call("PATCH", &path, Some(&app.key), Some(&change))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(again["lines"].as_array().unwrap().len(), 3);
    assert_eq!(again["timeline"].as_array().unwrap().len(), timeline.len());
    // A different change to the replaced line is refused, naming why.
    let stale = app
        .call(
            "PATCH",
            &path,
            Some(&app.key),
            Some(&json!({"quantity": 5})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    // The event went out, and a restarted server plans as the store says.
    let events = app.get("/events").await.expect(StatusCode::OK).text;
    assert!(events.contains("order.changed"), "{events}");
    let restarted = app.restarted().await;
    assert_eq!(bars(&restarted, &id).await, vec![1, 3]);
    // Quantity only, on the new line.
    let three = app.brand_path(&format!("/orders/{id}/lines/3"));
    let fewer = restarted
        .call(
            "PATCH",
            &three,
            Some(&restarted.key),
            Some(&json!({"quantity": 1})),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(fewer["lines"][3]["quantity"], 1);
    assert!(dec(&fewer["total"]) < total);
}

async fn a_change_that_cannot_be_ordered_changes_nothing(app: App) {
    let id = app.place_ok(&two_lines("nochange@example.com")).await;
    let placed = app.order(&id).await;
    let path = app.brand_path(&format!("/orders/{id}/lines/1"));
    let patch = |body: Value| {
        let (app, path) = (&app, &path);
        async move { app.call("PATCH", path, Some(&app.key), Some(&body)).await }
    };
    // A value the mug does not have: 422 naming the option.
    let bad = patch(json!({"selections": {"size": "XXL"}})).await;
    assert_eq!(
        bad.problem(StatusCode::UNPROCESSABLE_ENTITY),
        vec!["/selections/size"]
    );
    assert_eq!(
        patch(json!({"quantity": 0}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        vec!["/quantity"]
    );
    let nothing = patch(json!({})).await;
    assert_eq!(
        nothing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        nothing.text
    );
    let unknown = patch(json!({"qty": 2})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    // Nothing moved.
    assert_eq!(app.order(&id).await, placed);
    assert_eq!(bars(&app, &id).await, vec![1, 2]);
    // Started: refused with where, as a cancel is.
    let wo = placed["lines"][0]["work_order_id"].as_str().unwrap();
    app.post(&format!("/work-orders/{wo}/operations/1/start"), &json!({}))
        .await
        .expect(StatusCode::OK);
    let started = patch(json!({"quantity": 3})).await;
    assert_eq!(started.status, StatusCode::CONFLICT, "{}", started.text);
    assert!(
        started.text.contains("can no longer be changed"),
        "{}",
        started.text
    );
    // Without the key that may order: refused.
    let anon = app
        .call("PATCH", &path, None, Some(&json!({"quantity": 3})))
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

async fn freed_time_reports_which_orders_could_come_earlier(app: App) {
    let report = || async {
        app.get("/schedule/earlier")
            .await
            .expect(StatusCode::OK)
            .body
    };
    // Big orders fill the wheels for days; a small one waits behind them.
    let mut big = Vec::new();
    for i in 0..4 {
        let body = order_body(
            &format!("big{i}@example.com"),
            "mug",
            json!({"size": "L"}),
            400,
        );
        big.push(app.place_ok(&body).await);
    }
    let small = app
        .place_ok(&order_body(
            "small@example.com",
            "mug",
            json!({"size": "S"}),
            1,
        ))
        .await;
    let waiting = report().await;
    assert!(
        !waiting["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["order_id"] == small.as_str()),
        "nothing freed yet: {waiting}"
    );
    let path = app.brand_path(&format!("/orders/{}/cancel", big[0]));
    app.call("POST", &path, Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
    let freed = report().await;
    let line = freed["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["order_id"] == small.as_str())
        .unwrap_or_else(|| panic!("the small order could come earlier: {freed}"))
        .clone();
    assert!(
        line["possible_date"].as_str().unwrap() < line["promised_date"].as_str().unwrap(),
        "{line}"
    );
    // A report: the promise itself has not moved.
    let placed = app.order(&small).await;
    assert_eq!(placed["promised_date"], line["promised_date"]);
}

/// A cancelled line is no longer made: the order is made, and ships, once
/// its other lines are.
async fn an_order_with_a_cancelled_line_is_made_by_its_other_lines(app: App) {
    let id = app.place_ok(&two_lines("made@example.com")).await;
    let path = app.brand_path(&format!("/orders/{id}/lines/2"));
    app.call("DELETE", &path, Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
    let order = app.order(&id).await;
    make_work_order(&app, order["lines"][0]["work_order_id"].as_str().unwrap()).await;
    assert_eq!(app.order(&id).await["status"], "made");
    let shipped = app
        .post(
            &format!("/orders/{id}/shipments"),
            &json!({"carrier": "DHL", "tracking_number": "JD9"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(shipped["lines"], json!([1]));
    // Its passports go to the line that was made.
    let units = app.get(&format!("/orders/{id}/units")).await.body["units"].clone();
    assert_eq!(units.as_array().unwrap().len(), 2, "{units}");
}
