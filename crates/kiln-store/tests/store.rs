//! Behaviour of the store, written once and run against both backends (see
//! `common` for the harness): brands, catalogs and materials, orders, the
//! shop floor, shipments, replans and sales history. The platform around
//! them (keys, catalog versions, the outbox and webhooks) is `platform.rs`.

#[macro_use]
mod common;

use std::sync::Arc;

use common::*;
use kiln_store::prelude::*;
use kiln_store::{
    AuditAction, BookingRow, Brand, BrandId, Downtime, DowntimeId, FileKind, LineRef,
    OperationStatus, OrderId, OrderStatus, OrderSummary, Placed, Repromise, SaleTime, SalesLine,
    Scope, ShipmentId, ShipmentStatus, Slug, Staged, StoreError, TimelineEntry, TimelineEntryId,
    TimelineStatus, WorkOrderStatus,
};

store_tests!(
    brands_and_api_keys,
    catalog_files_by_version,
    seed_materials_keeps_existing_positions,
    place_order_writes_everything_once,
    place_orders_batch_one_result_each,
    rows_written_ahead_join_their_order_or_are_swept,
    order_reads_lines_timeline_requirements,
    orders_list_filters_by_customer,
    work_orders_batch_by_sku,
    add_quantity_to_a_started_work_order_is_refused,
    record_operation_transitions,
    a_batch_moves_bookings_in_placement_order,
    shipment_only_after_made,
    tenancy_brand_b_never_sees_brand_a,
    downtime_replaces_bookings_and_moves_promises,
    sales_history_imports_once_and_reads_with_orders,
);

fn ids(v: Vec<OrderSummary>) -> Vec<String> {
    v.into_iter().map(|s| s.id.into_string()).collect()
}

// ---------------------------------------------------------------------------
// Behaviours.

async fn brands_and_api_keys(store: Arc<dyn Store>) {
    let store = store.as_ref();
    store.ping().await.expect("ping");
    let b = brand(store, "bravo").await;
    let a = brand(store, "alpha").await;
    assert_eq!(store.brand_by_slug("alpha").await.unwrap(), Some(a.clone()));
    assert_eq!(store.brand_by_slug("nope").await.unwrap(), None);
    assert_eq!(store.brands().await.unwrap(), vec![a.clone(), b.clone()]);
    // A second brand with the same slug is refused.
    let dup = Brand {
        id: BrandId::from("brd_other"),
        slug: Slug::parse("alpha").unwrap(),
        name: "Dup".into(),
    };
    let key = new_key(&dup.id, "key_dup", &"d".repeat(64), &[Scope::Admin], T0);
    let entry = audit(Some(&dup.id), AuditAction::BrandCreated, "alpha", T0);
    assert!(store.create_brand(&dup, &key, &entry).await.is_err());

    let hash_a = "a".repeat(64);
    let hash_b = "b".repeat(64);
    for (brand, hash) in [(&a, &hash_a), (&b, &hash_b)] {
        let key = new_key(
            &brand.id,
            &format!("key_ci_{}", brand.slug),
            hash,
            &[Scope::Admin],
            T0,
        );
        let entry = audit(Some(&brand.id), AuditAction::KeyIssued, "ci", T0);
        store.add_api_key(&key, &entry).await.unwrap();
    }
    let brand_of = |hash: String| async move {
        store
            .api_key_by_hash(&hash)
            .await
            .unwrap()
            .map(|(_, brand)| brand)
    };
    assert_eq!(brand_of(hash_a).await, Some(a));
    assert_eq!(brand_of(hash_b).await, Some(b));
    assert_eq!(brand_of("c".repeat(64)).await, None);
}

async fn catalog_files_by_version(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let v1 = catalog_version(1, &["mug"], T0);
    let factory = file(FileKind::Factory, "factory.toml", "f1");
    let mug = |source| file(FileKind::Product, "mug.toml", source);
    publish(store, &a.id, &v1, &[mug("v1"), factory.clone()], &[])
        .await
        .unwrap();
    // A new source for a file is a new version, which the latest shows.
    let v2 = catalog_version(2, &["mug"], T0 + 1);
    publish(store, &a.id, &v2, &[mug("v2"), factory.clone()], &[])
        .await
        .unwrap();
    // Files come back by kind, then name.
    assert_eq!(
        store.catalog(&a.id, None).await.unwrap(),
        Some((v2, vec![factory, mug("v2")]))
    );
    assert_eq!(store.catalog(&b.id, None).await.unwrap(), None);
    assert!(store.catalog_versions(&b.id).await.unwrap().is_empty());
}

async fn seed_materials_keeps_existing_positions(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    store
        .seed_materials(&a.id, &[material("clay", "10")])
        .await
        .unwrap();
    // Seeding again adds the new material and keeps the stored position.
    store
        .seed_materials(&a.id, &[material("clay", "99"), material("box", "5")])
        .await
        .unwrap();
    assert_eq!(
        store.materials(&a.id).await.unwrap(),
        vec![material("box", "5"), material("clay", "10")]
    );
    // Placing an order does not rewrite the stored stock.
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 1),
        ))
        .await
        .unwrap();
    assert_eq!(
        store.materials(&a.id).await.unwrap(),
        vec![material("box", "5"), material("clay", "10")]
    );
    // Another brand's materials are its own.
    store
        .seed_materials(&b.id, &[material("clay", "1")])
        .await
        .unwrap();
    assert_eq!(
        store.materials(&b.id).await.unwrap(),
        vec![material("clay", "1")]
    );
    assert_eq!(
        store.materials(&a.id).await.unwrap()[1],
        material("clay", "10")
    );
}

