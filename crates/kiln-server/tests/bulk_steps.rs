//! A bulk order is plotted in steps, the plan lock let go between them, so
//! single orders go on being placed while it is accepted (issue 12 §1).
//! Whatever comes between the steps (single orders, a machine-down replan
//! that must wait for the bulk order), the store ends with the schedule the
//! server runs: a restarted server rebuilds the same bars, and no machine
//! runs two operations at once. Runs on SQLite and, with
//! `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

api_tests!(
    single_orders_and_a_replan_between_the_steps_of_a_bulk_order,
    rows_of_a_bulk_order_never_written_are_swept_at_restart
);

const HEADER: &str = "product,fabric,color,fit,collar,size,neck_cm,chest_cm,monogram,quantity,\
recipient_name,recipient_line1,recipient_city,recipient_postal_code,recipient_country";

/// Rows of a bulk order: many steps' worth (`kiln_app` plots 50
/// lines a step).
const ROWS: usize = 450;

async fn single_orders_and_a_replan_between_the_steps_of_a_bulk_order(app: App) {
    let mut csv = String::from(HEADER);
    for i in 0..ROWS {
        let size = ["M", "L"][i % 2];
        csv.push_str(&format!("\r\nshirt,,,,,{size},,,,1,,,,,"));
    }
    let quote = Reply::from(
        app.http
            .post(app.brand_url("/bulk-quotes"))
            .bearer_auth(&app.key)
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap(),
    )
    .await
    .expect(StatusCode::CREATED)
    .body;
    assert_eq!(quote["good_rows"], ROWS, "{}", quote["errors"]);
    let id = quote["id"].as_str().unwrap().to_string();
    let app = std::sync::Arc::new(app);

    // Single orders keep coming all through the acceptance.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..3 {
        let (app, done) = (app.clone(), done.clone());
        clients.push(tokio::spawn(async move {
            let mut placed = Vec::new();
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || n < 3 {
                // Shirts of the bulk order's SKUs too: they must not join a
                // batch of the bulk order's that is not stored yet.
                let email = format!("walk{c}.{n}@example.com");
                let body = if n % 2 == 0 {
                    mug(&email)
                } else {
                    order_body(&email, "shirt", json!({"size": "M"}), 1)
                };
                let reply = app.place(None, &body).await;
                let body = reply.expect(StatusCode::CREATED).body;
                placed.push(body["id"].as_str().unwrap().to_string());
                n += 1;
            }
            placed
        }));
    }
    // A machine goes down meanwhile: its replan waits for the bulk order.
    let replan = {
        let app = app.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            app.post(
                "/work-centers/sewing/downtimes",
                &json!({"from": today_plus(1), "to": today_plus(2), "reason": "needle bar"}),
            )
            .await
        })
    };
    let accepted = Reply::from(
        app.http
            .post(app.brand_url(&format!("/bulk-quotes/{id}/accept")))
            .bearer_auth(&app.key)
            .header("Idempotency-Key", "po-steps")
            .json(&json!({
                "customer": {"name": "Acme Uniforms", "email": "buyer@acme.example"},
                "ship_to": {"name": "Acme Uniforms", "line1": "5 Mill Lane", "city": "Leeds",
                            "postal_code": "LS1 4AP", "country": "GB"},
            }))
            .send()
            .await
            .unwrap(),
    )
    .await
    .expect(StatusCode::CREATED)
    .body;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut singles = Vec::new();
    for c in clients {
        singles.extend(c.await.unwrap());
    }
    replan.await.unwrap().expect(StatusCode::CREATED);

    let bulk = app.order(accepted["order_id"].as_str().unwrap()).await;
    let lines = bulk["lines"].as_array().unwrap();
    assert_eq!(lines.len(), ROWS);
    // Its lines were written ahead in chunks, all made its own.
    let brand = app.kiln.brand(&app.slug).await.unwrap().brand.id.clone();
    assert_eq!(app.store.discard_staged(&brand, None).await.unwrap(), 0);
    let rows = app.store.bookings(&brand).await.unwrap();
    let bulk_id = accepted["order_id"].as_str().unwrap();
    let stored = rows
        .iter()
        .filter(|r| r.order_id.as_str() == bulk_id)
        .count();
    // Its lines fill batches of the demo's 50 units (`max_batch_units`) one
    // after another, however many steps placed them: 225 units of each of
    // its two SKUs make 5 batches each.
    let mut batches: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap(),
                l["work_order_id"].as_str().unwrap(),
            )
        })
        .collect();
    batches.sort();
    batches.dedup();
    assert_eq!(batches.len(), 10, "{batches:?}");

    // Every work order holds exactly the units of the lines batched into
    // it: none joined a batch of the bulk order's before it was stored.
    let mut units: std::collections::BTreeMap<String, i64> = Default::default();
    for id in &singles {
        for l in app.order(id).await["lines"].as_array().unwrap() {
            *units
                .entry(l["work_order_id"].as_str().unwrap().to_string())
                .or_default() += l["quantity"].as_i64().unwrap();
        }
    }
    for l in lines {
        *units
            .entry(l["work_order_id"].as_str().unwrap().to_string())
            .or_default() += l["quantity"].as_i64().unwrap();
    }
    for (wo, quantity) in &units {
        assert!(*quantity <= 50, "work order {wo} holds {quantity} units");
        let stored = app
            .get(&format!("/work-orders/{wo}"))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(stored["quantity"], *quantity, "work order {wo}: {stored}");
    }

    let window = format!("/schedule?from={}&days=92", today_plus(-1));
    let live = scheduled_operations(&app.get(&window).await.expect(StatusCode::OK).body);
    for id in singles
        .iter()
        .chain([&accepted["order_id"].as_str().unwrap().to_string()])
    {
        assert!(live.iter().any(|b| &b.4 == id), "{id} is on the schedule");
    }
    assert_eq!(
        live.iter().filter(|b| b.4 == bulk_id).count(),
        stored,
        "every operation of the bulk order is stored once"
    );
    for pair in live.windows(2) {
        if pair[0].0 == pair[1].0 && pair[0].1 == pair[1].1 {
            assert!(pair[0].3 <= pair[1].2, "overlap on a machine: {pair:?}");
        }
    }
    let rebuilt = scheduled_operations(
        &app.restarted()
            .await
            .get(&window)
            .await
            .expect(StatusCode::OK)
            .body,
    );
    let lost: Vec<_> = live.iter().filter(|b| !rebuilt.contains(b)).collect();
    let new: Vec<_> = rebuilt.iter().filter(|b| !live.contains(b)).collect();
    assert!(
        lost.is_empty() && new.is_empty(),
        "the store holds another schedule than the server ran: {lost:?} became {new:?}"
    );
}

