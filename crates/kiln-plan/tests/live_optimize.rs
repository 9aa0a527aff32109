//! Optimizing the live schedule: hand-checked cases, an independent feasibility checker
//! (as in tests/live.rs), and proptests on random small shops. 2025-06-02 is a Monday;
//! minute 0 is its midnight.

use std::collections::HashMap;

use jiff::civil::Date;
use kiln_plan::live::{
    Calendar, DAY, GanttBar, LiveError, Minute, Operation, OperationStatus, Optimized, Order,
    Period, Schedule, WorkCentre,
};
use proptest::prelude::*;

mod support;

use support::{MinuteCalendar, ORIGIN, at, centre, day_shift, op, order, shift};
const HORIZON: u32 = 14;

// ---------------------------------------------------------------------------------------
// The checker: minute by minute, sharing no code with the engine.

/// Checks the whole schedule against the work centres as the test defined them and the
/// orders it committed: eligibility, one operation per machine at a time (setups
/// included), working time, setups after a different SKU, routing order and releases.
fn check(s: &Schedule, centres: &[WorkCentre], orders: &[Order]) {
    let cals: Vec<MinuteCalendar> = centres
        .iter()
        .map(|wc| MinuteCalendar::new(wc, ORIGIN, s.horizon_days() + 7))
        .collect();
    let by_id: HashMap<&str, &Order> = orders.iter().map(|o| (o.id.as_str(), o)).collect();
    let gantt = s.gantt();
    assert_eq!(gantt.len(), centres.len());
    let mut placed: HashMap<(String, usize), (Minute, Minute, OperationStatus)> = HashMap::new();
    for (w, g) in gantt.iter().enumerate() {
        let wc = &centres[w];
        assert_eq!(g.work_centre, wc.id);
        assert_eq!(g.machines.len(), usize::from(wc.machines));
        for bars in &g.machines {
            let mut prev: Option<&GanttBar> = None;
            for b in bars {
                let order = by_id
                    .get(b.order.as_str())
                    .unwrap_or_else(|| panic!("unknown order {}", b.order));
                let op = &order.operations[b.operation];
                assert_eq!(b.sku, order.sku);
                assert!(
                    op.work_centres.contains(&wc.id),
                    "{} op {} on ineligible {}",
                    b.order,
                    b.operation,
                    wc.id
                );
                assert!(b.setup_start <= b.start && b.start < b.end, "{b:?}");
                if let Some(p) = prev {
                    assert!(
                        p.end <= b.setup_start,
                        "overlap on {}: {p:?} then {b:?}",
                        wc.id
                    );
                }
                if b.status != OperationStatus::Done {
                    let cal = &cals[w];
                    assert_eq!(
                        cal.work(b.start, b.end),
                        i64::from(op.minutes),
                        "calendar: {b:?} on {}",
                        wc.id
                    );
                    assert!(cal.working_at(b.start), "starts off shift: {b:?}");
                    assert!(cal.working_at(b.end - 1), "ends off shift: {b:?}");
                }
                if b.status == OperationStatus::Planned {
                    let needs = match prev {
                        Some(p) if p.sku == b.sku => 0,
                        _ => i64::from(op.setup_minutes.unwrap_or(wc.setup_minutes)),
                    };
                    assert!(
                        cals[w].work(b.setup_start, b.start) >= needs,
                        "setup {needs} missing: {b:?} after {prev:?}"
                    );
                }
                let again =
                    placed.insert((b.order.clone(), b.operation), (b.start, b.end, b.status));
                assert!(again.is_none(), "{} op {} twice", b.order, b.operation);
                prev = Some(b);
            }
        }
    }
    for order in orders {
        let Some(plan) = s.order(&order.id) else {
            continue;
        };
        let mut ready = order.release;
        for (k, booking) in plan.bookings.iter().enumerate() {
            let Some(b) = booking else {
                assert!(plan.bookings[k..].iter().all(Option::is_none));
                break;
            };
            let (start, end, status) = placed[&(order.id.clone(), k)];
            assert_eq!((start, end), (b.start, b.end));
            assert!(
                start >= ready || status == OperationStatus::Done,
                "{} op {k} starts at {start} before ready {ready}",
                order.id
            );
            ready = end;
        }
    }
}