async fn place_order_writes_everything_once(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .seed_materials(&a.id, &[material("clay", "10")])
        .await
        .unwrap();
    let materials = store.materials(&a.id).await.unwrap();
    let first = order(
        &a,
        "ord_1",
        Some("key-1"),
        "ada@example.com",
        2,
        create_wo("wo_1", "MUG-M", 2, 2),
    );
    assert_eq!(
        store.place_order(&first).await.unwrap(),
        Placed::Created {
            customer_id: "cus_ord_1".into()
        }
    );

    let placed = store
        .order(&a.id, &ord("ord_1"))
        .await
        .unwrap()
        .expect("the order");
    assert_eq!(placed.status, OrderStatus::Planned);
    assert_eq!(placed.total, dec("27.00"));
    assert_eq!(placed.total.to_string(), "27.00", "stored as given");
    assert_eq!((placed.shipping, placed.tax), (dec("4.90"), dec("4.31")));
    assert_eq!(placed.promised_date, day("2026-01-15"));
    assert_eq!(placed.customer.email, "ada@example.com");
    assert_eq!(placed.request_hash, "hash-ord_1");
    assert_eq!(placed.access_token, "tok-ord_1");
    assert_eq!(placed.payment.as_ref(), Some(&first.payment));
    let by_key = store
        .order_by_idempotency_key(&a.id, "key-1")
        .await
        .unwrap()
        .expect("found by its key");
    assert_eq!(by_key, placed);
    assert_eq!(store.bookings(&a.id).await.unwrap(), first.bookings);
    assert_eq!(store.suggestions(&a.id).await.unwrap(), first.suggestions);
    assert_eq!(store.requirements(&a.id).await.unwrap().len(), 2);
    assert_eq!(
        store.planned_work_orders(&a.id, 1).await.unwrap(),
        vec![("MUG-M".to_string(), wo("wo_1"), 2)]
    );
    // Work orders batch only lines of their own catalog version.
    assert!(
        store
            .planned_work_orders(&a.id, 2)
            .await
            .unwrap()
            .is_empty()
    );

    // The same key again, whatever the rest says: nothing is written.
    let retry = order(
        &a,
        "ord_2",
        Some("key-1"),
        "bob@example.com",
        5,
        create_wo("wo_2", "MUG-L", 5, 1),
    );
    assert_eq!(
        store.place_order(&retry).await.unwrap(),
        Placed::Existing {
            order_id: ord("ord_1")
        }
    );
    assert_eq!(store.order(&a.id, &ord("ord_2")).await.unwrap(), None);
    assert_eq!(store.orders(&a.id, &q(None, 100)).await.unwrap().len(), 1);
    assert_eq!(
        store
            .orders(&a.id, &q(Some("bob@example.com"), 100))
            .await
            .unwrap()
            .len(),
        0
    );
    let wos = store.work_orders(&a.id, false).await.unwrap();
    assert_eq!(wos.len(), 1);
    assert_eq!(wos[0].quantity, 2);
    assert_eq!(store.bookings(&a.id).await.unwrap(), first.bookings);
    assert_eq!(store.suggestions(&a.id).await.unwrap(), first.suggestions);
    assert_eq!(store.requirements(&a.id).await.unwrap().len(), 2);
    assert_eq!(store.materials(&a.id).await.unwrap(), materials);
    assert_eq!(
        store.order(&a.id, &ord("ord_1")).await.unwrap(),
        Some(placed)
    );

    // Without a key, every placement is a new order.
    let keyless = order(
        &a,
        "ord_3",
        None,
        "ada@example.com",
        1,
        create_wo("wo_3", "MUG-S", 1, 1),
    );
    // The customer is the one already stored under that email.
    assert_eq!(
        store.place_order(&keyless).await.unwrap(),
        Placed::Created {
            customer_id: "cus_ord_1".into()
        }
    );
    assert_eq!(store.orders(&a.id, &q(None, 100)).await.unwrap().len(), 2);
}

