//! The factory floor, live (issue 15): machine events over HTTP move the
//! promises they must and say so, apply once per machine and `seq`, in
//! order, and a machine's downtime survives a rebuilt plan. Runs on SQLite
//! and, with `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    a_broken_machine_moves_the_promises_it_must_and_says_so,
    events_apply_once_in_each_machines_order,
    operators_terminals_start_and_complete_operations,
    bad_events_are_refused_by_their_path,
);

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn down(wc: &str, machine: u64, seq: i64, minutes: u32) -> Value {
    json!({ "seq": seq, "at": now(), "work_center": wc, "machine": machine,
            "type": "machine.down", "reason": "spindle jammed", "expected_minutes": minutes })
}

fn up(wc: &str, machine: u64, seq: i64) -> Value {
    json!({ "seq": seq, "at": now(), "work_center": wc, "machine": machine, "type": "machine.up" })
}

/// The order's operations on the schedule: work centre, machine, start, in
/// time order.
async fn bars(app: &App, order: &str) -> Vec<(String, u64, jiff::Timestamp)> {
    let s = app
        .get("/schedule?days=30")
        .await
        .expect(StatusCode::OK)
        .body;
    let mut bars = Vec::new();
    for wc in s["work_centers"].as_array().unwrap() {
        for d in wc["days"].as_array().unwrap() {
            for b in d["bars"].as_array().unwrap() {
                if b["order_id"] == order {
                    bars.push((
                        wc["id"].as_str().unwrap().to_string(),
                        b["machine"].as_u64().unwrap(),
                        b["start"].as_str().unwrap().parse().unwrap(),
                    ));
                }
            }
        }
    }
    bars.sort_by_key(|b| b.2);
    bars
}

/// What applying the reply's events did, in order.
fn outcomes_of(r: &Reply) -> Vec<String> {
    r.body["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap().to_string())
        .collect()
}

async fn machines(app: &App) -> Value {
    app.get("/machines").await.expect(StatusCode::OK).body
}

async fn a_broken_machine_moves_the_promises_it_must_and_says_so(app: App) {
    let order = app.place_ok(&mug("floor@example.com")).await;
    let before = app.order(&order).await["promised_date"].clone();
    let wc = bars(&app, &order).await[0].0.clone();
    let count = app
        .kiln
        .brand(&app.slug)
        .await
        .unwrap()
        .catalog
        .factory
        .work_center(&wc)
        .unwrap()
        .machines;
    // The console's chart, as its page asks for it every second.
    let http = no_redirects();
    let cookie = console_cookie(&app, &http).await;
    let gantt = |etag: Option<String>| {
        let mut req = http
            .get(format!("{}/console/gantt", app.base))
            .header(reqwest::header::COOKIE, cookie.clone());
        if let Some(etag) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        req.send()
    };
    let first = gantt(None).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()[reqwest::header::ETAG]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!first.text().await.unwrap().contains("machine-down"));
    let same = gantt(Some(etag.clone())).await.unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);

    // Every machine of the centre breaks for a week: the order cannot start
    // before the repairs, so its promise moves, and its customer is told.
    let events: Vec<Value> = (0..u64::from(count))
        .map(|m| down(&wc, m, 1, 7 * 24 * 60))
        .collect();
    let r = app
        .post("/machine-events", &json!({ "events": events }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["received"], count);
    assert_eq!(r.body["duplicates"], 0);
    let applied = outcomes_of(&r);
    assert_eq!(applied.len(), count as usize, "{}", r.text);
    assert!(
        applied.iter().all(|a| a.starts_with("applied")),
        "{applied:?}"
    );
    let after = app.order(&order).await;
    assert!(after["promised_date"].as_str() > before.as_str(), "{after}");
    let last = after["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["status"], "promise_moved");
    assert!(
        last["note"].as_str().unwrap().contains("broke down"),
        "{last}"
    );
    // Nothing of the order is on those machines during the repair.
    let week = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 7 - 1);
    for (on, m, start) in bars(&app, &order).await {
        assert!(on != wc || start >= week, "{on} machine {m} at {start}");
    }

    // The console's chart changed: the broken machines show hatched.
    let changed = gantt(Some(etag)).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let svg = changed.text().await.unwrap();
    assert!(svg.contains("class=\"machine-down\""), "{svg}");
    assert!(svg.contains("machine 1 down until"), "{svg}");

    // The machines show down; one comes back up and shows up.
    let states = machines(&app).await;
    assert_eq!(states.as_array().unwrap().len(), count as usize);
    assert!(
        states
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["down"].is_null())
    );
    let r = app
        .post("/machine-events", &json!({ "events": [up(&wc, 0, 2)] }))
        .await
        .expect(StatusCode::OK);
    assert!(outcomes_of(&r)[0].contains("up"), "{}", r.text);
    let states = machines(&app).await;
    let m0 = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["work_center"] == wc.as_str() && s["machine"] == 0)
        .unwrap();
    assert!(m0["down"].is_null(), "{m0}");
    assert_eq!(m0["last_seq"], 2);

    // A plan rebuilt from the store (another server, a restart) keeps the
    // other machines down and the first up.
    let again = kiln_app::App::new(app.store.clone(), config());
    let rt = again.brand(&app.slug).await.unwrap();
    let plan = rt.plan.lock().await;
    let down = plan.schedule.machine_down(&wc).unwrap();
    assert!(
        down[0].iter().all(|p| p.to <= plan.clock.now() + 1),
        "{down:?}"
    );
    for m in 1..count as usize {
        assert!(
            down[m]
                .iter()
                .any(|p| p.to > plan.clock.now() + 6 * 24 * 60),
            "{m}: {down:?}"
        );
    }
}