/// The delivery date of work finishing at `finish` (exclusive) shipped `ship_days` later.
fn delivery(finish: Minute, ship_days: u32) -> Date {
    let days = (finish - 1).div_euclid(DAY) + i64::from(ship_days);
    ORIGIN.checked_add(jiff::Span::new().days(days)).unwrap()
}

/// `(unplaced, weighted days late, makespan, sum of finishes)`, computed from the outside.
fn score(s: &Schedule) -> (usize, u64, Minute, Minute) {
    let mut out = (0, 0, 0, 0);
    for id in s.order_ids() {
        let plan = s.order(id).unwrap();
        let ends: Option<Vec<Minute>> = plan
            .bookings
            .iter()
            .map(|b| b.as_ref().map(|b| b.end))
            .collect();
        let Some(finish) = ends.and_then(|e| e.into_iter().max()) else {
            out.0 += 1;
            continue;
        };
        let d = delivery(finish, plan.order.ship_days);
        let late = plan.due.until(d).unwrap().get_days().max(0) as u64;
        out.1 += late * u64::from(plan.order.weight);
        out.2 = out.2.max(finish);
        out.3 += finish;
    }
    out
}

fn assert_report_matches(r: &Optimized, before: &Schedule, after: &Schedule) {
    let (b, a) = (score(before), score(after));
    assert_eq!(
        (
            r.unplaced_before,
            r.weighted_tardiness_before,
            r.makespan_before
        ),
        (b.0, b.1, b.2)
    );
    assert_eq!(
        (
            r.unplaced_after,
            r.weighted_tardiness_after,
            r.makespan_after
        ),
        (a.0, a.1, a.2)
    );
    if before.gantt() == after.gantt() {
        assert!(r.orders.is_empty(), "{:?}", r.orders);
        assert_eq!(a, b);
    } else {
        assert!(
            a < b,
            "a changed plan must be strictly better: {b:?} -> {a:?}"
        );
    }
    // Exactly the orders whose bookings changed are reported, with their finishes.
    for id in before.order_ids() {
        let (p, q) = (before.order(id).unwrap(), after.order(id).unwrap());
        let c = r.orders.iter().find(|c| c.order == *id);
        assert_eq!(p.bookings != q.bookings, c.is_some(), "order {id}");
        if let Some(c) = c {
            assert_eq!((c.old_finish, c.new_finish), (p.finish, q.finish));
            assert_eq!(
                c.new_delivery,
                q.finish.map(|f| delivery(f, q.order.ship_days))
            );
            assert_eq!(c.late, c.new_delivery.is_none_or(|d| d > q.due));
        }
        assert_eq!(q.due, p.due);
        if p.promised.is_some() {
            assert_eq!(q.promised, p.promised, "a promise stays as told");
        }
        // No order is delivered later than it was promised.
        if let (Some(promised), Some(f)) = (p.promised, q.finish) {
            assert!(
                delivery(f, q.order.ship_days) <= promised,
                "{id} delivered after its promise {promised}"
            );
        }
    }
}