async fn place_orders_batch_one_result_each(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let earlier = order(
        &a,
        "ord_0",
        Some("k0"),
        "zed@example.com",
        1,
        create_wo("wo_0", "MUG-S", 1, 1),
    );
    store.place_order(&earlier).await.unwrap();

    let batch = vec![
        // A new work order, and a second order batching into it.
        order(
            &a,
            "ord_1",
            Some("k1"),
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 2),
        ),
        order(
            &a,
            "ord_2",
            Some("k2"),
            "bob@example.com",
            3,
            add_to("wo_1", 3),
        ),
        // A key that is already taken.
        order(
            &a,
            "ord_3",
            Some("k0"),
            "cy@example.com",
            1,
            create_wo("wo_3", "MUG-L", 1, 1),
        ),
        // A work order that does not exist.
        order(
            &a,
            "ord_4",
            Some("k4"),
            "dee@example.com",
            1,
            add_to("wo_missing", 1),
        ),
        // The same key twice in one batch: the first one wins.
        order(
            &a,
            "ord_5",
            Some("k5"),
            "eve@example.com",
            1,
            create_wo("wo_5", "MUG-XL", 1, 1),
        ),
        order(
            &a,
            "ord_6",
            Some("k5"),
            "eve@example.com",
            1,
            create_wo("wo_6", "MUG-XS", 1, 1),
        ),
    ];
    let placed = store.place_orders(&batch).await;
    assert_eq!(placed.len(), batch.len());
    let mut placed = placed.into_iter();
    let mut next = || placed.next().unwrap();
    assert_eq!(
        next().unwrap(),
        Placed::Created {
            customer_id: "cus_ord_1".into()
        }
    );
    assert_eq!(
        next().unwrap(),
        Placed::Created {
            customer_id: "cus_ord_2".into()
        }
    );
    assert_eq!(
        next().unwrap(),
        Placed::Existing {
            order_id: ord("ord_0")
        }
    );
    assert_conflict(next(), "adding to a missing work order");
    assert_eq!(
        next().unwrap(),
        Placed::Created {
            customer_id: "cus_ord_5".into()
        }
    );
    assert_eq!(
        next().unwrap(),
        Placed::Existing {
            order_id: ord("ord_5")
        }
    );

    let sorted = |v| {
        let mut ids = ids(v);
        ids.sort();
        ids
    };
    assert_eq!(
        sorted(store.orders(&a.id, &q(None, 100)).await.unwrap()),
        ["ord_0", "ord_1", "ord_2", "ord_5"]
    );
    let w = store.work_order(&a.id, &wo("wo_1")).await.unwrap().unwrap();
    assert_eq!(w.quantity, 5);
    assert_eq!(w.order_ids, [ord("ord_1"), ord("ord_2")]);
    for gone in ["wo_3", "wo_6"] {
        assert_eq!(
            store.work_order(&a.id, &wo(gone)).await.unwrap(),
            None,
            "{gone}"
        );
    }
    // Only the placed orders' rows exist.
    let mut booked: Vec<OrderId> = store
        .bookings(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.order_id)
        .collect();
    booked.sort();
    assert_eq!(booked, ["ord_0", "ord_1", "ord_2", "ord_5"].map(ord));
    assert_eq!(store.suggestions(&a.id).await.unwrap().len(), 4);
    assert_eq!(store.requirements(&a.id).await.unwrap().len(), 8);
    assert_eq!(
        store.order_by_idempotency_key(&a.id, "k4").await.unwrap(),
        None
    );
    assert!(store.place_orders(&[]).await.is_empty());
}