/// A server stopped while a bulk order was written ahead leaves rows that
/// belong to no order: unseen, and swept when the brand's plan is next
/// rebuilt.
async fn rows_of_a_bulk_order_never_written_are_swept_at_restart(app: App) {
    let kept = app.place_ok(&mug("kept@example.com")).await;
    let brand = app.kiln.brand(&app.slug).await.unwrap().brand.id.clone();
    let before = app.store.bookings(&brand).await.unwrap();
    // The first chunk of a bulk order: a copy of the mug order's line and
    // bookings under another order's id, never followed by the order.
    let order = app
        .store
        .order(&brand, &kept.as_str().into())
        .await
        .unwrap()
        .unwrap();
    let lost = kiln_domain::OrderId::new();
    let rows: Vec<_> = before
        .iter()
        .map(|r| kiln_domain::BookingRow {
            order_id: lost.clone(),
            ..r.clone()
        })
        .collect();
    // And a new work order for its line, as the mug's.
    let batch = app
        .store
        .work_order(&brand, &order.lines[0].work_order_id)
        .await
        .unwrap()
        .unwrap();
    let new_batch = kiln_domain::WorkOrderId::new();
    let lines: Vec<_> = order
        .lines
        .iter()
        .map(|l| kiln_domain::OrderLine {
            work_order_id: new_batch.clone(),
            ..l.clone()
        })
        .collect();
    let created = kiln_domain::WorkOrderWrite::Create {
        id: new_batch.clone(),
        sku: batch.sku.clone(),
        product_id: batch.product_id.clone(),
        quantity: 1,
        catalog_version: lines[0].catalog_version,
        operations: batch.operations.clone(),
    };
    app.store
        .stage_order_rows(&brand, &lost, &lines, &rows, &[created], order.created_at)
        .await
        .unwrap();
    assert_eq!(
        app.store.bookings(&brand).await.unwrap().len(),
        2 * before.len()
    );
    app.get(&format!("/work-orders/{new_batch}"))
        .await
        .expect(StatusCode::NOT_FOUND);
    let window = format!("/schedule?from={}&days=30", today_plus(-1));
    let live = scheduled_operations(&app.get(&window).await.expect(StatusCode::OK).body);
    assert!(
        live.iter().all(|b| b.4 != lost.as_str()),
        "unseen before the sweep"
    );
    let restarted = app.restarted().await;
    let rebuilt = scheduled_operations(&restarted.get(&window).await.expect(StatusCode::OK).body);
    assert_eq!(rebuilt, live);
    assert_eq!(app.store.bookings(&brand).await.unwrap(), before);
    assert_eq!(
        app.store.work_order(&brand, &new_batch).await.unwrap(),
        None
    );
    restarted
        .get(&format!("/orders/{kept}"))
        .await
        .expect(StatusCode::OK);
}
