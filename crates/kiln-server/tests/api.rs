//! The whole loop over HTTP, against a real server on a random port: catalog,
//! configure, order, work orders, shipping, tenancy, and the platform routes.
//!
//! Every behaviour runs on SQLite (a fresh temporary directory per test), and
//! on PostgreSQL (a fresh database per test) when `KILN_TEST_POSTGRES` holds a
//! server URL such as `postgres://postgres@127.0.0.1:5432/postgres`. The
//! PostgreSQL variants live in `mod postgres`, so `cargo test -- postgres`
//! runs exactly them.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    catalog_lists_and_configures,
    configure_errors_are_problems,
    place_order_is_idempotent,
    concurrent_retries_make_one_order,
    retries_of_many_orders_at_once_each_get_their_own,
    order_errors_name_the_field,
    same_configuration_batches_into_one_work_order,
    a_full_work_order_takes_no_more_lines,
    reading_an_order_needs_the_brand_key,
    order_loop_to_delivery,
    operations_run_in_order,
    platform_routes,
    parameter_errors_are_problems,
    store_mode_places_and_finds_store_orders,
    work_centre_down_moves_promises,
    live_schedule_is_rebuilt_after_a_restart,
    purchases_are_received_and_made_orders_consume_stock,
    a_purchase_received_twice_at_once_is_received_once,
    demand_forecasts_and_hot_values_from_history,
    finished_operations_free_their_capacity,
);

// ---------------------------------------------------------------------------
// Behaviours.