/// A bulk order's lines, bookings and new work orders are written ahead in
/// chunks; its own write checks they are all there and makes them its own.
/// Rows of an order never written are swept, and never one of a written
/// order.
async fn rows_written_ahead_join_their_order_or_are_swept(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let mut big = order(
        &a,
        "ord_big",
        Some("key-big"),
        "ada@example.com",
        2,
        create_wo("wo_big", "MUG-M", 2, 1),
    );
    let mut second = big.lines[0].clone();
    second.line_no = 2;
    big.lines.push(second);
    let rows = big.bookings.clone();
    // Quantity for a work order already stored is the order's own write.
    assert!(matches!(
        store
            .stage_order_rows(
                &a.id,
                &big.id,
                &big.lines[..1],
                &rows,
                &[add_to("wo_big", 1)],
                big.created_at,
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Two chunks: the first line with its bookings and its new work order,
    // then the second.
    let work_orders = std::mem::take(&mut big.work_orders);
    store
        .stage_order_rows(
            &a.id,
            &big.id,
            &big.lines[..1],
            &rows,
            &work_orders,
            big.created_at,
        )
        .await
        .unwrap();
    store
        .stage_order_rows(&a.id, &big.id, &big.lines[1..], &[], &[], big.created_at)
        .await
        .unwrap();
    // Not an order yet: nothing reads its rows.
    assert_eq!(store.order(&a.id, &big.id).await.unwrap(), None);
    assert!(store.scheduled_bookings(&a.id).await.unwrap().is_empty());
    assert!(store.work_orders(&a.id, false).await.unwrap().is_empty());
    assert_eq!(store.work_order(&a.id, &wo("wo_big")).await.unwrap(), None);
    // Nor does an order join its new work order before it is written (if
    // it never is, the work order is swept).
    let mut joining = order(
        &a,
        "ord_join",
        None,
        "cy@example.com",
        1,
        add_to("wo_big", 1),
    );
    joining.bookings = Vec::new();
    assert!(store.place_order(&joining).await.is_err());
    assert_eq!(store.order(&a.id, &joining.id).await.unwrap(), None);
    // A count that does not match refuses the order, and writes nothing.
    big.bookings = Vec::new();
    for wrong in [(3, 1), (2, 0)] {
        big.staged = Some(Staged {
            lines: wrong.0,
            bookings: rows.len() as u64,
            work_orders: wrong.1,
            lines_json: None,
        });
        assert!(store.place_order(&big).await.is_err());
        assert_eq!(store.order(&a.id, &big.id).await.unwrap(), None);
    }
    big.staged = Some(Staged {
        lines: 2,
        bookings: rows.len() as u64,
        work_orders: 1,
        lines_json: Some(serde_json::value::to_raw_value(&big.lines).unwrap().into()),
    });
    // An order written after it in the same batch joins it.
    for placed in store.place_orders(&[big.clone(), joining.clone()]).await {
        assert!(matches!(placed.unwrap(), Placed::Created { .. }));
    }
    let placed = store.order(&a.id, &big.id).await.unwrap().unwrap();
    assert_eq!(placed.lines.len(), 2);
    // Its event, with the lines written as JSON ahead of it, is the order
    // as read back.
    let events = store.events(&a.id, 10).await.unwrap();
    let bodies: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect();
    let [body] = &bodies
        .iter()
        .filter(|b| b["data"]["id"] == big.id.as_str())
        .collect::<Vec<_>>()[..]
    else {
        panic!("one event of the order: {events:?}")
    };
    assert_eq!(body["type"], "order.created");
    assert_eq!(body["data"], serde_json::to_value(&placed).unwrap());
    assert_eq!(store.bookings(&a.id).await.unwrap(), rows);
    // The work order is there with the order, as if written with it.
    let batch = store
        .work_order(&a.id, &wo("wo_big"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((batch.quantity, batch.operations.len()), (3, 1));
    assert_eq!(batch.order_ids, vec![big.id.clone(), joining.id.clone()]);
    // An order staged and never written: swept; the written one stays.
    let mut lost = order(
        &a,
        "ord_lost",
        None,
        "bo@example.com",
        1,
        create_wo("wo_lost", "MUG-L", 1, 1),
    );
    let lost_work_orders = std::mem::take(&mut lost.work_orders);
    let stage_lost = || {
        store.stage_order_rows(
            &a.id,
            &lost.id,
            &lost.lines,
            &lost.bookings,
            &lost_work_orders,
            lost.created_at,
        )
    };
    stage_lost().await.unwrap();
    assert_eq!(store.discard_staged(&a.id, None).await.unwrap(), 1);
    assert_eq!(store.discard_staged(&a.id, None).await.unwrap(), 0);
    assert_eq!(store.bookings(&a.id).await.unwrap(), rows);
    let placed_again = store.order(&a.id, &big.id).await.unwrap().unwrap();
    assert_eq!(placed_again.lines.len(), 2);
    let left: Vec<_> = store.work_orders(&a.id, false).await.unwrap();
    assert_eq!(
        left.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["wo_big"]
    );
    // Its rows are gone, work order and operations too: the same order can
    // be staged again from scratch.
    stage_lost().await.unwrap();
    assert_eq!(
        store.discard_staged(&a.id, Some(&lost.id)).await.unwrap(),
        1
    );
}

async fn order_reads_lines_timeline_requirements(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let new = order(
        &a,
        "ord_1",
        None,
        "ada@example.com",
        2,
        create_wo("wo_1", "MUG-M", 2, 2),
    );
    store.place_order(&new).await.unwrap();
    let o = store.order(&a.id, &ord("ord_1")).await.unwrap().unwrap();
    assert_eq!(o.id, "ord_1");
    assert_eq!(o.lines, new.lines);
    assert_eq!(o.timeline, new.timeline);
    assert_eq!(statuses(&o), ["ordered", "planned"]);
    // Requirements come back sorted by material.
    let mut requirements = new.requirements.clone();
    requirements.sort_by(|x, y| x.material.cmp(&y.material));
    assert_eq!(o.requirements, requirements);
    assert!(o.shipments.is_empty());
    assert_eq!(o.ship_to, new.ship_to);
    assert_eq!(o.channel, kiln_store::Channel::Online);
    assert_eq!(o.store_id, None);
    assert_eq!(o.customer.phone.as_deref(), Some("+44 20 0000 0000"));
    assert_eq!(store.order(&a.id, &ord("ord_missing")).await.unwrap(), None);

    let w = store.work_order(&a.id, &wo("wo_1")).await.unwrap().unwrap();
    assert_eq!(w.sku, "MUG-M");
    assert_eq!(w.status, WorkOrderStatus::Planned);
    assert_eq!(w.operations, ops(2));
    assert_eq!(w.order_ids, vec![ord("ord_1")]);
}

async fn orders_list_filters_by_customer(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let mut o1 = order(
        &a,
        "ord_1",
        None,
        "ada@example.com",
        1,
        create_wo("wo_1", "MUG-M", 1, 1),
    );
    o1.created_at = at(T0);
    let mut o2 = order(
        &a,
        "ord_2",
        None,
        "bob@example.com",
        1,
        create_wo("wo_2", "MUG-L", 1, 1),
    );
    o2.created_at = at(T0 + 10);
    let mut o3 = order(
        &a,
        "ord_3",
        None,
        "ada@example.com",
        1,
        create_wo("wo_3", "MUG-S", 1, 1),
    );
    o3.created_at = at(T0 + 20);
    o3.customer.id = "cus_another".into();
    for o in [&o1, &o2, &o3] {
        store.place_order(o).await.unwrap();
    }
    assert_eq!(
        ids(store.orders(&a.id, &q(None, 10)).await.unwrap()),
        ["ord_3", "ord_2", "ord_1"]
    );
    assert_eq!(
        ids(store.orders(&a.id, &q(None, 2)).await.unwrap()),
        ["ord_3", "ord_2"]
    );
    assert_eq!(
        ids(store
            .orders(&a.id, &q(Some("ada@example.com"), 10))
            .await
            .unwrap()),
        ["ord_3", "ord_1"]
    );
    // One customer per email: the second order reuses the first customer.
    let third = store.order(&a.id, &ord("ord_3")).await.unwrap().unwrap();
    assert_eq!(third.customer.id, "cus_ord_1");
}

async fn work_orders_batch_by_sku(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 2),
        ))
        .await
        .unwrap();
    store
        .place_order(&order(
            &a,
            "ord_2",
            None,
            "bob@example.com",
            3,
            add_to("wo_1", 3),
        ))
        .await
        .unwrap();
    let w = store.work_order(&a.id, &wo("wo_1")).await.unwrap().unwrap();
    assert_eq!(w.quantity, 5);
    assert_eq!(w.order_ids, vec![ord("ord_1"), ord("ord_2")]);
    assert_eq!(store.work_orders(&a.id, true).await.unwrap().len(), 1);
    assert_eq!(
        store.planned_work_orders(&a.id, 1).await.unwrap(),
        vec![("MUG-M".to_string(), wo("wo_1"), 5)]
    );
    let o2 = store.order(&a.id, &ord("ord_2")).await.unwrap().unwrap();
    assert_eq!(o2.lines[0].work_order_id, wo("wo_1"));
}

async fn add_quantity_to_a_started_work_order_is_refused(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 2),
        ))
        .await
        .unwrap();
    start(store, &a, "wo_1", 1, T0 + 1).await.unwrap();
    assert!(
        store
            .planned_work_orders(&a.id, 1)
            .await
            .unwrap()
            .is_empty()
    );
    assert_conflict(
        store
            .place_order(&order(
                &a,
                "ord_2",
                Some("k2"),
                "bob@example.com",
                3,
                add_to("wo_1", 3),
            ))
            .await,
        "adding to a started work order",
    );
    // The refused placement left nothing behind.
    assert_eq!(store.order(&a.id, &ord("ord_2")).await.unwrap(), None);
    assert_eq!(
        store.order_by_idempotency_key(&a.id, "k2").await.unwrap(),
        None
    );
    assert_eq!(
        store
            .work_order(&a.id, &wo("wo_1"))
            .await
            .unwrap()
            .unwrap()
            .quantity,
        2
    );
    assert_eq!(store.bookings(&a.id).await.unwrap().len(), 1);
    assert_eq!(store.suggestions(&a.id).await.unwrap().len(), 1);
}

