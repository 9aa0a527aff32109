//! Each material's first-in-first-out ledger (`material_ledger`), on both
//! backends: consumption and receipts are placed one after another as they
//! are written, never two on one stretch, even when work orders complete at
//! the same moment; the ledger's totals are the stock that moved.

#[macro_use]
mod common;

use std::sync::Arc;

use common::*;
use kiln_domain::{Decimal, OrderId, SuggestionId};
use kiln_store::prelude::*;

store_tests!(work_orders_completing_at_once_consume_one_after_another);

async fn work_orders_completing_at_once_consume_one_after_another(store: Arc<dyn Store>) {
    let a = brand(store.as_ref(), "alpha").await;
    let ids: Vec<String> = (0..12).map(|i| format!("o{i:02}")).collect();
    for id in &ids {
        placed_order(store.as_ref(), &a, id).await;
        start(store.as_ref(), &a, &format!("wo_{id}"), 1, T0 + 10)
            .await
            .expect("start");
    }
    // Every work order's last operation completes at once: each consumes
    // clay and boxes in its own transaction.
    let mut done = tokio::task::JoinSet::new();
    for id in &ids {
        let (store, a, wo) = (store.clone(), a.clone(), format!("wo_{id}"));
        done.spawn(async move { complete(store.as_ref(), &a, &wo, 1, T0 + 20).await });
    }
    while let Some(r) = done.join_next().await {
        let change = r.expect("a task").expect("complete");
        assert_eq!(change.consumed.len(), 2, "clay and boxes");
    }
    let orders: Vec<OrderId> = ids.iter().map(|i| ord(i)).collect();
    let asked: Vec<&OrderId> = orders.iter().collect();
    for (material, each) in [("clay", dec("0.76")), ("box", dec("2"))] {
        let ledger = store
            .material_ledger(&a.id, material, &asked)
            .await
            .expect("ledger");
        assert_eq!(ledger.consumed, each * Decimal::from(12), "{material}");
        let mut stretches: Vec<(Decimal, Decimal)> = ledger
            .consumption
            .iter()
            .map(|m| (m.position, m.qty))
            .collect();
        stretches.sort();
        assert_eq!(stretches.len(), 12, "{material}: one move per order");
        let mut next = Decimal::ZERO;
        for (position, qty) in stretches {
            assert_eq!(
                position, next,
                "{material}: stretches follow each other, none shared"
            );
            assert_eq!(qty, each);
            next += qty;
        }
        // Asking for one order reads only its move.
        let one = store
            .material_ledger(&a.id, material, &[&orders[3]])
            .await
            .expect("ledger");
        assert_eq!(one.consumption.len(), 1);
        assert_eq!(one.consumption[0].reference, "o03");
    }
    // Two receipts follow each other in the supply.
    for (id, ms) in [("pur_o01", T0 + 30), ("pur_o00", T0 + 40)] {
        store
            .receive_purchase(&a.id, &SuggestionId::from(id), at(ms))
            .await
            .expect("receive");
    }
    let boxes = store
        .material_ledger(&a.id, "box", &[])
        .await
        .expect("ledger");
    let mut receipts: Vec<(Decimal, &str)> = boxes
        .receipts
        .iter()
        .map(|m| (m.position, m.reference.as_str()))
        .collect();
    receipts.sort();
    assert_eq!(
        receipts,
        vec![(dec("0"), "pur_o01"), (dec("50"), "pur_o00")],
        "in the order they came"
    );
    assert!(boxes.consumption.is_empty());
    // What moved, per material: received less consumed.
    let mut moved = store.stock_moves(&a.id).await.expect("stock moves");
    moved.sort();
    assert_eq!(
        moved,
        vec![("box".into(), dec("76")), ("clay".into(), dec("-9.12"))]
    );
}