/// Orders that must not move: one started or done operation, or planned work whose setup
/// was due before `now`. Their bookings as `(centre, machine, start, end)`; started and
/// done ones in full.
fn fixed_work(s: &Schedule) -> HashMap<String, Vec<String>> {
    let mut out = HashMap::new();
    for id in s.order_ids() {
        let p = s.order(id).unwrap();
        let stays = p.status.iter().any(|st| *st != OperationStatus::Planned)
            || p.bookings.iter().flatten().any(|b| b.setup_start < s.now());
        if !stays {
            continue;
        }
        let v = p
            .bookings
            .iter()
            .zip(&p.status)
            .map(|(b, st)| match (b, st) {
                (Some(b), OperationStatus::Planned) => {
                    format!("{} {} {} {}", b.work_centre, b.machine, b.start, b.end)
                }
                (b, st) => format!("{b:?} {st:?}"),
            })
            .collect();
        out.insert(id.to_owned(), v);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Builders.

fn commit(s: &mut Schedule, o: &Order) {
    let p = s.insert(o).unwrap();
    s.commit(p).unwrap();
}

fn day(d: i64) -> Date {
    ORIGIN.checked_add(jiff::Span::new().days(d)).unwrap()
}

// ---------------------------------------------------------------------------------------
// Hand-checked cases.

/// One machine. A filler took Monday and Tuesday when `a` and `b` were promised (Wednesday
/// morning, delivered Friday); the filler was cancelled, and the heavy urgent `c`, too long
/// for the freed gap, was inserted after them and is two days late.
fn late_heavy_order() -> (Vec<WorkCentre>, Vec<Order>, Schedule) {
    let wcs = vec![centre("press", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let filler = order("x", "X", 0, vec![op("press", 960, &["press"])]);
    let a = order("a", "A", 0, vec![op("press", 120, &["press"])]);
    let b = order("b", "B", 0, vec![op("press", 120, &["press"])]);
    let mut c = order("c", "C", 0, vec![op("press", 1000, &["press"])]);
    c.weight = 5;
    c.ship_days = 0;
    c.due = Some(day(2));
    commit(&mut s, &filler);
    commit(&mut s, &a);
    commit(&mut s, &b);
    s.remove("x").unwrap();
    commit(&mut s, &c);
    assert_eq!(s.order("a").unwrap().finish, Some(at(2, 10, 0)));
    assert_eq!(s.order("c").unwrap().finish, Some(at(4, 12, 40)));
    (wcs, vec![a, b, c], s)
}

#[test]
fn a_heavy_urgent_order_made_late_by_insertion_is_put_on_time() {
    let (wcs, orders, mut s) = late_heavy_order();
    let before = s.clone();
    let stale = s.insert(&order("q", "A", 0, vec![op("press", 10, &["press"])]));
    let r = s.optimize(100, 7).unwrap();
    assert_eq!(r.weighted_tardiness_before, 10);
    assert_eq!(r.weighted_tardiness_after, 0);
    assert!(r.makespan_after <= r.makespan_before);
    assert!(r.evaluations >= 1 && r.evaluations <= 100);
    check(&s, &wcs, &orders);
    assert_report_matches(&r, &before, &s);
    let c = r.orders.iter().find(|c| c.order == "c").unwrap();
    assert!(c.moved && !c.late);
    assert_eq!(c.old_delivery, Some(day(4)));
    assert!(c.new_delivery.unwrap() <= day(2));
    // The plan changed: a quote made before is stale.
    assert_eq!(s.commit(stale.unwrap()), Err(LiveError::Stale));
}

#[test]
fn an_optimal_plan_is_left_as_it_is() {
    let wcs = vec![centre("press", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let a = order("a", "A", 0, vec![op("press", 60, &["press"])]);
    let b = order("b", "A", 0, vec![op("press", 120, &["press"])]);
    commit(&mut s, &a);
    commit(&mut s, &b);
    let before = s.clone();
    let quote = s
        .insert(&order("q", "A", 0, vec![op("press", 10, &["press"])]))
        .unwrap();
    let r = s.optimize(50, 1).unwrap();
    assert!(r.orders.is_empty());
    assert!(r.evaluations >= 1);
    assert_eq!(
        (r.weighted_tardiness_before, r.makespan_before),
        (r.weighted_tardiness_after, r.makespan_after)
    );
    assert_eq!(s.gantt(), before.gantt());
    for id in ["a", "b"] {
        assert_eq!(s.order(id), before.order(id));
    }
    // Nothing changed, so a quote made before still commits.
    s.commit(quote).unwrap();
}

#[test]
fn no_budget_changes_nothing() {
    let (_, _, mut s) = late_heavy_order();
    let before = s.clone();
    let r = s.optimize(0, 3).unwrap();
    assert_eq!(r.evaluations, 0);
    assert!(r.orders.is_empty());
    assert_eq!(r.weighted_tardiness_after, r.weighted_tardiness_before);
    assert_eq!(s.gantt(), before.gantt());
}

#[test]
fn a_promise_that_would_slip_blocks_a_better_sequence() {
    // `a` and `b` fill Monday and are promised Wednesday; `c` (heavy, due Monday) could
    // only be on time by pushing one of them to Tuesday, past its promise.
    let wcs = vec![centre("press", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let a = order("a", "A", 0, vec![op("press", 240, &["press"])]);
    let b = order("b", "B", 0, vec![op("press", 240, &["press"])]);
    let mut c = order("c", "C", 0, vec![op("press", 240, &["press"])]);
    c.weight = 5;
    c.ship_days = 0;
    c.due = Some(day(0));
    for o in [&a, &b, &c] {
        commit(&mut s, o);
    }
    let before = s.clone();
    let r = s.optimize(200, 11).unwrap();
    assert_eq!(r.weighted_tardiness_before, 5);
    assert_eq!(r.weighted_tardiness_after, 5);
    assert!(r.orders.is_empty());
    assert_eq!(s.gantt(), before.gantt());
    check(&s, &wcs, &[a, b, c]);
}

#[test]
fn orders_in_production_or_overdue_stay_where_they_are() {
    let wcs = vec![
        centre("cut", 2, 20, day_shift()),
        centre("kiln", 1, 45, day_shift()),
    ];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let mut orders = Vec::new();
    for (i, (sku, weight, due)) in [
        ("A", 1, 6),
        ("B", 1, 5),
        ("A", 1, 7),
        ("C", 3, 1),
        ("B", 5, 2),
        ("C", 4, 2),
    ]
    .into_iter()
    .enumerate()
    {
        let mut o = order(
            &format!("o{i}"),
            sku,
            0,
            vec![op("cut", 200, &["cut"]), op("fire", 240, &["kiln"])],
        );
        o.weight = weight;
        o.due = Some(day(due));
        commit(&mut s, &o);
        orders.push(o);
    }
    s.set_now(at(0, 12, 0)).unwrap();
    // o0 cut done, firing started; o1 cut started; o2's cut was due but is not started.
    s.start_operation("o0", 0).unwrap();
    s.complete_operation("o0", 0).unwrap();
    s.start_operation("o0", 1).unwrap();
    s.start_operation("o1", 0).unwrap();
    let fixed = fixed_work(&s);
    assert!(fixed.contains_key("o2"), "{fixed:?}");
    let before = s.clone();
    let r = s.optimize(200, 5).unwrap();
    // Something better was found among the orders that may move.
    assert!(!r.orders.is_empty(), "{r:?}");
    check(&s, &wcs, &orders);
    assert_report_matches(&r, &before, &s);
    for (id, v) in &fixed {
        let after = fixed_work(&s);
        assert_eq!(after.get(id), Some(v), "{id} moved");
    }
    for id in ["o0", "o1"] {
        let (p, q) = (before.order(id).unwrap(), s.order(id).unwrap());
        for (k, st) in p.status.iter().enumerate() {
            if *st != OperationStatus::Planned {
                assert_eq!(p.bookings[k], q.bookings[k]);
            }
        }
    }
}

#[test]
fn a_plan_that_leaves_a_fixed_operation_without_its_setup_is_refused() {
    // `f` fires right after `m` (same SKU, no setup) behind started work `s`. Moving `m`
    // to the now free `alt` would finish it earlier, but `f`'s firing, which stays, would
    // then follow `s` (another SKU) with no room for its setup.
    let wcs = vec![
        centre("kiln", 1, 60, day_shift()),
        centre("wheel", 1, 0, day_shift()),
        centre("alt", 1, 0, day_shift()),
    ];
    let mut sch = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let s = order("s", "B", 0, vec![op("fire", 120, &["kiln"])]);
    let z = order("z", "Z", 0, vec![op("fire", 240, &["alt"])]);
    let m = order(
        "m",
        "A",
        0,
        vec![Operation {
            setup_minutes: Some(10),
            ..op("fire", 30, &["kiln", "alt"])
        }],
    );
    let f = order(
        "f",
        "A",
        0,
        vec![op("throw", 220, &["wheel"]), op("fire", 60, &["kiln"])],
    );
    for o in [&s, &z, &m, &f] {
        commit(&mut sch, o);
    }
    let fm = sch.order("m").unwrap().bookings[0].clone().unwrap();
    assert_eq!((fm.work_centre.as_str(), fm.end), ("kiln", at(0, 11, 40)));
    let ff = sch.order("f").unwrap().bookings[1].clone().unwrap();
    assert_eq!((ff.start, ff.setup_minutes), (at(0, 11, 40), 0));
    sch.remove("z").unwrap();
    sch.set_now(at(0, 10, 0)).unwrap();
    sch.start_operation("s", 0).unwrap();
    sch.start_operation("f", 0).unwrap();
    let before = sch.clone();
    let r = sch.optimize(20, 2).unwrap();
    assert!(r.orders.is_empty(), "{r:?}");
    assert_eq!(sch.gantt(), before.gantt());
    check(&sch, &wcs, &[s, m, f]);
}

/// One press, one week: `b` (due Sunday) was lost to a Monday downtime; `a` fills the rest
/// of the week and is promised Friday.
fn lost_order() -> (Vec<WorkCentre>, Vec<Order>, Schedule) {
    let mut wcs = vec![centre("press", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, 7, wcs.clone()).unwrap();
    let mut b = order("b", "B", 0, vec![op("press", 1000, &["press"])]);
    b.due = Some(day(6));
    b.ship_days = 0;
    let mut a = order("a", "A", 0, vec![op("press", 1400, &["press"])]);
    a.ship_days = 0;
    commit(&mut s, &b);
    commit(&mut s, &a);
    assert_eq!(s.order("a").unwrap().finish, Some(at(4, 16, 0)));
    let d = s.mark_down("press", at(0, 8, 0), at(0, 10, 0)).unwrap();
    wcs[0].calendar.down.push(Period {
        from: d.from,
        to: d.to,
    });
    let lost = s.order("b").unwrap();
    assert!(lost.bookings[0].is_none() && lost.promised.is_none());
    (wcs, vec![a, b], s)
}

#[test]
fn a_placed_order_is_never_dropped_for_a_lost_one() {
    // Placing `b` first would leave no room for `a`: refused, though `b` finishes earlier.
    let (wcs, orders, mut s) = lost_order();
    let before = s.clone();
    let r = s.optimize(50, 4).unwrap();
    assert_eq!((r.unplaced_before, r.unplaced_after), (1, 1));
    assert!(s.order("a").unwrap().bookings[0].is_some());
    assert!(s.order("b").unwrap().bookings[0].is_none());
    // `a` alone moves up into Monday.
    assert_eq!(s.order("a").unwrap().finish, Some(at(3, 9, 20)));
    check(&s, &wcs, &orders);
    assert_report_matches(&r, &before, &s);
}

#[test]
fn a_lost_order_is_placed_again_when_room_frees_up() {
    let (wcs, orders, mut s) = lost_order();
    s.remove("a").unwrap();
    let before = s.clone();
    let r = s.optimize(10, 4).unwrap();
    assert_eq!((r.unplaced_before, r.unplaced_after), (1, 0));
    let b = s.order("b").unwrap();
    assert_eq!(b.finish, Some(at(2, 10, 40)));
    // An order without a promise gets the delivery of its new finish.
    assert_eq!(b.promised, Some(day(2)));
    let c = &r.orders[0];
    assert!(c.order == "b" && c.moved && !c.late && c.old_delivery.is_none());
    check(&s, &wcs, &orders[1..]);
    assert_report_matches(&r, &before, &s);
}

#[test]
fn the_same_seed_gives_the_same_result() {
    let wcs = vec![centre("press", 2, 30, day_shift())];
    let mut shop = Schedule::new(ORIGIN, HORIZON, wcs).unwrap();
    let mut rng = SplitMix64(42);
    let orders = random_orders(&mut rng, 12, &["press"]);
    for o in &orders {
        if let Ok(q) = shop.insert(o) {
            shop.commit(q).unwrap();
        }
    }
    for seed in [1, 2] {
        let (mut a, mut b) = (shop.clone(), shop.clone());
        let (ra, rb) = (a.optimize(60, seed).unwrap(), b.optimize(60, seed).unwrap());
        assert_eq!(ra, rb);
        assert!(!ra.orders.is_empty(), "seed {seed}: nothing to compare");
        assert_eq!(a.gantt(), b.gantt());
        for id in a.order_ids() {
            assert_eq!(a.order(id), b.order(id));
        }
    }
}

// ---------------------------------------------------------------------------------------
// A larger shop.

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Orders of one to three operations, each on one or two of `wcs`.
fn random_orders(rng: &mut SplitMix64, n: usize, wcs: &[&str]) -> Vec<Order> {
    (0..n)
        .map(|i| {
            let ops = (0..1 + rng.below(3))
                .map(|k| {
                    let first = rng.below(wcs.len() as u64) as usize;
                    let mut eligible = vec![wcs[first]];
                    if rng.below(2) == 0 && wcs.len() > 1 {
                        eligible.push(wcs[(first + 1) % wcs.len()]);
                    }
                    op(&format!("op{k}"), 30 + rng.below(240) as u32, &eligible)
                })
                .collect();
            let mut o = order(
                &format!("o{i}"),
                ["A", "B", "C", "D"][rng.below(4) as usize],
                (rng.below(5) * DAY as u64) as Minute,
                ops,
            );
            o.weight = 1 + rng.below(5) as u32;
            o.due = (rng.below(4) > 0).then(|| day(1 + rng.below(10) as i64));
            o.ship_days = rng.below(3) as u32;
            o
        })
        .collect()
}

#[test]
fn three_hundred_orders_optimize_within_the_budget() {
    let wcs = vec![
        centre("cut", 2, 20, day_shift()),
        centre("press", 2, 30, day_shift()),
        centre("kiln", 2, 45, Calendar::weekdays(&[shift(360, 1320)])),
    ];
    let mut s = Schedule::new(ORIGIN, 120, wcs.clone()).unwrap();
    let mut rng = SplitMix64(2025);
    let mut committed = Vec::new();
    for o in random_orders(&mut rng, 300, &["cut", "press", "kiln"]) {
        if let Ok(q) = s.insert(&o) {
            s.commit(q).unwrap();
            committed.push(o);
        }
    }
    assert!(committed.len() > 250);
    s.set_now(at(0, 12, 0)).unwrap();
    for o in &committed {
        let plan = s.order(&o.id).unwrap();
        if plan.bookings[0].as_ref().unwrap().start < s.now() {
            s.start_operation(&o.id, 0).unwrap();
        }
    }
    let before = s.clone();
    let r = s.optimize(50, 9).unwrap();
    assert!(r.evaluations <= 50);
    check(&s, &wcs, &committed);
    assert_report_matches(&r, &before, &s);
}

// ---------------------------------------------------------------------------------------
// Properties on random small shops.

fn arb_centre(i: usize) -> impl Strategy<Value = WorkCentre> {
    (
        1u16..=2,
        prop_oneof![Just(0u32), 1u32..=60],
        prop::option::of(0i64..5),
    )
        .prop_map(move |(machines, setup, holiday)| {
            let mut cal = day_shift();
            if let Some(h) = holiday {
                cal.holidays.push(day(h));
            }
            centre(&format!("wc{i}"), machines, setup, cal)
        })
}

fn arb_order(i: usize, n_wc: usize) -> impl Strategy<Value = Order> {
    (
        0usize..3,
        0i64..3000,
        prop::collection::vec(
            (
                1u32..=300,
                prop::collection::btree_set(0..n_wc, 1..=n_wc),
                prop_oneof![Just(None), (0u32..=90).prop_map(Some)],
            ),
            1..=3,
        ),
        1u32..=5,
        prop::option::of(0i64..8),
        0u32..=2,
    )
        .prop_map(move |(sku, release, ops, weight, due, ship_days)| {
            let mut o = order(
                &format!("o{i}"),
                ["A", "B", "C"][sku],
                release,
                ops.into_iter()
                    .enumerate()
                    .map(|(k, (minutes, wcs, setup_minutes))| Operation {
                        name: format!("op{k}"),
                        minutes,
                        work_centres: wcs.into_iter().map(|w| format!("wc{w}")).collect(),
                        setup_minutes,
                    })
                    .collect(),
            );
            o.weight = weight;
            o.due = due.map(day);
            o.ship_days = ship_days;
            o
        })
}

fn arb_instance() -> impl Strategy<Value = (Vec<WorkCentre>, Vec<Order>)> {
    (2usize..=3).prop_flat_map(|n| {
        let centres: Vec<_> = (0..n).map(arb_centre).collect();
        (
            centres,
            prop::collection::vec(Just(()), 3..=8)
                .prop_flat_map(move |v| (0..v.len()).map(|i| arb_order(i, n)).collect::<Vec<_>>()),
        )
    })
}

/// A shop with `orders` committed in turn, then the floor at `now`: what began is started
/// (unless `start_none`), what ended is done. Returns the committed orders.
fn floor(
    centres: &[WorkCentre],
    orders: &[Order],
    now: Minute,
    start_none: bool,
) -> (Schedule, Vec<Order>) {
    let mut s = Schedule::new(ORIGIN, HORIZON, centres.to_vec()).unwrap();
    let mut committed = Vec::new();
    for o in orders {
        if let Ok(q) = s.insert(o) {
            s.commit(q).unwrap();
            committed.push(o.clone());
        }
    }
    s.set_now(now).unwrap();
    for o in &committed {
        let plan = s.order(&o.id).unwrap();
        for (k, b) in plan.bookings.iter().enumerate() {
            let Some(b) = b else { break };
            if b.start >= now || start_none {
                break;
            }
            s.start_operation(&o.id, k).unwrap();
            if b.end <= now {
                s.complete_operation(&o.id, k).unwrap();
            }
        }
    }
    (s, committed)
}

/// Optimizes a copy of `before` and checks everything a caller relies on.
fn assert_optimizes(
    before: &Schedule,
    centres: &[WorkCentre],
    committed: &[Order],
    budget: u64,
    seed: u64,
) -> Optimized {
    let mut s = before.clone();
    let fixed = fixed_work(&s);
    let r = s.optimize(budget, seed).unwrap();
    assert!(r.evaluations <= budget);
    check(&s, centres, committed);
    assert_report_matches(&r, before, &s);
    if r.unplaced_after == r.unplaced_before {
        assert!(r.weighted_tardiness_after <= r.weighted_tardiness_before);
        if r.weighted_tardiness_after == r.weighted_tardiness_before {
            assert!(r.makespan_after <= r.makespan_before);
        }
    } else {
        assert!(r.unplaced_after < r.unplaced_before);
    }
    let after = fixed_work(&s);
    for (id, v) in &fixed {
        assert_eq!(after.get(id), Some(v), "{id} moved");
    }
    let now = s.now();
    for id in before.order_ids() {
        let (p, q) = (before.order(id).unwrap(), s.order(id).unwrap());
        for (k, st) in p.status.iter().enumerate() {
            if *st != OperationStatus::Planned {
                assert_eq!(p.bookings[k], q.bookings[k]);
            }
            assert_eq!(q.status[k], *st);
        }
        // A placed order stays placed; moved work never starts (setup included) before now.
        assert!(p.finish.is_none() || q.finish.is_some(), "{id} dropped");
        for (b, c) in p.bookings.iter().zip(&q.bookings) {
            if let Some(c) = c
                && b.as_ref().map(|b| (b.start, b.end)) != Some((c.start, c.end))
            {
                assert!(c.setup_start >= now, "{c:?}");
            }
        }
    }
    // The same seed on the same plan gives the same result.
    let mut again = before.clone();
    assert_eq!(again.optimize(budget, seed).unwrap(), r);
    assert_eq!(again.gantt(), s.gantt());
    r
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn optimize_is_feasible_never_worse_and_keeps_promises_and_fixed_work(
        (centres, orders) in arb_instance(),
        now in 0i64..3 * DAY,
        start_none in any::<bool>(),
        budget in 1u64..=60,
        seed in any::<u64>(),
    ) {
        let (s, committed) = floor(&centres, &orders, now, start_none);
        let r = assert_optimizes(&s, &centres, &committed, budget, seed);
        prop_assert_eq!(r.unplaced_before, 0);
    }

    #[test]
    fn optimize_after_a_downtime_is_feasible_and_never_worse(
        (mut centres, orders) in arb_instance(),
        now in 0i64..2 * DAY,
        down in (0usize..3, 0i64..4 * DAY, 1i64..2 * DAY),
        budget in 1u64..=60,
        seed in any::<u64>(),
    ) {
        let (mut s, committed) = floor(&centres, &orders, now, false);
        let wc = down.0 % centres.len();
        let id = centres[wc].id.clone();
        let d = s.mark_down(&id, down.1, down.1 + down.2).unwrap();
        if d.from < d.to {
            centres[wc].calendar.down.push(kiln_plan::live::Period { from: d.from, to: d.to });
        }
        assert_optimizes(&s, &centres, &committed, budget, seed);
    }
}