/// Orders of one batch that move the same booking leave it as the last one
/// moved it, and every booking they move is moved, whatever their number.
async fn a_batch_moves_bookings_in_placement_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let mut first = order(
        &a,
        "ord_1",
        None,
        "ada@example.com",
        1,
        create_wo("wo_1", "MUG-M", 1, 1),
    );
    let mut other = booking("ord_1");
    other.line_no = 2;
    first.bookings.push(other.clone());
    store.place_order(&first).await.unwrap();
    let moved = |setup_start: i64, machine: i64| BookingRow {
        setup_start,
        machine,
        day: Some(day("2026-01-13")),
        ..booking("ord_1")
    };
    let mut second = order(&a, "ord_2", None, "bob@example.com", 1, add_to("wo_1", 1));
    second.bookings = vec![];
    second.rebooked = vec![moved(29_470_081, 1)];
    let mut third = order(&a, "ord_3", None, "cy@example.com", 1, add_to("wo_1", 1));
    third.bookings = vec![];
    third.rebooked = vec![
        moved(29_470_082, 2),
        BookingRow {
            end_at: other.end_at + 5,
            ..other.clone()
        },
    ];
    for placed in store.place_orders(&[second, third]).await {
        placed.unwrap();
    }
    let rows = store.bookings(&a.id).await.unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.line_no, r.day, r.machine, r.setup_start, r.end_at))
        .collect();
    assert_eq!(
        got,
        [
            (1, Some(day("2026-01-13")), 2, 29_470_082, other.end_at),
            (2, other.day, 0, other.setup_start, other.end_at + 5),
        ]
    );
}