async fn catalog_lists_and_configures(app: App) {
    let list = app.get_public("/products").await.expect(StatusCode::OK);
    let ids: BTreeSet<&str> = list.body["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() >= 3, "{ids:?}");
    for id in ["mug", "sneaker", "shirt"] {
        assert!(ids.contains(id), "{id} is missing from {ids:?}");
    }
    for p in list.body["products"].as_array().unwrap() {
        assert!(p["name"].is_string(), "{p}");
    }

    let mug = app.get_public("/products/mug").await.expect(StatusCode::OK);
    assert_eq!(mug.body["id"], "mug");
    let shape = option(&mug.body, "shape");
    assert!(value(shape, "conical")["name"].is_string());
    assert!(!mug.body["components"].as_array().unwrap().is_empty());
    assert!(mug.body["rules"].as_array().unwrap().len() >= 3);
    app.get_public("/products/teapot")
        .await
        .problem(StatusCode::NOT_FOUND);

    // The defaults make a complete configuration.
    let defaults = app.configure("mug", json!({})).await.expect(StatusCode::OK);
    let outcome = &defaults.body;
    assert_eq!(outcome["valid"], true, "{outcome}");
    assert_eq!(outcome["complete"], true, "{outcome}");
    assert!(!outcome["sku"].as_str().unwrap().is_empty());
    // Money is decimal text, never a float.
    let total = outcome["price"]["total"]
        .as_str()
        .expect("a decimal string");
    assert!(total.parse::<f64>().unwrap() > 0.0, "{total}");
    assert!(!outcome["bom"].as_array().unwrap().is_empty());
    assert!(!outcome["routing"].as_array().unwrap().is_empty());
    assert!(outcome["preview_svg"].as_str().unwrap().contains("<svg"));
    assert!(outcome["promised_date"].is_string(), "{outcome}");

    // A conical mug cannot be large, and says why.
    let conical = app
        .configure("mug", json!({ "shape": "conical" }))
        .await
        .expect(StatusCode::OK);
    let large = value(option(&conical.body, "size"), "L");
    assert_eq!(large["available"], false, "{large}");
    let rules = large["reason"]["rules"].as_array().expect("a reason");
    assert!(
        rules
            .iter()
            .any(|r| r["message"] == "Conical mugs come in S and M"),
        "{large}"
    );
    assert_eq!(value(option(&conical.body, "size"), "S")["available"], true);

    // The same configuration in another order of selections has the same SKU.
    let a = app
        .configure("mug", json!({ "size": "L", "glaze": "#e63946" }))
        .await
        .expect(StatusCode::OK);
    let b = app
        .configure("mug", json!({ "glaze": "#e63946", "size": "L" }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(a.body["sku"], b.body["sku"]);
    assert_ne!(a.body["sku"], defaults.body["sku"]);

    // The other two products configure with their defaults too.
    for product in ["sneaker", "shirt"] {
        let r = app
            .configure(product, json!({}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["valid"], true, "{product}: {}", r.text);
        assert!(r.body["sku"].is_string(), "{product}: {}", r.text);
    }
}

async fn configure_errors_are_problems(app: App) {
    let paths = app
        .configure("mug", json!({ "handle_colour": "red" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/selections/handle_colour"]);

    let paths = app
        .configure("mug", json!({ "size": "XXL" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/selections/size"]);

    // A selection value that is not a string cannot be read.
    let paths = app
        .post_raw("/products/mug/configure", r#"{"selections": {"size": 3}}"#)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(paths, ["/selections/size"]);

    // Broken JSON is a 400 problem too.
    app.post_raw("/products/mug/configure", r#"{"selections": "#)
        .await
        .problem(StatusCode::BAD_REQUEST);

    app.configure("teapot", json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    let nobrand = app
        .http
        .get(format!("{}/api/v1/brands/nobody/products", app.base))
        .send()
        .await
        .unwrap();
    Reply::from(nobrand).await.problem(StatusCode::NOT_FOUND);
}

async fn place_order_is_idempotent(app: App) {
    let body = mug("ada@example.com");
    let placed = app
        .place(Some("order-1"), &body)
        .await
        .expect(StatusCode::CREATED);
    let id = placed.body["id"].as_str().expect("an id").to_string();
    assert!(!id.is_empty());
    assert_eq!(placed.body["status"], "planned");
    // Paid offline through the built-in manual provider, for the order's total.
    assert_eq!(placed.body["payment"]["provider"], "manual");
    assert_eq!(placed.body["payment"]["status"], "awaiting_payment");
    assert_eq!(placed.body["payment"]["amount"], placed.body["total"]);
    let promised: jiff::civil::Date = placed.body["promised_date"]
        .as_str()
        .expect("a promised date")
        .parse()
        .expect("an ISO date");
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    assert!(promised >= today, "{promised} is before {today}");
    assert!(placed.body["total"].is_string(), "{}", placed.text);

    // The retry returns the same order and creates nothing.
    let again = app
        .place(Some("order-1"), &body)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again.body["id"], id.as_str());
    // Whitespace and key order do not make it another body.
    let reordered = serde_json::to_string_pretty(&body).unwrap();
    let req = app
        .http
        .post(app.brand_url("/orders"))
        .header("Idempotency-Key", "order-1")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(reordered);
    let pretty = Reply::from(req.send().await.unwrap())
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(pretty.body["id"], id.as_str());

    let list = app.get("/orders").await.expect(StatusCode::OK);
    assert_eq!(
        list.body["orders"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
    let order = app.order(&id).await;
    let wo = &work_orders_of(&order)[0];
    let wo = app
        .get(&format!("/work-orders/{wo}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(wo.body["quantity"], 2);

    // The same key with another body is refused, and names the header.
    let paths = app
        .place(Some("order-1"), &mug("bob@example.com"))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["Idempotency-Key"]);
    let list = app.get("/orders").await.expect(StatusCode::OK);
    assert_eq!(list.body["orders"].as_array().unwrap().len(), 1);

    // Another key is another order.
    let other = app
        .place(Some("order-2"), &body)
        .await
        .expect(StatusCode::CREATED);
    assert_ne!(other.body["id"], id.as_str());
}

async fn concurrent_retries_make_one_order(app: App) {
    let app = Arc::new(app);
    let body = mug("ada@example.com");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (app, body) = (app.clone(), body.clone());
            tokio::spawn(async move {
                let reply = app.place(Some("same-key"), &body).await;
                (reply.status, reply.body["id"].clone(), reply.text)
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        let (status, id, text) = t.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{text}");
        ids.insert(id.as_str().expect("an id").to_string());
    }
    assert_eq!(ids.len(), 1, "one key, one order: {ids:?}");
    let list = app.get("/orders").await.expect(StatusCode::OK);
    assert_eq!(
        list.body["orders"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
    let id = ids.into_iter().next().unwrap();
    let wo = work_orders_of(&app.order(&id).await).remove(0);
    let wo = app
        .get(&format!("/work-orders/{wo}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(wo.body["quantity"], 2, "{}", wo.text);
}

/// Many orders placed at once, then retried at once: each retry gets the
/// order its own key placed, and nothing more is written.
async fn retries_of_many_orders_at_once_each_get_their_own(app: App) {
    let app = Arc::new(app);
    let send = |round: &'static str| {
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let app = app.clone();
                tokio::spawn(async move {
                    let body = mug(&format!("buyer{i}@example.com"));
                    let reply = app.place(Some(&format!("bulk-{i}")), &body).await;
                    assert_eq!(
                        reply.status,
                        StatusCode::CREATED,
                        "{round} {i}: {}",
                        reply.text
                    );
                    reply.body["id"].as_str().expect("an id").to_string()
                })
            })
            .collect();
        async move {
            let mut ids = Vec::new();
            for t in tasks {
                ids.push(t.await.unwrap());
            }
            ids
        }
    };
    let first = send("first").await;
    let again = send("retry").await;
    assert_eq!(first, again, "each key answers with its own order");
    assert_eq!(first.iter().collect::<BTreeSet<_>>().len(), 12);
    let list = app.get("/orders").await.expect(StatusCode::OK);
    assert_eq!(
        list.body["orders"].as_array().unwrap().len(),
        12,
        "{}",
        list.text
    );
}

async fn order_errors_name_the_field(app: App) {
    // A quantity that is a string cannot be read.
    let mut body = mug("ada@example.com");
    body["lines"][0]["quantity"] = json!("two");
    let paths = app
        .place(Some("bad-1"), &body)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(paths, ["/lines/0/quantity"]);

    // A missing field.
    let mut body = mug("ada@example.com");
    body["ship_to"].as_object_mut().unwrap().remove("city");
    let paths = app
        .place(Some("bad-2"), &body)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(paths.len(), 1);
    assert!(paths[0].starts_with("/ship_to"), "{paths:?}");

    // Domain checks, all reported at once.
    let mut body = mug("not-an-email");
    body["lines"][0]["quantity"] = json!(0);
    body["ship_to"]["country"] = json!("Britain");
    let paths = app
        .place(Some("bad-3"), &body)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    for path in ["/customer/email", "/ship_to/country", "/lines/0/quantity"] {
        assert!(paths.iter().any(|p| p == path), "{path} not in {paths:?}");
    }

    // An unknown value, a configuration that breaks a rule, an unknown product.
    let bad_value = order_body("ada@example.com", "mug", json!({ "size": "XXL" }), 1);
    let paths = app
        .place(Some("bad-4"), &bad_value)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/lines/0/selections/size"]);
    let breaks_rule = order_body(
        "ada@example.com",
        "mug",
        json!({ "shape": "conical", "size": "L" }),
        1,
    );
    let paths = app
        .place(Some("bad-5"), &breaks_rule)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths.len(), 1);
    assert!(paths[0].starts_with("/lines/0/selections"), "{paths:?}");
    let teapot = order_body("ada@example.com", "teapot", json!({}), 1);
    let paths = app
        .place(Some("bad-6"), &teapot)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/lines/0/product"]);

    // Nothing was placed, and the refused keys are still free.
    let list = app.get("/orders").await.expect(StatusCode::OK);
    assert!(
        list.body["orders"].as_array().unwrap().is_empty(),
        "{}",
        list.text
    );
    app.place(Some("bad-1"), &mug("ada@example.com"))
        .await
        .expect(StatusCode::CREATED);
}

async fn same_configuration_batches_into_one_work_order(app: App) {
    let first = app.place_ok(&mug("ada@example.com")).await;
    let second = app.place_ok(&mug("bob@example.com")).await;
    let other = app
        .place_ok(&order_body(
            "cy@example.com",
            "mug",
            json!({ "size": "S" }),
            1,
        ))
        .await;
    let wo_first = work_orders_of(&app.order(&first).await);
    let wo_second = work_orders_of(&app.order(&second).await);
    let wo_other = work_orders_of(&app.order(&other).await);
    assert_eq!(wo_first.len(), 1);
    assert_eq!(
        wo_first, wo_second,
        "the same SKU batches into one work order"
    );
    assert_ne!(wo_first, wo_other, "another SKU gets its own work order");

    let wo = app
        .get(&format!("/work-orders/{}", wo_first[0]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(wo.body["quantity"], 4);
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(wo.body["order_ids"], json!(expected));

    let open = app.get("/work-orders").await.expect(StatusCode::OK);
    assert_eq!(open.body["work_orders"].as_array().unwrap().len(), 2);
    app.get("/work-orders?state=sideways")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);

    // Once the batch starts, a new order of that SKU opens a new work order.
    app.post(
        &format!("/work-orders/{}/operations/1/start", wo_first[0]),
        &json!({}),
    )
    .await
    .expect(StatusCode::OK);
    let third = app.place_ok(&mug("dee@example.com")).await;
    let wo_third = work_orders_of(&app.order(&third).await);
    assert_ne!(wo_third, wo_first);
}

/// The demo factory's `max_batch_units` is 50: a work order takes lines of
/// its SKU until the next would pass 50 units, and keeps its count across a
/// restart and a cancellation.
async fn a_full_work_order_takes_no_more_lines(app: App) {
    let tall = |email: &str, quantity| {
        let selections = json!({ "size": "L", "shape": "tall", "glaze": "#1d3557" });
        order_body(email, "mug", selections, quantity)
    };
    let batch_of = |order: Value| {
        let wo = work_orders_of(&order);
        assert_eq!(wo.len(), 1, "{order}");
        wo[0].clone()
    };
    let first = app.place_ok(&tall("ada@example.com", 48)).await;
    let full = batch_of(app.order(&first).await);
    let second = app.place_ok(&tall("bob@example.com", 2)).await;
    assert_eq!(batch_of(app.order(&second).await), full, "48 + 2 fit in 50");
    let third = app.place_ok(&tall("cy@example.com", 1)).await;
    let open = batch_of(app.order(&third).await);
    assert_ne!(open, full, "a full batch takes no more lines");
    assert_eq!(quantity(&app, &full).await, 50);

    // A line larger than the limit is a work order of its own, and the
    // batch with room stays open for the lines after it.
    let large = app.place_ok(&tall("dee@example.com", 60)).await;
    let own = batch_of(app.order(&large).await);
    assert!(own != open && own != full);
    assert_eq!(quantity(&app, &own).await, 60);

    // After a restart the open batch is found again, with its units.
    let app = app.restarted().await;
    let fourth = app.place_ok(&tall("eve@example.com", 49)).await;
    assert_eq!(batch_of(app.order(&fourth).await), open, "1 + 49 fit in 50");
    // A cancelled line gives its units back to its batch.
    let path = app.brand_path(&format!("/orders/{fourth}/cancel"));
    app.call("POST", &path, Some(&app.key), None)
        .await
        .expect(StatusCode::OK);
    let fifth = app.place_ok(&tall("fay@example.com", 49)).await;
    assert_eq!(batch_of(app.order(&fifth).await), open);
    assert_eq!(quantity(&app, &open).await, 50);
    let sixth = app.place_ok(&tall("gus@example.com", 1)).await;
    assert_ne!(batch_of(app.order(&sixth).await), open);
}

async fn quantity(app: &App, work_order: &str) -> i64 {
    let w = app
        .get(&format!("/work-orders/{work_order}"))
        .await
        .expect(StatusCode::OK);
    w.body["quantity"].as_i64().expect("a quantity")
}

async fn reading_an_order_needs_the_brand_key(app: App) {
    let id = app.place_ok(&mug("ada@example.com")).await;
    let path = format!("/orders/{id}");

    let paths = app
        .get_with_key(&path, None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert!(paths.is_empty());
    app.get_with_key(&path, Some("kiln_not_a_key"))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    let (other, other_key) = app.other_brand().await;
    app.get_with_key(&path, Some(&other_key))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get_with_key("/orders", Some(&other_key))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get_with_key("/work-orders", Some(&other_key))
        .await
        .problem(StatusCode::NOT_FOUND);
    // Even through its own brand's path, the other brand does not see it.
    let url = format!("{}/api/v1/brands/{}/orders/{id}", app.base, other.slug);
    let theirs = app
        .http
        .get(&url)
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    Reply::from(theirs).await.problem(StatusCode::NOT_FOUND);
    let url = format!("{}/api/v1/brands/{}/orders", app.base, other.slug);
    let theirs = app
        .http
        .get(&url)
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    let theirs = Reply::from(theirs).await.expect(StatusCode::OK);
    assert!(
        theirs.body["orders"].as_array().unwrap().is_empty(),
        "{}",
        theirs.text
    );

    let mine = app.order(&id).await;
    assert_eq!(mine["id"], id.as_str());
    app.get(&format!("/orders/ord_{}", uuid::Uuid::new_v4().simple()))
        .await
        .problem(StatusCode::NOT_FOUND);
}

async fn order_loop_to_delivery(app: App) {
    let body = order_body("ada@example.com", "sneaker", json!({ "size": "40" }), 1);
    let id = app.place_ok(&body).await;
    let order = app.order(&id).await;
    assert_eq!(order["status"], "planned");
    assert!(
        !order["requirements"].as_array().unwrap().is_empty(),
        "{order}"
    );

    // Shipping before it is made is refused.
    let ship = json!({ "carrier": "DHL", "tracking_number": "JD014600006281230704" });
    app.post(&format!("/orders/{id}/shipments"), &ship)
        .await
        .problem(StatusCode::CONFLICT);

    // The operator works through every operation of every work order.
    for wo in work_orders_of(&order) {
        let seqs = operation_seqs(&app, &wo).await;
        assert!(!seqs.is_empty());
        for seq in seqs {
            let started = app
                .post(
                    &format!("/work-orders/{wo}/operations/{seq}/start"),
                    &json!({}),
                )
                .await
                .expect(StatusCode::OK);
            assert_eq!(started.body["work_order"]["status"], "in_progress");
            let done = app
                .post(
                    &format!("/work-orders/{wo}/operations/{seq}/complete"),
                    &json!({ "scrap": 0 }),
                )
                .await
                .expect(StatusCode::OK);
            let op = &done.body["work_order"]["operations"][(seq - 1) as usize];
            assert_eq!(op["status"], "done", "{}", done.text);
        }
        let finished = app
            .get(&format!("/work-orders/{wo}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(finished.body["status"], "done");
    }
    assert_eq!(app.order(&id).await["status"], "made");

    // A carrier the brand does not declare needs its tracking number (the
    // demo's own carriers are numbered by Kiln: tests/shipping.rs).
    let paths = app
        .post(
            &format!("/orders/{id}/shipments"),
            &json!({ "carrier": "Pigeon post", "tracking_number": "" }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/carrier"]);
    let shipment = app
        .post(&format!("/orders/{id}/shipments"), &ship)
        .await
        .expect(StatusCode::CREATED);
    let shipment_id = shipment.body["id"]
        .as_str()
        .expect("a shipment id")
        .to_string();
    assert_eq!(shipment.body["carrier"], "DHL");
    assert_eq!(shipment.body["tracking_number"], "JD014600006281230704");
    assert_eq!(app.order(&id).await["status"], "shipped");

    let delivered = app
        .post(&format!("/shipments/{shipment_id}/delivered"), &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(delivered.body["status"], "delivered");
    assert!(delivered.body["delivered_at"].is_string());
    app.post("/shipments/shp_nope/delivered", &json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);

    let order = app.order(&id).await;
    assert_eq!(order["status"], "delivered");
    assert_eq!(order["shipments"][0]["status"], "delivered");
    let timeline = order["timeline"].as_array().expect("a timeline");
    let statuses: Vec<&str> = timeline
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "ordered",
            "planned",
            "in_production",
            "made",
            "shipped",
            "delivered"
        ]
    );
    let times: Vec<jiff::Timestamp> = timeline.iter().map(|e| timestamp(&e["at"])).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "the timeline is out of order: {timeline:?}"
    );
}

async fn operations_run_in_order(app: App) {
    let id = app.place_ok(&mug("ada@example.com")).await;
    let wo = work_orders_of(&app.order(&id).await).remove(0);
    let op = |seq: i64, action: &str| format!("/work-orders/{wo}/operations/{seq}/{action}");

    app.post(&op(1, "complete"), &json!({}))
        .await
        .problem(StatusCode::CONFLICT);
    app.post(&op(2, "start"), &json!({}))
        .await
        .problem(StatusCode::CONFLICT);
    app.post(&op(99, "start"), &json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.post("/work-orders/wo_nope/operations/1/start", &json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    let started = app
        .post(&op(1, "start"), &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(started.body["orders"], json!([[id, "in_production"]]));
    app.post(&op(1, "start"), &json!({}))
        .await
        .problem(StatusCode::CONFLICT);
    let paths = app
        .post(&op(1, "complete"), &json!({ "scrap": "one" }))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(paths, ["/scrap"]);
    // The operator routes need the key.
    let anonymous = app
        .http
        .post(app.brand_url(&op(1, "complete")))
        .send()
        .await
        .unwrap();
    Reply::from(anonymous)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let done = app
        .post(&op(1, "complete"), &json!({ "scrap": 1 }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(done.body["work_order"]["operations"][0]["scrap"], 1);
    assert_eq!(app.order(&id).await["status"], "in_production");
}

/// Every route the router serves, as `(method, OpenAPI path)`.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/brands/{brand}/products"),
    ("get", "/api/v1/brands/{brand}/products/{product}"),
    (
        "post",
        "/api/v1/brands/{brand}/products/{product}/configure",
    ),
    ("post", "/api/v1/brands/{brand}/orders"),
    ("get", "/api/v1/brands/{brand}/orders"),
    ("get", "/api/v1/brands/{brand}/orders/{order}"),
    ("get", "/api/v1/brands/{brand}/work-orders"),
    ("get", "/api/v1/brands/{brand}/work-orders/{work_order}"),
    (
        "post",
        "/api/v1/brands/{brand}/work-orders/{work_order}/operations/{seq}/start",
    ),
    (
        "post",
        "/api/v1/brands/{brand}/work-orders/{work_order}/operations/{seq}/complete",
    ),
    ("get", "/api/v1/brands/{brand}/purchase-suggestions"),
    (
        "post",
        "/api/v1/brands/{brand}/purchase-suggestions/{suggestion}/receive",
    ),
    ("get", "/api/v1/brands/{brand}/materials"),
    ("post", "/api/v1/brands/{brand}/machine-events"),
    ("get", "/api/v1/brands/{brand}/machines"),
    ("post", "/api/v1/brands/{brand}/orders/{order}/shipments"),
    (
        "post",
        "/api/v1/brands/{brand}/shipments/{shipment}/delivered",
    ),
    (
        "post",
        "/api/v1/brands/{brand}/shipments/{shipment}/tracking",
    ),
    ("get", "/api/v1/brands/{brand}/shipments/{shipment}"),
    (
        "get",
        "/api/v1/brands/{brand}/purchase-suggestions/by-supplier",
    ),
    (
        "get",
        "/api/v1/brands/{brand}/shipments/{shipment}/label.svg",
    ),
    ("get", "/api/v1/brands/{brand}/schedule"),
    ("post", "/api/v1/brands/{brand}/schedule/optimize"),
    ("get", "/api/v1/brands/{brand}/material-plan"),
    (
        "get",
        "/api/v1/brands/{brand}/work-centers/{work_center}/queue",
    ),
    ("get", "/api/v1/brands/{brand}/shortages"),
    ("get", "/api/v1/brands/{brand}/downtimes"),
    ("get", "/api/v1/brands/{brand}/passport-keys"),
    ("post", "/api/v1/brands/{brand}/passport-keys"),
    ("delete", "/api/v1/brands/{brand}/passport-keys/{kid}"),
    ("get", "/api/v1/brands/{brand}/units/{serial}/passport"),
    ("get", "/api/v1/brands/{brand}/units/{serial}/qr.svg"),
    ("post", "/api/v1/brands/{brand}/units/{serial}/claims"),
    ("get", "/api/v1/brands/{brand}/units/{serial}/claims"),
    ("get", "/api/v1/brands/{brand}/claims/{claim}"),
    ("get", "/api/v1/brands/{brand}/claims/report"),
    ("post", "/api/v1/brands/{brand}/claims/{claim}/decision"),
    (
        "get",
        "/api/v1/brands/{brand}/work-orders/{work_order}/units",
    ),
    ("get", "/api/v1/brands/{brand}/orders/{order}/units"),
    ("post", "/api/v1/brands/{brand}/orders/{order}/cancel"),
    (
        "delete",
        "/api/v1/brands/{brand}/orders/{order}/lines/{line}",
    ),
    (
        "patch",
        "/api/v1/brands/{brand}/orders/{order}/lines/{line}",
    ),
    ("get", "/api/v1/brands/{brand}/schedule/earlier"),
    ("post", "/api/v1/brands/{brand}/business-customers"),
    ("get", "/api/v1/brands/{brand}/business-customers"),
    (
        "get",
        "/api/v1/brands/{brand}/business-customers/{customer}",
    ),
    ("post", "/api/v1/brands/{brand}/bulk-quotes"),
    (
        "post",
        "/api/v1/brands/{brand}/purchase-suggestions/{suggestion}/delay",
    ),
    ("get", "/api/v1/brands/{brand}/bulk-quotes/{quote}"),
    ("post", "/api/v1/brands/{brand}/bulk-quotes/{quote}/accept"),
    (
        "get",
        "/api/v1/brands/{brand}/products/{product}/bulk-template.csv",
    ),
    ("delete", "/api/v1/brands/{brand}/downtimes/{downtime}"),
    ("get", "/api/v1/brands/{brand}/demand"),
    ("post", "/api/v1/brands/{brand}/sales-history"),
    ("post", "/api/v1/brands/{brand}/demand/purchase-suggestions"),
    ("post", "/api/v1/admin/brands"),
    ("get", "/api/v1/admin/brands"),
    ("get", "/api/v1/admin/audit"),
    ("get", "/api/v1/brands/{brand}/audit"),
    ("post", "/api/v1/brands/{brand}/api-keys"),
    ("get", "/api/v1/brands/{brand}/api-keys"),
    ("delete", "/api/v1/brands/{brand}/api-keys/{key}"),
    ("post", "/api/v1/brands/{brand}/api-keys/{key}/rotate"),
    ("put", "/api/v1/brands/{brand}/catalog"),
    ("get", "/api/v1/brands/{brand}/catalog/versions"),
    ("get", "/api/v1/brands/{brand}/catalog/versions/{version}"),
    ("get", "/api/v1/brands/{brand}/catalog/diff"),
    ("post", "/api/v1/brands/{brand}/webhooks"),
    ("get", "/api/v1/brands/{brand}/webhooks"),
    ("get", "/api/v1/brands/{brand}/webhooks/{webhook}"),
    ("patch", "/api/v1/brands/{brand}/webhooks/{webhook}"),
    ("delete", "/api/v1/brands/{brand}/webhooks/{webhook}"),
    (
        "post",
        "/api/v1/brands/{brand}/webhooks/{webhook}/rotate-secret",
    ),
    ("post", "/api/v1/brands/{brand}/webhooks/{webhook}/replay"),
    (
        "get",
        "/api/v1/brands/{brand}/webhooks/{webhook}/deliveries",
    ),
    (
        "get",
        "/api/v1/brands/{brand}/webhooks/{webhook}/deliveries/{delivery}/attempts",
    ),
    ("get", "/api/v1/brands/{brand}/events"),
    (
        "post",
        "/api/v1/brands/{brand}/work-centers/{work_center}/downtimes",
    ),
    ("post", "/api/v1/brands/{brand}/write-keys"),
    ("get", "/api/v1/brands/{brand}/write-keys"),
    ("delete", "/api/v1/brands/{brand}/write-keys/{key}"),
    ("get", "/api/v1/brands/{brand}/profiles"),
    ("get", "/api/v1/brands/{brand}/profiles/{profile}"),
    ("delete", "/api/v1/brands/{brand}/profiles/{profile}"),
    ("get", "/api/v1/brands/{brand}/profiles/{profile}/events"),
    (
        "post",
        "/api/v1/brands/{brand}/profiles/{profile}/merges/{merge}/undo",
    ),
    ("get", "/api/v1/brands/{brand}/identity-rules"),
    ("put", "/api/v1/brands/{brand}/identity-rules"),
    ("post", "/api/v1/brands/{brand}/segments"),
    ("get", "/api/v1/brands/{brand}/segments"),
    ("get", "/api/v1/brands/{brand}/stores"),
    ("put", "/api/v1/brands/{brand}/stores/{store}"),
    ("get", "/api/v1/brands/{brand}/stores/{store}/strategy"),
    ("post", "/v1/batch"),
    ("post", "/v1/identify"),
    ("post", "/v1/track"),
    ("post", "/v1/page"),
    ("post", "/v1/screen"),
    ("post", "/v1/group"),
    ("post", "/v1/alias"),
];

async fn platform_routes(app: App) {
    let health = Reply::from(
        app.http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(health.text, "ok");

    // A request first, so the metrics have something to say.
    app.get_public("/products").await.expect(StatusCode::OK);
    let metrics = Reply::from(
        app.http
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await
    .expect(StatusCode::OK);
    assert!(
        metrics.content_type.starts_with("text/plain"),
        "{}",
        metrics.content_type
    );
    assert!(
        metrics.text.contains("kiln_http_requests_total"),
        "{}",
        metrics.text
    );

    let doc = Reply::from(
        app.http
            .get(format!("{}/api/v1/openapi.json", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await
    .expect(StatusCode::OK);
    let openapi = doc.body["openapi"].as_str().expect("an openapi version");
    assert!(openapi.starts_with("3.1"), "{openapi}");
    let paths = doc.body["paths"].as_object().expect("paths");
    let mut missing = Vec::new();
    for (method, path) in ROUTES {
        if paths.get(*path).and_then(|p| p.get(*method)).is_none() {
            missing.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert!(
        missing.is_empty(),
        "not in the OpenAPI document: {missing:?}"
    );
    // And nothing in the document that the router does not serve.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                assert!(
                    ROUTES.contains(&(method.as_str(), path.as_str())),
                    "{method} {path} is documented but not in this test's list of routes"
                );
            }
        }
    }
    // Every documented route answers (something other than the fallback 404
    // "no such route").
    for (method, path) in ROUTES {
        let url = format!(
            "{}{}",
            app.base,
            path.replace("{brand}", &app.slug)
                .replace("{product}", "mug")
                .replace("{seq}", "1")
                .replace(['{', '}'], "")
        );
        let req = match *method {
            "get" => app.http.get(&url),
            _ => app.http.post(&url).json(&json!({})),
        };
        let reply = Reply::from(req.bearer_auth(&app.key).send().await.unwrap()).await;
        assert_ne!(
            reply.body["detail"], "no such route",
            "{method} {path} is not served"
        );
    }
    // Unknown routes are problems too.
    let nowhere = Reply::from(
        app.http
            .get(format!("{}/api/v1/nowhere", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    nowhere.problem(StatusCode::NOT_FOUND);
}

async fn parameter_errors_are_problems(app: App) {
    // A query parameter that does not parse.
    let paths = app
        .get("/orders?limit=many")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(paths, ["limit"]);
    // A path parameter that does not parse.
    let paths = app
        .post("/work-orders/wo_x/operations/first/start", &json!({}))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(paths, ["seq"]);
    // A method the route does not take.
    let reply = Reply::from(
        app.http
            .delete(app.brand_url("/products"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.problem(StatusCode::METHOD_NOT_ALLOWED);
}

// ---------------------------------------------------------------------------
// Store mode, through its HTML forms as a clerk's browser would post them.

/// The `name=value` of every `Set-Cookie` in a response.
async fn store_mode_places_and_finds_store_orders(app: App) {
    let http = no_redirects();
    let post = |path: &str, form: &[(&str, &str)], cookie: &str| {
        http.post(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, cookie.to_string())
            .form(form)
            .send()
    };
    // A wrong key is refused; the brand key signs the clerk in.
    let refused = post("/store/sign-in", &[("key", "kiln_not_a_key")], "")
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let signed = post("/store/sign-in", &[("key", app.key.as_str())], "")
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let mut cookie = cookies_of(&signed).join("; ");
    let chose = post("/store/choose", &[("store", "london")], &cookie)
        .await
        .unwrap();
    cookie = [cookie, cookies_of(&chose).join("; ")].join("; ");

    // A walk-in order: configured on the counter, channel `store`, picked up at the store.
    let placed = post(
        "/store/orders",
        &[
            ("_product", "mug"),
            ("shape", "tall"),
            ("_name", "Walk In"),
            ("_email", "walk.in@example.com"),
            ("_phone", "+44 7700 900123"),
            ("_quantity", "2"),
        ],
        &cookie,
    )
    .await
    .unwrap();
    assert_eq!(
        placed.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        placed.text().await
    );
    let location = placed.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let order_id = location
        .strip_prefix("/store/orders/")
        .expect("the store order page")
        .to_string();
    let order = Reply::from(
        app.http
            .get(format!(
                "{}/api/v1/brands/{}/orders/{order_id}",
                app.base, app.slug
            ))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap(),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(order.body["channel"], "store");
    assert_eq!(order.body["store_id"], "london");
    assert_eq!(order.body["ship_to"]["city"], "London");
    assert_eq!(order.body["lines"][0]["quantity"], 2);

    // An order without the customer's email is refused on the page, not lost.
    let missing = post(
        "/store/orders",
        &[("_product", "mug"), ("_name", "No Mail")],
        &cookie,
    )
    .await
    .unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.text().await.unwrap().contains("email"));

    // The clerk finds the customer by phone, with the order.
    let found = http
        .get(format!("{}/store?customer=%2B44%207700%20900123", app.base))
        .header(reqwest::header::COOKIE, cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), StatusCode::OK);
    let page = found.text().await.unwrap();
    assert!(page.contains("walk.in@example.com"), "{page}");
    assert!(page.contains(&order_id), "{page}");
}

async fn work_centre_down_moves_promises(app: App) {
    let mug_order = app.place_ok(&mug("ada@example.com")).await;
    let shirt = order_body("bo@example.com", "shirt", json!({}), 1);
    let shirt_order = app.place_ok(&shirt).await;
    let before = app.order(&mug_order).await["promised_date"].clone();
    let shirt_before = app.order(&shirt_order).await["promised_date"].clone();

    // Refusals first: nothing recorded, nothing moved.
    let down =
        |from: String, to: String| json!({ "from": from, "to": to, "reason": "wheel motor" });
    let paths = app
        .post(
            "/work-centers/wheel/downtimes",
            &down(today_plus(3), today_plus(1)),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/to"]);
    let paths = app
        .post(
            "/work-centers/wheel/downtimes",
            &json!({ "from": "soon", "to": "2030-01-01" }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/from"]);
    app.post(
        "/work-centers/nowhere/downtimes",
        &down(today_plus(0), today_plus(1)),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let anonymous = app
        .http
        .post(app.brand_url("/work-centers/wheel/downtimes"))
        .json(&down(today_plus(0), today_plus(1)))
        .send()
        .await
        .unwrap();
    Reply::from(anonymous)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(app.order(&mug_order).await["promised_date"], before);

    // The wheel is down for the next 60 days: the mug moves, the shirt
    // (which never uses the wheel) keeps its date.
    let disruption = app
        .post(
            "/work-centers/wheel/downtimes",
            &down(today_plus(0), today_plus(59)),
        )
        .await
        .expect(StatusCode::CREATED);
    let moved = disruption.body["moved"].as_array().expect("moved");
    assert_eq!(moved.len(), 1, "{}", disruption.text);
    assert_eq!(moved[0]["order_id"], mug_order.as_str());
    assert_eq!(moved[0]["previous_date"], before);
    let after = app.order(&mug_order).await;
    assert_eq!(after["promised_date"], moved[0]["promised_date"]);
    assert!(
        after["promised_date"].as_str().unwrap() > today_plus(59).as_str(),
        "{after}"
    );
    let last = after["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["status"], "promise_moved");
    assert!(last["note"].as_str().unwrap().contains("is down"), "{last}");
    assert_eq!(app.order(&shirt_order).await["promised_date"], shirt_before);
    assert_eq!(after["status"], "planned");

    // The schedule shows the wheel down, with nothing on it.
    let schedule = app
        .get(&format!("/schedule?from={}&days=7", today_plus(0)))
        .await
        .expect(StatusCode::OK);
    let wheel = schedule.body["work_centers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "wheel")
        .expect("the wheel in the schedule")
        .clone();
    for day in wheel["days"].as_array().unwrap() {
        assert_eq!(day["down"], true, "{day}");
        assert_eq!(day["capacity_minutes"], 0);
        assert!(day["bars"].as_array().unwrap().is_empty(), "{day}");
    }
    app.get("/schedule?days=0")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let downtimes = app.get("/downtimes").await.expect(StatusCode::OK);
    assert_eq!(downtimes.body["downtimes"].as_array().unwrap().len(), 1);

    // A new order is promised around the downtime too.
    let next = app.place_ok(&mug("cy@example.com")).await;
    let promised = app.order(&next).await["promised_date"].clone();
    assert!(promised.as_str().unwrap() > today_plus(59).as_str());

    // Queues and shortages answer for the factory.
    let queue = app
        .get("/work-centers/wheel/queue")
        .await
        .expect(StatusCode::OK);
    assert!(!queue.body["queue"].as_array().unwrap().is_empty());
    app.get("/work-centers/nowhere/queue")
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get("/shortages").await.expect(StatusCode::OK);
}

/// material id -> (on hand, allocated, on order)
async fn stock(app: &App) -> std::collections::HashMap<String, (f64, f64, f64)> {
    let num = |v: &Value| v.as_str().unwrap().parse::<f64>().unwrap();
    app.get("/materials").await.expect(StatusCode::OK).body["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_string(),
                (
                    num(&m["on_hand"]),
                    num(&m["allocated"]),
                    num(&m["on_order"]),
                ),
            )
        })
        .collect()
}

async fn live_schedule_is_rebuilt_after_a_restart(app: App) {
    let mugs = app.place_ok(&mug("ada@example.com")).await;
    let shirts = app
        .place_ok(&order_body("bo@example.com", "shirt", json!({}), 30))
        .await;
    let mut two_lines = mug("cy@example.com");
    two_lines["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "product": "shirt", "selections": {}, "quantity": 3 }));
    let both = app.place_ok(&two_lines).await;
    // Work on the floor: the shirts' first operation runs, the mugs' is done.
    let wo = &work_orders_of(&app.order(&shirts).await)[0];
    app.post(&format!("/work-orders/{wo}/operations/1/start"), &json!({}))
        .await
        .expect(StatusCode::OK);
    let wo = &work_orders_of(&app.order(&mugs).await)[0];
    work_operation(&app, wo, 1).await;
    app.post(
        "/work-centers/kiln/downtimes",
        &json!({ "from": today_plus(2), "to": today_plus(4), "reason": "relining" }),
    )
    .await
    .expect(StatusCode::CREATED);

    // Re-sequencing keeps every promise and its rewritten bookings survive
    // the restart below.
    let mut dates_before = Vec::new();
    for id in [&mugs, &shirts, &both] {
        dates_before.push(app.order(id).await["promised_date"].clone());
    }
    let optimized = app
        .post("/schedule/optimize", &json!({ "evaluations": 500 }))
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(
        optimized["weighted_days_late_after"].as_u64()
            <= optimized["weighted_days_late_before"].as_u64(),
        "{optimized}"
    );
    assert!(optimized["evaluations"].as_u64().unwrap() <= 500);
    let mut dates_after = Vec::new();
    for id in [&mugs, &shirts, &both] {
        dates_after.push(app.order(id).await["promised_date"].clone());
    }
    assert_eq!(dates_before, dates_after, "no promise moves");
    let paths = app
        .post("/schedule/optimize", &json!({ "evaluations": 0 }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/evaluations"]);

    let window = format!("/schedule?from={}&days=92", today_plus(-1));
    let live = app.get(&window).await.expect(StatusCode::OK).body;
    let ops = scheduled_operations(&live);
    for id in [&mugs, &shirts, &both] {
        assert!(ops.iter().any(|o| &o.4 == id), "{id} is on the schedule");
    }
    assert!(
        ops.iter().any(|o| o.4 == both && o.5 == 2),
        "both lines of {both}"
    );
    // One operation at a time on a machine.
    for pair in ops.windows(2) {
        if pair[0].0 == pair[1].0 && pair[0].1 == pair[1].1 {
            assert!(pair[0].3 <= pair[1].2, "overlap on a machine: {pair:?}");
        }
    }
    let quote = app
        .configure("mug", json!({ "size": "M", "shape": "classic" }))
        .await
        .expect(StatusCode::OK)
        .body["promised_date"]
        .clone();
    assert!(quote.is_string(), "a complete configuration gets a date");

    let again = app.restarted().await;
    let rebuilt = again.get(&window).await.expect(StatusCode::OK).body;
    let (was, now) = (scheduled_operations(&live), scheduled_operations(&rebuilt));
    let lost: Vec<_> = was.iter().filter(|o| !now.contains(o)).collect();
    let new: Vec<_> = now.iter().filter(|o| !was.contains(o)).collect();
    assert!(
        lost.is_empty() && new.is_empty(),
        "rebuilt differs: {lost:?} became {new:?}"
    );
    assert_eq!(
        rebuilt, live,
        "the rebuilt schedule is the one that was running"
    );
    let requote = again
        .configure("mug", json!({ "size": "M", "shape": "classic" }))
        .await
        .expect(StatusCode::OK)
        .body["promised_date"]
        .clone();
    assert_eq!(requote, quote, "the same promise after a restart");
    // New work goes around what was rebuilt.
    let after = again.place_ok(&mug("di@example.com")).await;
    let ops = scheduled_operations(&again.get(&window).await.expect(StatusCode::OK).body);
    assert!(ops.iter().any(|o| o.4 == after));
    for pair in ops.windows(2) {
        if pair[0].0 == pair[1].0 && pair[0].1 == pair[1].1 {
            assert!(pair[0].3 <= pair[1].2, "overlap on a machine: {pair:?}");
        }
    }
}

async fn work_everything(app: &App, order: &Value) {
    for wo in work_orders_of(order) {
        make_work_order(app, &wo).await;
    }
}

async fn a_purchase_received_twice_at_once_is_received_once(app: App) {
    app.place_ok(&order_body(
        "ada@example.com",
        "sneaker",
        json!({ "size": "40" }),
        600,
    ))
    .await;
    let suggestions = app
        .get("/purchase-suggestions")
        .await
        .expect(StatusCode::OK);
    let first = &suggestions.body["purchase_suggestions"][0];
    let (id, material) = (
        first["id"].as_str().expect("a suggestion"),
        first["material"].as_str().unwrap().to_string(),
    );
    let before = stock(&app).await[&material].0;
    let path = format!("/purchase-suggestions/{id}/receive");
    let empty = json!({});
    let (a, b) = tokio::join!(app.post(&path, &empty), app.post(&path, &empty));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let qty: f64 = first["qty"].as_str().unwrap().parse().unwrap();
    let after = stock(&app).await[&material].0;
    assert!(
        (after - before - qty).abs() < 1e-9,
        "received once: {before} then {after}"
    );
}

async fn purchases_are_received_and_made_orders_consume_stock(app: App) {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let before = stock(&app).await;
    // Far more sneakers than the leather in stock: a purchase is suggested.
    let id = app
        .place_ok(&order_body(
            "ada@example.com",
            "sneaker",
            json!({ "size": "40" }),
            600,
        ))
        .await;
    let order = app.order(&id).await;
    let placed = stock(&app).await;
    let suggestions = app
        .get("/purchase-suggestions")
        .await
        .expect(StatusCode::OK);
    let first = suggestions.body["purchase_suggestions"][0].clone();
    let material = first["material"]
        .as_str()
        .expect("a suggestion")
        .to_string();
    let qty: f64 = first["qty"].as_str().unwrap().parse().unwrap();
    assert!(close(placed[&material].2, before[&material].2 + qty));

    // The time-phased material plan: the purchase arrives before the order's
    // production starts on the schedule, so it covers the order, no further
    // purchase is needed and the order is not short.
    let plan = app.get("/material-plan").await.expect(StatusCode::OK).body;
    let record = plan["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["material"] == material.as_str())
        .unwrap_or_else(|| panic!("{material} in the material plan: {plan}"))
        .clone();
    let days = record["days"].as_array().unwrap();
    let num = |v: &Value| v.as_str().unwrap().parse::<f64>().unwrap();
    let arrives = days
        .iter()
        .filter(|d| num(&d["receipts"]) > 0.0)
        .map(|d| d["date"].as_str().unwrap().to_string())
        .min()
        .expect("the purchase on order arrives");
    let needed = days
        .iter()
        .filter(|d| num(&d["gross"]) > 0.0)
        .map(|d| d["date"].as_str().unwrap().to_string())
        .max()
        .expect("the order needs it");
    assert!(
        needed >= arrives,
        "needed {needed}, arrives {arrives}: {record}"
    );
    assert!(
        !plan["purchases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["material"] == material.as_str()),
        "{plan}"
    );
    assert!(
        !plan["shortages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["order_id"] == id.as_str() && s["material"] == material.as_str()),
        "{plan}"
    );

    let suggestion = first["id"].as_str().unwrap();
    app.post(
        &format!("/purchase-suggestions/{suggestion}/receive"),
        &json!({}),
    )
    .await
    .expect(StatusCode::OK);
    let received = stock(&app).await;
    assert!(
        close(received[&material].0, placed[&material].0 + qty),
        "on hand rises"
    );
    assert!(
        close(received[&material].2, placed[&material].2 - qty),
        "no longer on order"
    );
    app.post(
        &format!("/purchase-suggestions/{suggestion}/receive"),
        &json!({}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    app.post("/purchase-suggestions/pur_nope/receive", &json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    let open = app.get("/purchase-suggestions").await.body["purchase_suggestions"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        open + 1,
        suggestions.body["purchase_suggestions"]
            .as_array()
            .unwrap()
            .len()
    );

    // Made: the order's materials leave stock and stop being allocated.
    work_everything(&app, &order).await;
    assert_eq!(app.order(&id).await["status"], "made");
    let made = stock(&app).await;
    for r in order["requirements"].as_array().unwrap() {
        let m = r["material"].as_str().unwrap();
        let gross: f64 = r["gross"].as_str().unwrap().parse().unwrap();
        assert!(close(made[m].1, before[m].1), "{m}: allocation released");
        assert!(close(made[m].0, received[m].0 - gross), "{m}: consumed");
    }
    // And the server rebuilds the same positions after a restart.
    let rebuilt = kiln_app::App::new(app.store.clone(), config());
    let rt = rebuilt.brand(&app.slug).await.expect("the brand loads");
    let plan = rt.plan.lock().await;
    for (m, (on_hand, allocated, on_order)) in &made {
        let p = plan.materials.get(m);
        let got = p.map_or((0.0, 0.0, 0.0), |p| {
            (
                p.on_hand.to_string().parse().unwrap(),
                p.allocated.to_string().parse().unwrap(),
                p.on_order.to_string().parse().unwrap(),
            )
        });
        assert!(
            close(got.0, *on_hand) && close(got.1, *allocated) && close(got.2, *on_order),
            "{m}: rebuilt {got:?}, live {:?}",
            (on_hand, allocated, on_order)
        );
    }
}

async fn demand_forecasts_and_hot_values_from_history(app: App) {
    let demand = app.get("/demand").await.expect(StatusCode::OK);
    let d = &demand.body;
    assert!(
        d["sales_lines"].as_u64().unwrap() > 1000,
        "the demo has a year of sales"
    );
    assert_eq!(d["forecast_weeks"].as_array().unwrap().len(), 8);
    let mug = d["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product"] == "mug")
        .expect("a mug forecast")
        .clone();
    assert_eq!(mug["forecast"].as_array().unwrap().len(), 8);
    assert!(
        mug["forecast"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.as_f64().unwrap() >= 0.0)
    );
    // Reconciled: the sizes' forecasts add up to the mug's.
    let product_total: f64 = mug["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_f64().unwrap())
        .sum();
    let sizes: f64 = mug["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["option"] == "size")
        .map(|v| v["forecast_units"].as_f64().unwrap())
        .sum();
    assert!(
        (sizes - product_total).abs() < 1e-6 * product_total.max(1.0),
        "{sizes} vs {product_total}"
    );
    // Materials are planned through the BOM: clay for mugs.
    let clay = d["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["material"] == "stoneware-clay")
        .expect("clay is needed");
    assert!(clay["total"].as_f64().unwrap() > 0.0);
    // The glaze that took off last week is flagged.
    let hot: Vec<&str> = d["hot"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["label"].as_str().unwrap())
        .collect();
    assert!(hot.iter().any(|l| l.contains("Sage")), "{hot:?}");

    // The forecast's shortfalls become purchase suggestions, once.
    let short: Vec<String> = d["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["shortfall"].as_f64().unwrap() > 0.0)
        .map(|m| m["material"].as_str().unwrap().to_string())
        .collect();
    assert!(!short.is_empty(), "the demo's stock does not cover 8 weeks");
    let suggested = app
        .post("/demand/purchase-suggestions", &json!({}))
        .await
        .expect(StatusCode::CREATED);
    let mut materials: Vec<String> = suggested.body["purchase_suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["order_id"], "forecast");
            s["material"].as_str().unwrap().to_string()
        })
        .collect();
    materials.sort();
    let mut expected = short.clone();
    expected.sort();
    assert_eq!(materials, expected);
    let again = app
        .post("/demand/purchase-suggestions", &json!({}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        again.body["purchase_suggestions"].as_array().unwrap().len(),
        0
    );

    // Imports are checked line by line, and retried imports add nothing.
    let line = |id: &str, day: &str, product: &str, qty: u32| json!({ "id": id, "day": day, "product": product, "selections": { "size": "M" }, "quantity": qty });
    let paths = app
        .post(
            "/sales-history",
            &json!({ "lines": [line("a", "2026-13-01", "mug", 1), line("b", "2026-01-01", "nope", 0)] }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        paths,
        ["/lines/0/day", "/lines/1/quantity", "/lines/1/product"]
    );
    let body = json!({ "lines": [line("x1", "2026-01-05", "mug", 3)] });
    let first = app
        .post("/sales-history", &body)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first.body["added"], 1);
    let again = app
        .post("/sales-history", &body)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again.body["added"], 0);
}

/// Booked minutes per work centre on days after today, from the schedule.
async fn booked_ahead(app: &App) -> std::collections::HashMap<String, u64> {
    let schedule = app
        .get(&format!("/schedule?from={}&days=92", today_plus(1)))
        .await
        .expect(StatusCode::OK);
    schedule.body["work_centers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let minutes = w["days"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["booked_minutes"].as_u64().unwrap())
                .sum();
            (w["id"].as_str().unwrap().to_string(), minutes)
        })
        .collect()
}

async fn finished_operations_free_their_capacity(app: App) {
    // Enough shirts that the first operation runs over several days.
    let id = app
        .place_ok(&order_body("ada@example.com", "shirt", json!({}), 400))
        .await;
    let order = app.order(&id).await;
    let wo = &work_orders_of(&order)[0];
    let work_order = app
        .get(&format!("/work-orders/{wo}"))
        .await
        .expect(StatusCode::OK);
    let first = &work_order.body["operations"][0];
    let wc = first["work_center"].as_str().unwrap().to_string();
    let before = booked_ahead(&app).await;
    assert!(
        before[&wc] > 0,
        "the first operation books days ahead: {before:?}"
    );
    for action in ["start", "complete"] {
        app.post(
            &format!("/work-orders/{wo}/operations/1/{action}"),
            &json!({}),
        )
        .await
        .expect(StatusCode::OK);
    }
    let after = booked_ahead(&app).await;
    // What stays is its setup and the minute a bar keeps at least.
    assert!(
        after[&wc] < 60,
        "done early: its days ahead are free again: {before:?} {after:?}"
    );
    for (other, minutes) in &before {
        if *other != wc {
            assert_eq!(after[other], *minutes, "{other} keeps its bookings");
        }
    }
}
