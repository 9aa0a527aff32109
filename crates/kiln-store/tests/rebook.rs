//! Booked operations moved in place by the order writer's batch, on both
//! backends, whatever their number: more than one statement's worth (SQLite
//! moves them a few hundred per statement), a booking moved twice keeping
//! its last move, a day cleared, and the bookings not moved left alone; an
//! order id no JSON path could name (a quote, a bar) moved all the same.

#[macro_use]
mod common;

use std::sync::Arc;

use common::*;
use kiln_domain::BookingRow;
use kiln_store::prelude::*;

store_tests!(a_batch_moves_hundreds_of_bookings_each_to_its_last_place);

const BOOKINGS: i64 = 600;

async fn a_batch_moves_hundreds_of_bookings_each_to_its_last_place(store: Arc<dyn Store>) {
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
    first.bookings = (1..=BOOKINGS)
        .map(|seq| BookingRow {
            seq,
            ..booking("ord_1")
        })
        .collect();
    store.place_order(&first).await.unwrap();

    // Every booking but the last moves to machine 1, a minute later per
    // step; the first is moved twice, and the second time it loses its day.
    let moved = |seq: i64, machine: i64| BookingRow {
        seq,
        machine,
        setup_start: 29_470_080 + seq,
        start_at: 29_470_090 + seq,
        end_at: 29_470_115 + seq,
        setup_minutes: 0,
        day: Some(day("2026-01-13")),
        ..booking("ord_1")
    };
    let mut second = order(&a, "ord_2", None, "bob@example.com", 1, add_to("wo_1", 1));
    second.bookings = vec![];
    second.rebooked = (1..BOOKINGS).map(|seq| moved(seq, 1)).collect();
    second.rebooked.push(BookingRow {
        day: None,
        ..moved(1, 2)
    });
    store.place_order(&second).await.unwrap();

    // An order whose id holds a quote and a bar, moved in a batch with others.
    let odd_id = "ord_\"odd|1";
    let mut odd = order(&a, odd_id, None, "cy@example.com", 1, add_to("wo_1", 1));
    odd.bookings = vec![booking(odd_id)];
    store.place_order(&odd).await.unwrap();
    let mut third = order(&a, "ord_3", None, "di@example.com", 1, add_to("wo_1", 1));
    third.bookings = vec![];
    third.rebooked = vec![
        BookingRow {
            machine: 3,
            ..booking(odd_id)
        },
        BookingRow {
            setup_start: 29_470_080 + 2,
            ..moved(2, 1)
        },
    ];
    store.place_order(&third).await.unwrap();

    let rows = store.bookings(&a.id).await.unwrap();
    let (odd_rows, rows): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|r| r.order_id.as_str() == odd_id);
    assert_eq!(
        odd_rows.iter().map(|r| r.machine).collect::<Vec<_>>(),
        [3],
        "the odd order's booking moved"
    );
    assert_eq!(rows.len() as i64, BOOKINGS);
    for r in &rows {
        let want = match r.seq {
            1 => BookingRow {
                day: None,
                ..moved(1, 2)
            },
            BOOKINGS => booking("ord_1"),
            seq => moved(seq, 1),
        };
        let want = BookingRow { seq: r.seq, ..want };
        assert_eq!(
            (
                r.machine,
                r.setup_start,
                r.start_at,
                r.end_at,
                r.setup_minutes,
                r.day
            ),
            (
                want.machine,
                want.setup_start,
                want.start_at,
                want.end_at,
                want.setup_minutes,
                want.day
            ),
            "booking {}",
            r.seq
        );
    }
}