async fn record_operation_transitions(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            2,
            create_wo("wo_1", "MUG-M", 2, 2),
        ))
        .await
        .unwrap();
    // The second order batches right after the first on its machine: the
    // first one's setup moves with it.
    let mut second = order(&a, "ord_2", None, "bob@example.com", 1, add_to("wo_1", 1));
    let first_booking = store.bookings(&a.id).await.unwrap().remove(0);
    second.rebooked = vec![BookingRow {
        setup_start: first_booking.start_at,
        setup_minutes: 0,
        ..first_booking.clone()
    }];
    store.place_order(&second).await.unwrap();

    assert_conflict(
        complete(store, &a, "wo_1", 1, T0 + 1).await,
        "completing a pending operation",
    );
    assert_conflict(
        start(store, &a, "wo_1", 2, T0 + 1).await,
        "starting op 2 before op 1 is done",
    );
    assert_not_found(
        start(store, &a, "wo_1", 3, T0 + 1).await,
        "an operation that does not exist",
    );
    assert_not_found(
        start(store, &a, "wo_nope", 1, T0 + 1).await,
        "a work order that does not exist",
    );

    let change = start(store, &a, "wo_1", 1, T0 + 100).await.unwrap();
    assert_eq!(change.work_order.status, WorkOrderStatus::InProgress);
    let op1 = &change.work_order.operations[0];
    assert_eq!(op1.status, OperationStatus::Started);
    assert_eq!(op1.started_at, Some(at(T0 + 100)));
    assert_eq!(
        change.work_order.operations[1].status,
        OperationStatus::Pending
    );
    assert_eq!(
        change.orders,
        vec![
            (ord("ord_1"), OrderStatus::InProduction),
            (ord("ord_2"), OrderStatus::InProduction),
        ]
    );
    assert_conflict(
        start(store, &a, "wo_1", 1, T0 + 101).await,
        "starting a started operation",
    );
    assert_conflict(
        start(store, &a, "wo_1", 2, T0 + 101).await,
        "starting op 2 while op 1 runs",
    );

    let change = complete(store, &a, "wo_1", 1, T0 + 200).await.unwrap();
    let op1 = &change.work_order.operations[0];
    assert_eq!(op1.status, OperationStatus::Done);
    assert_eq!(op1.completed_at, Some(at(T0 + 200)));
    // The live schedule is rebuilt from bookings with their operation's status.
    let scheduled = store.scheduled_bookings(&a.id).await.unwrap();
    let got: Vec<_> = scheduled
        .iter()
        .map(|s| {
            (
                s.booking.order_id.as_str(),
                s.booking.seq,
                s.sku.as_str(),
                s.status,
                s.completed_at,
            )
        })
        .collect();
    let done = OperationStatus::Done;
    assert_eq!(
        got,
        [
            ("ord_1", 1, "MUG-M", done, Some(at(T0 + 200))),
            ("ord_2", 1, "MUG-M-CLASSIC", done, Some(at(T0 + 200))),
        ]
    );
    assert_eq!(scheduled[0].product_id, "mug");
    assert_eq!(
        (
            scheduled[0].booking.setup_start,
            scheduled[0].booking.setup_minutes
        ),
        (first_booking.start_at, 0),
        "rebooked in place"
    );
    // A rolled-back order's neighbour is moved back the same way.
    store
        .rebook(&a.id, std::slice::from_ref(&first_booking))
        .await
        .unwrap();
    let again = store.scheduled_bookings(&a.id).await.unwrap();
    assert_eq!(again[0].booking, first_booking);
    assert_eq!(again[0].promised_date, day("2026-01-15"));
    let open = store.open_requirements(&a.id).await.unwrap();
    assert!(!open.is_empty() && open.iter().all(|(o, _)| o == "ord_1" || o == "ord_2"));
    assert_eq!(
        store.order_lines_of(&a.id, &wo("wo_1")).await.unwrap(),
        [LineRef::new(ord("ord_1"), 1), LineRef::new(ord("ord_2"), 1)]
    );
    assert!(
        store
            .scheduled_bookings(&brand(store, "beta").await.id)
            .await
            .unwrap()
            .is_empty(),
        "another brand sees none"
    );
    assert_eq!(op1.scrap, 1);
    assert_eq!(change.work_order.status, WorkOrderStatus::InProgress);
    assert!(change.orders.is_empty(), "{:?}", change.orders);
    assert_conflict(
        complete(store, &a, "wo_1", 1, T0 + 201).await,
        "completing a done operation",
    );

    start(store, &a, "wo_1", 2, T0 + 300).await.unwrap();
    let o1 = store.order(&a.id, &ord("ord_1")).await.unwrap().unwrap();
    assert_eq!(o1.status, OrderStatus::InProduction);
    let change = complete(store, &a, "wo_1", 2, T0 + 400).await.unwrap();
    assert_eq!(change.work_order.status, WorkOrderStatus::Done);
    assert_eq!(
        change.orders,
        vec![
            (ord("ord_1"), OrderStatus::Made),
            (ord("ord_2"), OrderStatus::Made),
        ]
    );
    assert!(store.work_orders(&a.id, true).await.unwrap().is_empty());
    assert_eq!(store.work_orders(&a.id, false).await.unwrap().len(), 1);

    for id in ["ord_1", "ord_2"] {
        let o = store.order(&a.id, &ord(id)).await.unwrap().unwrap();
        assert_eq!(o.status, OrderStatus::Made);
        assert_eq!(
            statuses(&o),
            ["ordered", "planned", "in_production", "made"]
        );
        let times: Vec<_> = o.timeline.iter().map(|e| e.at).collect();
        assert_eq!(times, [T0, T0, T0 + 100, T0 + 400].map(at));
    }
}

