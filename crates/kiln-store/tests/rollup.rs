//! A work order's steps rolling up into every order it serves, on both
//! backends, and orders read many at once (`orders_by_id`): the first start
//! puts each planned order into production, the last completion makes it,
//! each move with its timeline entry and an event showing the order as the
//! move left it.

#[macro_use]
mod common;

use std::sync::Arc;

use common::*;
use kiln_domain::{EventType, OrderId, OrderStatus};
use kiln_store::prelude::*;

store_tests!(a_work_orders_steps_roll_up_into_each_of_its_orders);

async fn a_work_orders_steps_roll_up_into_each_of_its_orders(store: Arc<dyn Store>) {
    let a = brand(store.as_ref(), "alpha").await;
    let ids = ["o1", "o2", "o3", "o4", "o5"];
    for (i, id) in ids.iter().enumerate() {
        let wo = if i == 0 {
            create_wo("wo_batch", "MUG-M-CLASSIC", 1, 2)
        } else {
            add_to("wo_batch", 1)
        };
        let email = format!("{id}@example.com");
        store
            .place_order(&order(&a, id, None, &email, 1, wo))
            .await
            .expect("place");
    }
    let orders: Vec<OrderId> = ids.iter().map(|i| ord(i)).collect();
    let asked: Vec<&OrderId> = orders.iter().collect();

    let started = start(store.as_ref(), &a, "wo_batch", 1, T0 + 10)
        .await
        .expect("start");
    let moved: Vec<(&str, OrderStatus)> = started
        .orders
        .iter()
        .map(|(o, s)| (o.as_str(), *s))
        .collect();
    let into_production: Vec<(&str, OrderStatus)> = ids
        .iter()
        .map(|i| (*i, OrderStatus::InProduction))
        .collect();
    assert_eq!(moved, into_production);
    complete(store.as_ref(), &a, "wo_batch", 1, T0 + 20)
        .await
        .expect("complete 1");
    start(store.as_ref(), &a, "wo_batch", 2, T0 + 30)
        .await
        .expect("start 2");
    let done = complete(store.as_ref(), &a, "wo_batch", 2, T0 + 40)
        .await
        .expect("complete 2");
    let made: Vec<&str> = done.orders.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(made, ids, "every order made, in order");
    assert!(done.orders.iter().all(|(_, s)| *s == OrderStatus::Made));
    assert_eq!(
        done.consumed.len(),
        2 * ids.len(),
        "clay and boxes per order"
    );

    // Read many at once as one at a time, in the order asked; an unknown id
    // is left out.
    let ghost = ord("o_ghost");
    let mut with_ghost = asked.clone();
    with_ghost.insert(2, &ghost);
    with_ghost.reverse();
    let many = store.orders_by_id(&a.id, &with_ghost).await.expect("many");
    let read: Vec<&str> = many.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(read, ["o5", "o4", "o3", "o2", "o1"]);
    for o in &many {
        let one = store
            .order(&a.id, &o.id)
            .await
            .expect("one")
            .expect("found");
        assert_eq!(o, &one);
        assert_eq!(o.status, OrderStatus::Made);
        assert_eq!(
            statuses(o),
            ["ordered", "planned", "in_production", "made"],
            "{}",
            o.id
        );
    }
    assert!(
        store
            .orders_by_id(&a.id, &[])
            .await
            .expect("none")
            .is_empty()
    );

    // Each move reported with the order as that move left it.
    let events = store.events(&a.id, 100).await.expect("events");
    for (status, count) in [("in_production", 5), ("made", 5)] {
        let reported = events
            .iter()
            .filter(|e| e.kind == EventType::OrderStatusChanged)
            .filter(|e| {
                let body: serde_json::Value = serde_json::from_str(&e.payload).expect("json");
                body["data"]["status"] == status
            })
            .count();
        assert_eq!(reported, count, "{status}");
    }
}