async fn events_apply_once_in_each_machines_order(app: App) {
    let events = json!({ "events": [down("kiln", 1, 1, 30), up("kiln", 1, 2)] });
    let r = app
        .post("/machine-events", &events)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["received"], 2);
    let outcomes = outcomes_of(&r);
    assert_eq!(outcomes.len(), 2, "{}", r.text);
    assert!(outcomes[0].starts_with("applied: down"), "{outcomes:?}");
    assert!(outcomes[1].starts_with("applied: up"), "{outcomes:?}");
    // The same events again (a retry, a redelivery): nothing happens.
    let r = app
        .post("/machine-events", &events)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["received"], 0);
    assert_eq!(r.body["duplicates"], 2);
    assert_eq!(r.body["applied"], json!([]));
    // An event older than one applied (it came late) changes nothing: the
    // machine stays up.
    let r = app
        .post("/machine-events", &json!({ "events": [up("kiln", 1, 4)] }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["applied"][0]["outcome"], "already up");
    let r = app
        .post(
            "/machine-events",
            &json!({ "events": [down("kiln", 1, 3, 30)] }),
        )
        .await
        .expect(StatusCode::OK);
    assert!(outcomes_of(&r)[0].starts_with("late"), "{}", r.text);
    let states = machines(&app).await;
    assert_eq!(states[0]["last_seq"], 4);
    assert!(states[0]["down"].is_null());
    // Unknown machines are reported, not applied.
    let r = app
        .post(
            "/machine-events",
            &json!({ "events": [up("nowhere", 0, 1), up("kiln", 9, 1)] }),
        )
        .await
        .expect(StatusCode::OK);
    // Events apply in the order they happened (`at`), which the two calls
    // to `now()` above may or may not tell apart: compare as a set.
    let mut outcomes = outcomes_of(&r);
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            "no work centre `nowhere`",
            "work centre `kiln` has machines 0 to 1",
        ]
    );
}

async fn operators_terminals_start_and_complete_operations(app: App) {
    let order = app.place_ok(&mug("terminal@example.com")).await;
    let wos = app.get("/work-orders").await.expect(StatusCode::OK).body;
    let wo = wos["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["order_ids"].to_string().contains(&order))
        .expect("the order's work order")
        .clone();
    let id = wo["id"].as_str().unwrap();
    let wc = wo["operations"][0]["work_center"]
        .as_str()
        .unwrap_or("wheel")
        .to_string();
    let start = json!({ "seq": 1, "at": now(), "work_center": wc, "machine": 0,
                        "type": "operation.started", "work_order": id, "operation": 1 });
    let done = json!({ "seq": 2, "at": now(), "work_center": wc, "machine": 0,
                       "type": "operation.completed", "work_order": id, "operation": 1, "scrap": 0 });
    let r = app
        .post("/machine-events", &json!({ "events": [start, done] }))
        .await
        .expect(StatusCode::OK);
    let outcomes = outcomes_of(&r);
    assert_eq!(outcomes, ["applied", "applied"], "{}", r.text);
    let wo = app
        .get(&format!("/work-orders/{id}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(wo["operations"][0]["status"], "done", "{wo}");
    // Completing it again is reported with the reason, and the machine's
    // queue goes on.
    let again = json!({ "seq": 3, "at": now(), "work_center": wc, "machine": 0,
                        "type": "operation.completed", "work_order": id, "operation": 1 });
    let r = app
        .post(
            "/machine-events",
            &json!({ "events": [again, up(&wc, 0, 4)] }),
        )
        .await
        .expect(StatusCode::OK);
    assert_ne!(r.body["applied"][0]["outcome"], "applied", "{}", r.text);
    assert_eq!(r.body["applied"][1]["outcome"], "already up", "{}", r.text);
}

async fn bad_events_are_refused_by_their_path(app: App) {
    let bad = json!({ "events": [
        { "seq": 0, "at": now(), "work_center": "kiln", "machine": 0, "type": "machine.up" },
        { "seq": 1, "at": "2001-01-01T00:00:00Z", "work_center": "kiln", "machine": 0, "type": "machine.up" },
        { "seq": 2, "at": now(), "work_center": "kiln", "machine": 0, "type": "machine.down", "expected_minutes": 0 },
        { "seq": 3, "at": now(), "work_center": "kiln", "machine": 0, "type": "machine.down", "reason": "jam\u{0}med" },
    ] });
    let paths = app
        .post("/machine-events", &bad)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        paths,
        [
            "/events/0/seq",
            "/events/1/at",
            "/events/2/expected_minutes",
            "/events/3/reason"
        ]
    );
    let paths = app
        .post("/machine-events", &json!({ "events": [{ "seq": 1, "at": now(), "work_center": "kiln", "machine": 0, "type": "machine.exploded" }] }))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(paths.len(), 1, "{paths:?}");
    app.post("/machine-events", &json!({ "events": [] }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing of it reached the inbox.
    assert_eq!(machines(&app).await, json!([]));
}