async fn shipment_only_after_made(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            1,
            create_wo("wo_1", "MUG-M", 1, 1),
        ))
        .await
        .unwrap();
    assert_conflict(
        store
            .create_shipment(&a.id, &shipment("shp_0", "ord_1", T0 + 5))
            .await,
        "shipping a planned order",
    );
    assert_not_found(
        store
            .create_shipment(&a.id, &shipment("shp_x", "ord_nope", T0 + 5))
            .await,
        "shipping an order that does not exist",
    );
    start(store, &a, "wo_1", 1, T0 + 10).await.unwrap();
    assert_conflict(
        store
            .create_shipment(&a.id, &shipment("shp_0", "ord_1", T0 + 15))
            .await,
        "shipping an order in production",
    );
    complete(store, &a, "wo_1", 1, T0 + 20).await.unwrap();

    let shipped = store
        .create_shipment(&a.id, &shipment("shp_1", "ord_1", T0 + 30))
        .await
        .unwrap();
    // It carries every line of the order.
    let mut expected = shipment("shp_1", "ord_1", T0 + 30);
    expected.lines = vec![1];
    assert_eq!(shipped, expected);
    let o = store.order(&a.id, &ord("ord_1")).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.shipments, vec![shipped.clone()]);
    assert_eq!(o.timeline.last().unwrap().note, "DHL JD0001");
    // A shipped order is not shipped twice.
    assert_conflict(
        store
            .create_shipment(&a.id, &shipment("shp_2", "ord_1", T0 + 35))
            .await,
        "shipping a shipped order",
    );

    let shp_1 = ShipmentId::from("shp_1");
    let delivered = store
        .mark_delivered(&a.id, &shp_1, at(T0 + 40))
        .await
        .unwrap();
    assert_eq!(delivered.status, ShipmentStatus::Delivered);
    assert_eq!(delivered.delivered_at, Some(at(T0 + 40)));
    let o = store.order(&a.id, &ord("ord_1")).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::Delivered);
    assert_eq!(o.shipments, vec![delivered.clone()]);
    assert_eq!(
        statuses(&o),
        [
            "ordered",
            "planned",
            "in_production",
            "made",
            "shipped",
            "delivered"
        ]
    );
    let times: Vec<_> = o.timeline.iter().map(|e| e.at).collect();
    assert_eq!(times, [T0, T0, T0 + 10, T0 + 20, T0 + 30, T0 + 40].map(at));
    // Delivering again changes nothing and adds no timeline entry.
    let again = store
        .mark_delivered(&a.id, &shp_1, at(T0 + 50))
        .await
        .unwrap();
    assert_eq!(again, delivered);
    assert_eq!(
        store
            .order(&a.id, &ord("ord_1"))
            .await
            .unwrap()
            .unwrap()
            .timeline
            .len(),
        6
    );
    assert_not_found(
        store
            .mark_delivered(&a.id, &ShipmentId::from("shp_nope"), at(T0 + 50))
            .await,
        "delivering a shipment that does not exist",
    );
}

async fn tenancy_brand_b_never_sees_brand_a(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    store
        .place_order(&order(
            &a,
            "ord_a",
            Some("shared-key"),
            "ada@example.com",
            1,
            create_wo("wo_a", "MUG-M", 1, 1),
        ))
        .await
        .unwrap();
    assert_eq!(store.order(&b.id, &ord("ord_a")).await.unwrap(), None);
    assert_eq!(
        store
            .order_by_idempotency_key(&b.id, "shared-key")
            .await
            .unwrap(),
        None
    );
    assert!(store.orders(&b.id, &q(None, 100)).await.unwrap().is_empty());
    assert!(
        store
            .orders(&b.id, &q(Some("ada@example.com"), 100))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.work_orders(&b.id, false).await.unwrap().is_empty());
    assert_eq!(store.work_order(&b.id, &wo("wo_a")).await.unwrap(), None);
    assert!(
        store
            .planned_work_orders(&b.id, 1)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.bookings(&b.id).await.unwrap().is_empty());
    assert!(store.suggestions(&b.id).await.unwrap().is_empty());
    assert!(store.materials(&b.id).await.unwrap().is_empty());
    assert!(store.requirements(&b.id).await.unwrap().is_empty());
    assert_not_found(
        start(store, &b, "wo_a", 1, T0 + 1).await,
        "B starting A's operation",
    );
    assert_not_found(
        store
            .create_shipment(&b.id, &shipment("shp_b", "ord_a", T0 + 2))
            .await,
        "B shipping A's order",
    );

    // B's own order with the same idempotency key is a new order of B's.
    let mine = order(
        &b,
        "ord_b",
        Some("shared-key"),
        "ada@example.com",
        1,
        create_wo("wo_b", "MUG-M", 1, 1),
    );
    assert_eq!(
        store.place_order(&mine).await.unwrap(),
        Placed::Created {
            customer_id: "cus_ord_b".into()
        }
    );
    assert_eq!(
        ids(store.orders(&a.id, &q(None, 100)).await.unwrap()),
        ["ord_a"]
    );
    assert_eq!(
        ids(store.orders(&b.id, &q(None, 100)).await.unwrap()),
        ["ord_b"]
    );

    // A's made and shipped order stays out of B's reach.
    made_order(store, &a, "ord_a2").await;
    store
        .create_shipment(&a.id, &shipment("shp_a", "ord_a2", T0 + 30))
        .await
        .unwrap();
    assert_not_found(
        store
            .mark_delivered(&b.id, &ShipmentId::from("shp_a"), at(T0 + 40))
            .await,
        "B delivering A's shipment",
    );
    let a2 = store.order(&a.id, &ord("ord_a2")).await.unwrap().unwrap();
    assert_eq!(a2.status, OrderStatus::Shipped);
}

async fn downtime_replaces_bookings_and_moves_promises(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "beta").await;
    let mut later = order(
        &a,
        "ord_2",
        None,
        "bo@example.com",
        1,
        create_wo("wo_2", "MUG-L", 1, 1),
    );
    later.promised_date = day("2026-01-20");
    let first = order(
        &a,
        "ord_1",
        None,
        "ada@example.com",
        2,
        create_wo("wo_1", "MUG-M", 2, 1),
    );
    store.place_orders(&[later, first]).await;
    store
        .place_order(&order(
            &b,
            "ord_b",
            None,
            "cy@example.com",
            1,
            create_wo("wo_b", "X", 1, 1),
        ))
        .await
        .unwrap();

    // Earliest promise first; only the brand's own orders.
    let open = store.open_promises(&a.id).await.unwrap();
    let open_ids: Vec<_> = open.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(open_ids, ["ord_1", "ord_2"]);
    assert_eq!(open[0].lines, vec![(1, "mug".to_string())]);

    let down = Downtime {
        id: DowntimeId::from("dt_1"),
        work_center: "wc1".into(),
        from_day: day("2026-01-12"),
        to_day: day("2026-01-13"),
        reason: "kiln element failed".into(),
        created_at: at(T0 + 5),
    };
    let moved = Repromise {
        order_id: ord("ord_1"),
        promised_date: day("2026-01-17"),
        bookings: vec![BookingRow {
            day: Some(day("2026-01-14")),
            machine: 1,
            setup_start: 29_472_960,
            start_at: 29_472_970,
            end_at: 29_472_995,
            ..booking("ord_1")
        }],
        event: Some(TimelineEntry {
            id: TimelineEntryId::from("evt_moved"),
            status: TimelineStatus::PromiseMoved,
            note: "2026-01-15 -> 2026-01-17".into(),
            at: at(T0 + 5),
        }),
    };
    store
        .record_replan(&a.id, Some(&down), std::slice::from_ref(&moved))
        .await
        .unwrap();

    assert_eq!(store.downtimes(&a.id).await.unwrap(), vec![down.clone()]);
    assert!(store.downtimes(&b.id).await.unwrap().is_empty());
    let o = store.order(&a.id, &ord("ord_1")).await.unwrap().unwrap();
    assert_eq!(o.promised_date, day("2026-01-17"));
    assert_eq!(
        o.status,
        OrderStatus::Planned,
        "a moved promise is not a new status"
    );
    assert_eq!(o.timeline.last().map(|e| e.id.as_str()), Some("evt_moved"));
    let days: Vec<_> = store
        .bookings(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.order_id, b.day))
        .collect();
    assert_eq!(
        days,
        [
            (ord("ord_1"), Some(day("2026-01-14"))),
            (ord("ord_2"), Some(day("2026-01-12")))
        ]
    );
    assert_eq!(
        store.bookings(&b.id).await.unwrap().len(),
        1,
        "beta untouched"
    );
    // The same downtime id twice is refused whole: nothing half-written.
    let again = Repromise {
        promised_date: day("2026-02-01"),
        ..moved
    };
    assert!(
        store
            .record_replan(&a.id, Some(&down), &[again])
            .await
            .is_err()
    );
    let o = store.order(&a.id, &ord("ord_1")).await.unwrap().unwrap();
    assert_eq!(o.promised_date, day("2026-01-17"));
}

async fn sales_history_imports_once_and_reads_with_orders(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "beta").await;
    let sale = |id: &str, on: &str| SalesLine {
        id: id.into(),
        when: SaleTime::Day(day(on)),
        product_id: "mug".into(),
        selections: selections(&[("size", "L")]),
        quantity: 2,
        store_id: None,
        ticket: None,
    };
    let lines = [sale("s1", "2025-12-01"), sale("s2", "2026-01-03")];
    assert_eq!(store.add_sales_history(&a.id, &lines).await.unwrap(), 2);
    // A retried import adds only what is new.
    let again = [sale("s2", "2026-01-03"), sale("s3", "2026-01-04")];
    assert_eq!(store.add_sales_history(&a.id, &again).await.unwrap(), 1);
    assert_eq!(store.add_sales_history(&b.id, &lines).await.unwrap(), 2);
    // A line of an order placed in Kiln is history already: not imported.
    let placed = SalesLine {
        when: SaleTime::At(at(T0)),
        ..sale("s4", "2026-01-05")
    };
    assert_eq!(store.add_sales_history(&a.id, &[placed]).await.unwrap(), 0);
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            3,
            create_wo("wo_1", "MUG-L", 3, 1),
        ))
        .await
        .unwrap();

    let read = store
        .sales_lines(&a.id, day("2026-01-01"), at(0))
        .await
        .unwrap();
    let summary: Vec<_> = read
        .iter()
        .map(|l| (l.id.as_str(), l.when, l.quantity))
        .collect();
    assert_eq!(
        summary,
        [
            ("s2", SaleTime::Day(day("2026-01-03")), 2),
            ("s3", SaleTime::Day(day("2026-01-04")), 2),
            ("ord_1#1", SaleTime::At(at(T0)), 3)
        ]
    );
    assert_eq!(read[2].selections, selections(&[("size", "M")]));
    assert_eq!(
        store
            .sales_lines(&a.id, day("2026-01-01"), at(T0 + 1))
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Newest first, at most `limit`, one customer's when `email` is given.
fn q(email: Option<&str>, limit: i64) -> kiln_domain::OrderQuery {
    kiln_domain::OrderQuery {
        customer_email: email.map(str::to_string),
        limit,
        ..Default::default()
    }
}
