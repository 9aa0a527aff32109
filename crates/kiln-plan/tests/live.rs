//! The live schedule: hand-checked cases, an independent feasibility checker, and proptests
//! on random tiny instances. 2025-06-02 is a Monday; minute 0 is its midnight.

use std::collections::HashMap;

use jiff::civil::date;
use kiln_plan::live::{
    Calendar, DAY, GanttBar, LiveError, Minute, Operation, OperationStatus, Order, Period, Promise,
    RestoredOrder, Schedule, WorkCentre,
};
use proptest::prelude::*;

mod support;

use support::{MinuteCalendar, ORIGIN, at, centre, day_shift, op, order, shift};
const HORIZON: u32 = 14;

// ---------------------------------------------------------------------------------------
// The checker: minute by minute, sharing no code with the engine.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placed {
    wc: usize,
    machine: usize,
    setup_start: Minute,
    start: Minute,
    end: Minute,
    status: OperationStatus,
}

/// Every operation on the schedule, by `(order, operation)`.
fn placements(s: &Schedule) -> HashMap<(String, usize), Placed> {
    let mut out = HashMap::new();
    for (wc, g) in s.gantt().into_iter().enumerate() {
        for (machine, bars) in g.machines.into_iter().enumerate() {
            for b in bars {
                let prev = out.insert(
                    (b.order.clone(), b.operation),
                    Placed {
                        wc,
                        machine,
                        setup_start: b.setup_start,
                        start: b.start,
                        end: b.end,
                        status: b.status,
                    },
                );
                assert!(
                    prev.is_none(),
                    "{} op {} placed twice",
                    b.order,
                    b.operation
                );
            }
        }
    }
    out
}

/// Checks the whole schedule against the work centres as the test defined them (downtime
/// included) and the orders it committed. `placed` lists orders that must be fully placed.
fn check(s: &Schedule, centres: &[WorkCentre], orders: &[Order]) {
    let cals: Vec<MinuteCalendar> = centres
        .iter()
        .map(|wc| MinuteCalendar::new(wc, ORIGIN, HORIZON + 7))
        .collect();
    let gantt = s.gantt();
    assert_eq!(gantt.len(), centres.len());
    let mut seen = 0;
    for (w, g) in gantt.iter().enumerate() {
        let wc = &centres[w];
        assert_eq!(g.work_centre, wc.id);
        assert_eq!(g.machines.len(), usize::from(wc.machines));
        for bars in &g.machines {
            let mut prev: Option<&GanttBar> = None;
            for b in bars {
                seen += 1;
                let order = orders
                    .iter()
                    .find(|o| o.id == b.order)
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
                // One operation per machine at a time, setups included.
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
                prev = Some(b);
            }
        }
    }
    // Every operation of every order once, in routing order, after the release.
    let placed = placements(s);
    assert_eq!(placed.len(), seen);
    for order in orders {
        let Some(plan) = s.order(&order.id) else {
            continue;
        };
        let mut ready = order.release;
        for (k, booking) in plan.bookings.iter().enumerate() {
            let Some(b) = booking else {
                // Off the plan: an operation done ahead of it (off its machine), or a
                // suffix of the order not placed.
                if plan.status[k] == OperationStatus::Done {
                    continue;
                }
                assert!(plan.bookings[k..].iter().all(Option::is_none));
                break;
            };
            let p = placed[&(order.id.clone(), k)];
            assert_eq!((p.start, p.end), (b.start, b.end));
            assert!(
                p.start >= ready || p.status == OperationStatus::Done,
                "{} op {k} starts at {} before ready {ready}",
                order.id,
                p.start
            );
            ready = p.end;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Builders.

fn op_setup(name: &str, minutes: u32, setup: u32, wcs: &[&str]) -> Operation {
    Operation {
        setup_minutes: Some(setup),
        ..op(name, minutes, wcs)
    }
}

fn commit(s: &mut Schedule, o: &Order) -> Promise {
    let p = s.insert(o).unwrap();
    s.commit(p.clone()).unwrap();
    p
}

// ---------------------------------------------------------------------------------------
// Hand-checked cases.

#[test]
fn one_operation_split_across_two_shifts() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let a = order("a", "X", 0, vec![op("fire", 600, &["kiln"])]);
    let p = commit(&mut s, &a);
    // Setup 08:00-08:30, then 450 minutes on Monday and 150 on Tuesday.
    assert_eq!(p.bookings[0].setup_start, at(0, 8, 0));
    assert_eq!(p.start, at(0, 8, 30));
    assert_eq!(p.finish, at(1, 10, 30));
    assert_eq!(p.delivery, date(2025, 6, 5));
    check(&s, &wcs, &[a]);
}

#[test]
fn deliveries_fall_only_on_delivery_days() {
    // Finished on Friday 2025-06-06, two days to ship: Sunday the 8th,
    // unless the carrier delivers Monday to Saturday only.
    let wcs = vec![centre("kiln", 1, 0, day_shift())];
    let a = order("a", "X", at(4, 0, 0), vec![op("fire", 60, &["kiln"])]);
    let any_day = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    assert_eq!(any_day.insert(&a).unwrap().delivery, date(2025, 6, 8));
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    s.set_delivery_weekdays(&[1, 2, 3, 4, 5, 6]);
    let p = commit(&mut s, &a);
    assert_eq!(p.delivery, date(2025, 6, 9));
    assert_eq!(s.order("a").unwrap().promised, Some(date(2025, 6, 9)));
    // Only Wednesdays: the next one after Sunday.
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    s.set_delivery_weekdays(&[3]);
    assert_eq!(s.insert(&a).unwrap().delivery, date(2025, 6, 11));
    // Nothing valid leaves every day.
    s.set_delivery_weekdays(&[0, 8]);
    assert_eq!(s.insert(&a).unwrap().delivery, date(2025, 6, 8));
    check(&s, &wcs, &[]);
}

#[test]
fn same_sku_batches_without_setup_and_a_new_sku_pays_it() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let orders = [
        order("a", "X", 0, vec![op("fire", 60, &["kiln"])]),
        order("b", "X", 0, vec![op("fire", 60, &["kiln"])]),
        order("c", "Y", 0, vec![op("fire", 60, &["kiln"])]),
    ];
    let ps: Vec<_> = orders.iter().map(|o| commit(&mut s, o)).collect();
    assert_eq!((ps[0].start, ps[0].finish), (at(0, 8, 30), at(0, 9, 30)));
    assert_eq!(ps[1].bookings[0].setup_minutes, 0);
    assert_eq!((ps[1].start, ps[1].finish), (at(0, 9, 30), at(0, 10, 30)));
    assert_eq!(ps[2].bookings[0].setup_minutes, 30);
    assert_eq!((ps[2].start, ps[2].finish), (at(0, 11, 0), at(0, 12, 0)));
    check(&s, &wcs, &orders);
}

#[test]
fn insertion_fills_an_earlier_gap_without_moving_committed_work() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    // Committed for Tuesday 08:00; its setup runs ahead, Monday 15:30-16:00.
    let a = order("a", "X", at(1, 8, 0), vec![op("fire", 120, &["kiln"])]);
    let pa = commit(&mut s, &a);
    assert_eq!(pa.bookings[0].setup_start, at(0, 15, 30));
    assert_eq!((pa.start, pa.finish), (at(1, 8, 0), at(1, 10, 0)));
    // Fits on Monday, before it.
    let b = order("b", "Y", 0, vec![op("fire", 400, &["kiln"])]);
    let pb = commit(&mut s, &b);
    assert_eq!((pb.start, pb.finish), (at(0, 8, 30), at(0, 15, 10)));
    // 30 + 430 minutes would end at 15:40, inside a's setup: after `a` instead.
    let c = order("c", "Y", 0, vec![op("fire", 430, &["kiln"])]);
    let pc = commit(&mut s, &c);
    assert_eq!(pc.start, at(1, 10, 30));
    let plan = s.order("a").unwrap();
    assert_eq!(
        (plan.bookings[0].as_ref().unwrap().start, plan.finish),
        (pa.start, Some(pa.finish))
    );
    check(&s, &wcs, &[a, b, c]);
}

#[test]
fn a_same_sku_insertion_takes_the_setup_of_the_next_operation() {
    let wcs = vec![centre("kiln", 1, 60, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    // `a` is set up 12:00-13:00 and runs 13:00-15:00.
    let a = order("a", "X", at(0, 13, 0), vec![op("fire", 120, &["kiln"])]);
    let pa = commit(&mut s, &a);
    assert_eq!(pa.bookings[0].setup_start, at(0, 12, 0));
    // `b` (same SKU) takes the setup, 08:00-09:00, and runs 09:00-13:00 right before `a`,
    // which then needs none.
    let b = order("b", "X", 0, vec![op("fire", 240, &["kiln"])]);
    let pb = commit(&mut s, &b);
    assert_eq!((pb.start, pb.finish), (at(0, 9, 0), at(0, 13, 0)));
    let ga = &s.gantt()[0].machines[0];
    assert_eq!(ga[1].order, "a");
    assert_eq!(
        (ga[1].setup_minutes, ga[1].setup_start, ga[1].start),
        (0, at(0, 13, 0), pa.start)
    );
    check(&s, &wcs, &[a, b]);
}

#[test]
fn a_different_sku_before_a_batch_must_leave_room_for_its_setup() {
    let wcs = vec![centre("kiln", 1, 60, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let a = order("a", "X", at(0, 10, 0), vec![op("fire", 60, &["kiln"])]);
    commit(&mut s, &a);
    let b = order("b", "X", at(0, 11, 0), vec![op("fire", 60, &["kiln"])]);
    commit(&mut s, &b);
    // 09:00-10:00 is a's setup, 10:00-12:00 a and b. A 60-minute Y job released at 08:00
    // would need 08:00-09:00 setup and 09:00-10:00 work, but then `a` needs a setup in
    // the same hour: it goes after `b`.
    let c = order("c", "Y", at(0, 8, 0), vec![op("glaze", 60, &["kiln"])]);
    let pc = commit(&mut s, &c);
    assert_eq!((pc.start, pc.finish), (at(0, 13, 0), at(0, 14, 0)));
    check(&s, &wcs, &[a, b, c]);
}

#[test]
fn alternatives_and_parallel_machines() {
    let wcs = vec![
        centre("wheel", 2, 0, day_shift()),
        centre("kiln", 1, 0, day_shift()),
        centre("kiln-2", 1, 0, Calendar::weekdays(&[shift(360, 1320)])),
    ];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let mk = |id: &str| {
        order(
            id,
            "X",
            0,
            vec![
                op("throw", 120, &["wheel"]),
                op("fire", 240, &["kiln", "kiln-2"]),
            ],
        )
    };
    let orders = [mk("a"), mk("b"), mk("c")];
    let ps: Vec<_> = orders.iter().map(|o| commit(&mut s, o)).collect();
    // a and b throw in parallel 08:00-10:00; c follows on the first free wheel.
    assert_eq!(ps[0].bookings[0].machine, 0);
    assert_eq!(ps[1].bookings[0].machine, 1);
    assert_eq!(ps[1].bookings[0].end, at(0, 10, 0));
    assert_eq!(ps[2].bookings[0].end, at(0, 12, 0));
    // Firing: both kilns finish 10:00 + 240 = 14:00; the first listed wins the tie, then
    // the long-shift kiln takes b.
    assert_eq!(ps[0].bookings[1].work_centre, "kiln");
    assert_eq!(ps[1].bookings[1].work_centre, "kiln-2");
    assert_eq!(ps[1].finish, at(0, 14, 0));
    // c: kiln-2 frees at 14:00 and finishes 18:00; kiln at 16:00 is off shift.
    assert_eq!(ps[2].bookings[1].work_centre, "kiln-2");
    assert_eq!(ps[2].finish, at(0, 18, 0));
    check(&s, &wcs, &orders);
}

#[test]
fn a_night_shift_runs_on_past_midnight_and_holidays_are_skipped() {
    let mut cal = Calendar::weekdays(&[shift(1200, 1440), shift(0, 360)]);
    cal.holidays.push(date(2025, 6, 3));
    let wcs = vec![centre("kiln", 1, 0, cal)];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    // Monday 00:00-06:00 (360), then Monday 20:00 to Tuesday 00:00 (240): Tuesday is a
    // holiday, so Wednesday 00:00 onwards.
    let a = order("a", "X", 0, vec![op("fire", 700, &["kiln"])]);
    let p = commit(&mut s, &a);
    assert_eq!(p.finish, at(2, 1, 40));
    check(&s, &wcs, &[a]);
}

#[test]
fn a_quote_books_nothing_and_a_stale_quote_is_refused() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs).unwrap();
    let a = order("a", "X", 0, vec![op("fire", 60, &["kiln"])]);
    let b = order("b", "X", 0, vec![op("fire", 60, &["kiln"])]);
    let before = s.gantt();
    let qa = s.insert(&a).unwrap();
    let qb = s.insert(&b).unwrap();
    assert_eq!(s.gantt(), before);
    assert_eq!(
        qa.finish, qb.finish,
        "both quotes see the same free machine"
    );
    s.commit(qa).unwrap();
    assert_eq!(s.commit(qb), Err(LiveError::Stale));
    let qb = s.insert(&b).unwrap();
    assert_eq!(qb.finish, at(0, 10, 30));
    s.commit(qb).unwrap();
    assert_eq!(s.operation_count(), 2);
}

#[test]
fn bad_input_is_an_error() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let err = |o: Order| s.insert(&o).unwrap_err();
    assert!(matches!(
        err(order("a", "X", 0, vec![op("fire", 60, &["oven"])])),
        LiveError::UnknownWorkCentre { .. }
    ));
    assert!(matches!(
        err(order("a", "X", 0, vec![op("fire", 0, &["kiln"])])),
        LiveError::ZeroMinutes { .. }
    ));
    assert!(matches!(
        err(order("a", "X", 0, vec![])),
        LiveError::EmptyRouting { .. }
    ));
    assert!(matches!(
        err(order("a", "X", 0, vec![op("fire", 5, &[])])),
        LiveError::NoEligibleWorkCentre { .. }
    ));
    assert!(matches!(
        err(order(
            "a",
            "X",
            0,
            vec![op("fire", 60 * 24 * 30, &["kiln"])]
        )),
        LiveError::NoCapacity { .. }
    ));
    let mut bad = wcs.clone();
    bad[0].calendar.week[0].push(shift(900, 1500));
    assert!(matches!(
        Schedule::new(ORIGIN, HORIZON, bad),
        Err(LiveError::BadShift { .. })
    ));
    let mut two = wcs.clone();
    two.push(wcs[0].clone());
    assert!(matches!(
        Schedule::new(ORIGIN, HORIZON, two),
        Err(LiveError::DuplicateWorkCentre { .. })
    ));
    assert!(matches!(
        Schedule::new(ORIGIN, 0, wcs),
        Err(LiveError::BadHorizon { .. })
    ));
}

#[test]
fn queue_lists_unstarted_work_in_start_order() {
    let wcs = vec![centre("kiln", 2, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs).unwrap();
    for (id, minutes) in [("a", 300), ("b", 60), ("c", 60)] {
        commit(
            &mut s,
            &order(id, "X", 0, vec![op("fire", minutes, &["kiln"])]),
        );
    }
    s.start_operation("b", 0).unwrap();
    let q: Vec<_> = s
        .queue("kiln")
        .unwrap()
        .into_iter()
        .map(|b| (b.order, b.start))
        .collect();
    assert_eq!(
        q,
        vec![("a".into(), at(0, 8, 0)), ("c".into(), at(0, 9, 0))]
    );
    assert!(matches!(
        s.start_operation("a", 1),
        Err(LiveError::UnknownOperation { .. })
    ));
}

#[test]
fn operations_start_in_routing_order() {
    let wcs = vec![centre("kiln", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs).unwrap();
    commit(
        &mut s,
        &order(
            "a",
            "X",
            0,
            vec![op("throw", 60, &["kiln"]), op("fire", 60, &["kiln"])],
        ),
    );
    assert!(matches!(
        s.start_operation("a", 1),
        Err(LiveError::OutOfOrder { .. })
    ));
    s.start_operation("a", 0).unwrap();
    s.start_operation("a", 1).unwrap();
}

#[test]
fn a_downtime_moves_what_it_hits_and_reports_the_promises() {
    let mut wcs = vec![centre("kiln", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let mut a = order("a", "X", 0, vec![op("fire", 480, &["kiln"])]);
    a.due = Some(date(2025, 6, 4));
    let b = order("b", "Y", 0, vec![op("fire", 480, &["kiln"])]);
    let c = order("c", "Z", at(3, 0, 0), vec![op("fire", 60, &["kiln"])]);
    for o in [&a, &b, &c] {
        commit(&mut s, o);
    }
    assert_eq!(s.order("a").unwrap().promised, Some(date(2025, 6, 4)));
    // Monday is lost: only `a` was hit. It goes after `b`, which keeps Tuesday, to
    // Wednesday: delivery Friday, late.
    let d = s.mark_down("kiln", 0, DAY).unwrap();
    wcs[0].calendar.down.push(Period { from: 0, to: DAY });
    let moved: Vec<_> = d
        .moved()
        .map(|o| (o.order.as_str(), o.old_delivery, o.new_delivery, o.late))
        .collect();
    assert_eq!(
        moved,
        vec![("a", Some(date(2025, 6, 4)), Some(date(2025, 6, 6)), true)]
    );
    assert_eq!(d.late().count(), 1);
    assert_eq!(d.operations_moved, 1);
    assert_eq!(s.order("b").unwrap().finish, Some(at(1, 16, 0)));
    // c (Thursday) was not hit and does not move.
    assert_eq!(s.order("c").unwrap().finish, Some(at(3, 9, 0)));
    check(&s, &wcs, &[a, b, c]);
}

#[test]
fn a_replan_tries_priority_rules_and_keeps_the_least_weighted_lateness() {
    let mut wcs = vec![centre("kiln", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let a = order("a", "X", 0, vec![op("fire", 480, &["kiln"])]);
    let mut b = order("b", "X", 0, vec![op("fire", 480, &["kiln"])]);
    b.weight = 3;
    let c = order("c", "X", at(2, 0, 0), vec![op("fire", 480, &["kiln"])]);
    for o in [&a, &b, &c] {
        commit(&mut s, o);
    }
    // a: Monday, due Wednesday; b: Tuesday, due Thursday; c keeps Wednesday.
    let d = s.mark_down("kiln", 0, 2 * DAY).unwrap();
    wcs[0].calendar.down.push(Period {
        from: 0,
        to: 2 * DAY,
    });
    // Earliest promise first: a Thursday (3 days late x 1), b Friday (3 x 3) = 12.
    // Highest weight first: b Thursday (2 x 3), a Friday (4 x 1) = 10, kept.
    assert_eq!(d.rule, "highest weight first");
    let got: Vec<_> = d
        .orders
        .iter()
        .map(|o| (o.order.as_str(), o.new_delivery, o.late))
        .collect();
    assert_eq!(
        got,
        vec![
            ("b", Some(date(2025, 6, 7)), true),
            ("a", Some(date(2025, 6, 8)), true),
        ]
    );
    check(&s, &wcs, &[a, b, c]);
}

#[test]
fn an_order_that_no_longer_fits_the_horizon_is_reported_and_left_off() {
    let wcs = vec![centre("kiln", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, 3, wcs).unwrap();
    let a = order(
        "a",
        "X",
        0,
        vec![op("throw", 240, &["kiln"]), op("fire", 120, &["kiln"])],
    );
    commit(&mut s, &a);
    s.set_now(at(0, 9, 0)).unwrap();
    s.start_operation("a", 0).unwrap();
    // The rest of the horizon is down: `throw` resumes never, `fire` cannot be placed.
    let d = s.mark_down("kiln", at(0, 10, 0), 3 * DAY).unwrap();
    assert_eq!(d.orders.len(), 1);
    assert_eq!((d.orders[0].new_finish, d.orders[0].late), (None, true));
    let plan = s.order("a").unwrap();
    assert!(plan.bookings[0].is_some() && plan.bookings[1].is_none());
    assert_eq!(plan.promised, None);
}

#[test]
fn a_started_operation_resumes_after_the_downtime() {
    let mut wcs = vec![centre("kiln", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let a = order("a", "X", 0, vec![op("fire", 240, &["kiln"])]);
    let b = order("b", "X", 0, vec![op("fire", 60, &["kiln"])]);
    commit(&mut s, &a);
    commit(&mut s, &b);
    s.set_now(at(0, 9, 0)).unwrap();
    s.start_operation("a", 0).unwrap();
    // Down 10:00-11:00: a keeps its start and ends an hour later; b moves behind it.
    let d = s.mark_down("kiln", at(0, 10, 0), at(0, 11, 0)).unwrap();
    wcs[0].calendar.down.push(Period {
        from: at(0, 10, 0),
        to: at(0, 11, 0),
    });
    let pa = s.order("a").unwrap();
    let ba = pa.bookings[0].as_ref().unwrap();
    assert_eq!((ba.start, ba.end), (at(0, 8, 0), at(0, 13, 0)));
    assert_eq!(pa.status[0], OperationStatus::Started);
    assert_eq!(s.order("b").unwrap().finish, Some(at(0, 14, 0)));
    assert_eq!(d.orders.len(), 2);
    assert_eq!(d.moved().count(), 0, "same day: the delivery dates hold");
    check(&s, &wcs, &[a, b]);
}

#[test]
fn a_downtime_in_the_past_changes_nothing() {
    let wcs = vec![centre("kiln", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs).unwrap();
    commit(&mut s, &order("a", "X", 0, vec![op("fire", 60, &["kiln"])]));
    s.set_now(DAY).unwrap();
    let before = s.gantt();
    let d = s.mark_down("kiln", 0, DAY).unwrap();
    assert!(d.orders.is_empty());
    assert_eq!(s.gantt(), before);
    assert!(matches!(
        s.mark_down("kiln", 5, 5),
        Err(LiveError::BadPeriod { .. })
    ));
    assert!(matches!(s.set_now(0), Err(LiveError::TimeBackwards { .. })));
}

#[test]
fn each_operation_pays_its_own_setup_and_same_sku_batches_pay_none() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let orders = [
        order("a", "X", 0, vec![op_setup("fire", 60, 90, &["kiln"])]),
        order("b", "X", 0, vec![op_setup("fire", 60, 90, &["kiln"])]),
        order("c", "Y", 0, vec![op("fire", 60, &["kiln"])]),
        order("d", "Z", 0, vec![op_setup("fire", 60, 0, &["kiln"])]),
    ];
    let ps: Vec<_> = orders.iter().map(|o| commit(&mut s, o)).collect();
    let got: Vec<_> = ps
        .iter()
        .map(|p| {
            let b = &p.bookings[0];
            (b.setup_minutes, b.setup_start, b.start, b.end)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            // Its own 90 minutes, not the kiln's 30.
            (90, at(0, 8, 0), at(0, 9, 30), at(0, 10, 30)),
            // Same SKU: none.
            (0, at(0, 10, 30), at(0, 10, 30), at(0, 11, 30)),
            // No setup of its own: the kiln's.
            (30, at(0, 11, 30), at(0, 12, 0), at(0, 13, 0)),
            // A changeover that takes no time.
            (0, at(0, 13, 0), at(0, 13, 0), at(0, 14, 0)),
        ]
    );
    check(&s, &wcs, &orders);
}

#[test]
fn an_insertion_leaves_room_for_the_setup_of_the_operation_after_it() {
    let wcs = vec![centre("kiln", 1, 10, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    // `p` needs two hours of setup, 10:00-12:00, and runs 12:00-13:00.
    let p = order(
        "p",
        "X",
        at(0, 12, 0),
        vec![op_setup("fire", 60, 120, &["kiln"])],
    );
    let pp = commit(&mut s, &p);
    assert_eq!(pp.bookings[0].setup_start, at(0, 10, 0));
    // A Y job needing no setup fits 08:00-09:00; another of 90 minutes would end at 10:30,
    // inside p's own setup (the kiln's 10 minutes would have left room): after `p`.
    let q = order("q", "Y", 0, vec![op_setup("fire", 60, 0, &["kiln"])]);
    let r = order("r", "Y", 0, vec![op_setup("fire", 90, 0, &["kiln"])]);
    let pq = commit(&mut s, &q);
    let pr = commit(&mut s, &r);
    assert_eq!((pq.start, pq.finish), (at(0, 8, 0), at(0, 9, 0)));
    assert_eq!((pr.start, pr.finish), (at(0, 13, 0), at(0, 14, 30)));
    // An X job takes p's setup (09:00-11:00), runs 11:00-12:00, and p then needs none.
    let x = order("x", "X", 0, vec![op_setup("fire", 60, 120, &["kiln"])]);
    let px = commit(&mut s, &x);
    assert_eq!(
        (px.bookings[0].setup_start, px.start, px.finish),
        (at(0, 9, 0), at(0, 11, 0), at(0, 12, 0))
    );
    let bp = s.order("p").unwrap().bookings[0].clone().unwrap();
    assert_eq!(
        (bp.setup_minutes, bp.setup_start, bp.start),
        (0, at(0, 12, 0), at(0, 12, 0))
    );
    check(&s, &wcs, &[p, q, r, x]);
}

// ---------------------------------------------------------------------------------------
// Restore, remove, completion.

/// A fresh schedule rebuilt from `s` as a server would after a restart: the work centres as
/// the schedule holds them (downtime included), the clock, then every order restored.
fn rebuilt(s: &Schedule) -> Schedule {
    let mut r = Schedule::new(
        s.origin(),
        s.horizon_days(),
        s.work_centres().cloned().collect(),
    )
    .unwrap();
    r.set_now(s.now()).unwrap();
    for id in s.order_ids() {
        r.restore(s.order(id).unwrap().into()).unwrap();
    }
    r
}

/// What a quote promises, without its private draft.
fn promised(p: &Promise) -> impl PartialEq + std::fmt::Debug + use<> {
    (p.bookings.clone(), p.start, p.finish, p.delivery, p.on_time)
}

fn assert_same(a: &Schedule, b: &Schedule) {
    assert_eq!(a.gantt(), b.gantt());
    assert_eq!(
        a.order_ids().collect::<Vec<_>>(),
        b.order_ids().collect::<Vec<_>>()
    );
    for id in a.order_ids() {
        assert_eq!(a.order(id), b.order(id), "order {id}");
    }
    for wc in a.work_centres() {
        assert_eq!(a.queue(&wc.id), b.queue(&wc.id));
    }
    assert_eq!(a.operation_count(), b.operation_count());
}

fn two_step(id: &str, sku: &str, release: Minute) -> Order {
    order(
        id,
        sku,
        release,
        vec![
            op("throw", 90, &["wheel"]),
            op_setup("fire", 240, 45, &["kiln", "kiln-2"]),
        ],
    )
}

fn shop() -> Vec<WorkCentre> {
    vec![
        centre("wheel", 2, 15, day_shift()),
        centre("kiln", 1, 30, day_shift()),
        centre("kiln-2", 1, 20, Calendar::weekdays(&[shift(360, 1320)])),
    ]
}

#[test]
fn a_restored_schedule_is_the_same_plan_and_quotes_the_same() {
    let mut wcs = shop();
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let orders = [
        two_step("a", "X", 0),
        two_step("b", "Y", 0),
        two_step("c", "X", at(0, 10, 0)),
        two_step("d", "Z", at(1, 0, 0)),
        order("e", "Y", 0, vec![op("throw", 30, &["wheel"])]),
    ];
    for o in &orders {
        commit(&mut s, o);
    }
    s.set_now(at(0, 10, 0)).unwrap();
    s.start_operation("a", 0).unwrap();
    s.complete_operation_at("a", 0, at(0, 9, 0)).unwrap();
    s.start_operation("a", 1).unwrap();
    s.start_operation("b", 0).unwrap();
    s.complete_operation("e", 0).unwrap();
    let d = s.mark_down("kiln-2", at(0, 12, 0), at(0, 14, 0)).unwrap();
    wcs[2].calendar.down.push(Period {
        from: d.from,
        to: d.to,
    });
    check(&s, &wcs, &orders);

    let mut r = rebuilt(&s);
    assert_same(&s, &r);
    check(&r, &wcs, &orders);
    assert_eq!(
        r.order_status("a"),
        Some(vec![OperationStatus::Done, OperationStatus::Started])
    );
    // The same new order is promised the same on both, and both commit it the same way.
    let f = two_step("f", "X", 0);
    let (qs, qr) = (s.insert(&f).unwrap(), r.insert(&f).unwrap());
    assert_eq!(promised(&qs), promised(&qr));
    s.commit(qs).unwrap();
    r.commit(qr).unwrap();
    assert_same(&s, &r);
}

#[test]
fn restore_refuses_bad_placements_and_changes_nothing() {
    let wcs = shop();
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let a = two_step("a", "X", 0);
    commit(&mut s, &a);
    let good: RestoredOrder = s.order("a").unwrap().into();

    let mut r = Schedule::new(ORIGIN, HORIZON, wcs).unwrap();
    r.restore(good.clone()).unwrap();
    let before = r.gantt();
    // A quote taken now must still commit after every refusal: nothing changed.
    let quote = r.insert(&two_step("q", "Z", 0)).unwrap();
    // Another order three days later: valid, so each case below has just its one fault.
    let renamed = |id: &str| {
        let mut o = good.clone();
        o.order.id = id.into();
        for b in o.bookings.iter_mut().flatten() {
            b.setup_start += 3 * DAY;
            b.start += 3 * DAY;
            b.end += 3 * DAY;
        }
        o
    };
    r.clone().restore(renamed("b")).unwrap();
    let mut refused = Vec::new();
    refused.push(r.restore(good.clone()).unwrap_err());
    // The same bars again under another id.
    let mut same = good.clone();
    same.order.id = "b".into();
    refused.push(r.restore(same).unwrap_err());
    let mut bad = renamed("b");
    bad.bookings[0].as_mut().unwrap().work_centre = "oven".into();
    refused.push(r.restore(bad).unwrap_err());
    let mut bad = renamed("b");
    bad.bookings[0].as_mut().unwrap().work_centre = "kiln".into();
    refused.push(r.restore(bad).unwrap_err());
    let mut bad = renamed("b");
    bad.bookings[0].as_mut().unwrap().machine = 2;
    refused.push(r.restore(bad).unwrap_err());
    let mut bad = renamed("b");
    bad.bookings.pop();
    refused.push(r.restore(bad).unwrap_err());
    let mut bad = renamed("b");
    bad.status.push(OperationStatus::Planned);
    refused.push(r.restore(bad).unwrap_err());
    let mut bad = renamed("b");
    let b = bad.bookings[0].as_mut().unwrap();
    b.end = b.start;
    refused.push(r.restore(bad).unwrap_err());
    let mut bad = renamed("b");
    bad.bookings[1] = None;
    bad.status[1] = OperationStatus::Started;
    bad.status[0] = OperationStatus::Started;
    refused.push(r.restore(bad).unwrap_err());
    let mut bad = renamed("b");
    bad.status[1] = OperationStatus::Done;
    refused.push(r.restore(bad).unwrap_err());
    let mut bad = renamed("b");
    bad.bookings[1].as_mut().unwrap().operation = 0;
    refused.push(r.restore(bad).unwrap_err());
    // Its own two operations on one machine, overlapping: moved in time, so only they clash.
    let mut bad = renamed("b");
    for b in bad.bookings.iter_mut().flatten() {
        b.work_centre = "kiln".into();
    }
    bad.order.operations[0].work_centres.push("kiln".into());
    let b0 = bad.bookings[0].clone().unwrap();
    let b1 = bad.bookings[1].as_mut().unwrap();
    (b1.setup_start, b1.start, b1.end) = (b0.end - 1, b0.end, b0.end + 60);
    refused.push(r.restore(bad).unwrap_err());

    let kinds: Vec<_> = refused
        .iter()
        .map(|e| match e {
            LiveError::DuplicateOrder { .. } => "duplicate",
            LiveError::Overlap { .. } => "overlap",
            LiveError::UnknownWorkCentre { .. } => "unknown work centre",
            LiveError::UnknownMachine { .. } => "unknown machine",
            LiveError::BadRestore { .. } => "bad",
            e => panic!("unexpected {e}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "duplicate",
            "overlap",
            "unknown work centre",
            "bad",
            "unknown machine",
            "bad",
            "bad",
            "bad",
            "bad",
            "bad",
            "bad",
            "overlap",
        ]
    );
    assert!(
        refused[3]
            .to_string()
            .contains("not one of its work centres")
    );
    assert_eq!(r.gantt(), before);
    assert_eq!(r.order_ids().collect::<Vec<_>>(), vec!["a"]);
    r.commit(quote).unwrap();
}

#[test]
fn removing_the_last_commit_gives_back_the_plan_before_it() {
    let wcs = shop();
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let (a, b) = (two_step("a", "X", 0), two_step("b", "X", 0));
    commit(&mut s, &a);
    let only_a = s.gantt();
    let qb = s.insert(&b).unwrap();
    s.commit(qb.clone()).unwrap();
    assert_eq!(s.operation_count(), 4);
    s.remove("b").unwrap();
    assert_eq!(s.gantt(), only_a);
    assert_eq!(s.order("b"), None);
    assert_eq!(s.order_ids().collect::<Vec<_>>(), vec!["a"]);
    assert_eq!(s.operation_count(), 2);
    assert!(s.queue("kiln").unwrap().iter().all(|g| g.order == "a"));
    let again = commit(&mut s, &b);
    assert_eq!(promised(&again), promised(&qb));
    check(&s, &wcs, &[a, b]);

    s.start_operation("a", 0).unwrap();
    assert!(matches!(
        s.remove("a"),
        Err(LiveError::OrderInProduction { .. })
    ));
    assert!(matches!(
        s.remove("zz"),
        Err(LiveError::UnknownOrder { .. })
    ));
    assert_eq!(s.operation_count(), 4);
}

#[test]
fn removing_an_order_sets_up_the_next_one_again_and_keeps_the_others_addressable() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    // a 08:30-09:30 after its setup, b batches behind it 09:30-10:30, c 11:00-12:00.
    let orders = [
        order("a", "X", 0, vec![op("fire", 60, &["kiln"])]),
        order("b", "X", 0, vec![op("fire", 60, &["kiln"])]),
        order("c", "Y", 0, vec![op("fire", 60, &["kiln"])]),
    ];
    for o in &orders {
        commit(&mut s, o);
    }
    s.remove("a").unwrap();
    // b now comes first on the machine: it is set up 09:00-09:30 and keeps its start.
    let bb = s.order("b").unwrap().bookings[0].clone().unwrap();
    assert_eq!(
        (bb.setup_minutes, bb.setup_start, bb.start),
        (30, at(0, 9, 0), at(0, 9, 30))
    );
    assert_eq!(s.order_ids().collect::<Vec<_>>(), vec!["b", "c"]);
    s.start_operation("c", 0).unwrap();
    assert_eq!(s.order("c").unwrap().status[0], OperationStatus::Started);
    // The freed morning takes new work; a new `a` is a new order.
    let a2 = order("a", "Z", 0, vec![op("fire", 20, &["kiln"])]);
    let p = commit(&mut s, &a2);
    assert_eq!((p.start, p.finish), (at(0, 8, 30), at(0, 8, 50)));
    check(&s, &wcs, &[a2, orders[1].clone(), orders[2].clone()]);
    assert_same(&s, &rebuilt(&s));
}

#[test]
fn removing_leaves_a_setup_that_no_longer_fits_as_it_was() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs).unwrap();
    commit(&mut s, &order("p", "X", 0, vec![op("fire", 60, &["kiln"])]));
    commit(
        &mut s,
        &order("b", "Y", 0, vec![op_setup("fire", 10, 5, &["kiln"])]),
    );
    commit(
        &mut s,
        &order("n", "Y", 0, vec![op_setup("fire", 60, 60, &["kiln"])]),
    );
    let n = s.order("n").unwrap().bookings[0].clone().unwrap();
    // n batches behind b (09:35-09:45) with no setup; without b it would need an hour
    // between p's end (09:30) and its start: it stays where it is.
    assert_eq!((n.setup_minutes, n.start), (0, at(0, 9, 45)));
    s.remove("b").unwrap();
    assert_eq!(s.order("n").unwrap().bookings[0], Some(n));
}

#[test]
fn an_early_completion_frees_the_rest_of_its_slot() {
    let wcs = vec![centre("kiln", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let a = order(
        "a",
        "X",
        0,
        vec![op("throw", 240, &["kiln"]), op("fire", 60, &["kiln"])],
    );
    let b = order("b", "Y", 0, vec![op("fire", 60, &["kiln"])]);
    commit(&mut s, &a);
    commit(&mut s, &b);
    // a: 08:00-12:00 and 12:00-13:00; b 13:00-14:00.
    assert!(matches!(
        s.complete_operation_at("a", 1, at(0, 12, 30)),
        Err(LiveError::OutOfOrder { .. })
    ));
    s.set_now(at(0, 10, 0)).unwrap();
    s.start_operation("a", 0).unwrap();
    s.complete_operation_at("a", 0, at(0, 10, 0)).unwrap();
    let plan = s.order("a").unwrap();
    let b0 = plan.bookings[0].clone().unwrap();
    assert_eq!((b0.start, b0.end), (at(0, 8, 0), at(0, 10, 0)));
    assert_eq!(plan.status[0], OperationStatus::Done);
    assert_eq!(plan.finish, Some(at(0, 13, 0)), "fire has not moved");
    // The two freed hours take new work.
    let c = order("c", "Z", 0, vec![op("glaze", 90, &["kiln"])]);
    let pc = commit(&mut s, &c);
    assert_eq!((pc.start, pc.finish), (at(0, 10, 0), at(0, 11, 30)));
    // The last operation done early brings the order's finish forward.
    s.start_operation("a", 1).unwrap();
    s.complete_operation_at("a", 1, at(0, 12, 20)).unwrap();
    assert_eq!(s.order("a").unwrap().finish, Some(at(0, 12, 20)));
    // Done before its slot began, with nothing after it set up from it: its bar leaves the
    // machine. Done late: nothing changes.
    s.start_operation("b", 0).unwrap();
    s.complete_operation_at("b", 0, at(0, 9, 0)).unwrap();
    let pb = s.order("b").unwrap();
    assert_eq!(pb.bookings, vec![None]);
    assert_eq!(pb.status, vec![OperationStatus::Done]);
    s.complete_operation_at("b", 0, at(0, 9, 5)).unwrap();
    s.complete_operation_at("c", 0, at(0, 15, 0)).unwrap();
    assert_eq!(s.order("c").unwrap().finish, Some(at(0, 11, 30)));
    check(&s, &wcs, &[a, b, c]);
    assert_same(&s, &rebuilt(&s));
}

/// Work done before its slot began gives the whole slot back, unless the planned work
/// after it is set up from its SKU and would need a setup without it: then one minute stays.
#[test]
fn work_done_ahead_of_plan_leaves_its_machine_unless_a_setup_rests_on_it() {
    let wcs = vec![centre("kiln", 1, 30, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs.clone()).unwrap();
    let fire = |id: &str, sku: &str| order(id, sku, 0, vec![op("fire", 60, &["kiln"])]);
    let orders = [
        fire("p", "X"),
        fire("q", "Y"),
        fire("r", "Y"),
        fire("t", "Y"),
    ];
    for o in &orders {
        commit(&mut s, o);
    }
    let bar = |s: &Schedule, id: &str| s.order(id).unwrap().bookings[0].clone();
    let (r, t) = (bar(&s, "r").unwrap(), bar(&s, "t").unwrap());
    assert_eq!(
        (r.setup_minutes, t.setup_minutes),
        (0, 0),
        "q, r and t batch"
    );
    let done_now = |s: &mut Schedule, id: &str| {
        s.start_operation(id, 0).unwrap();
        s.complete_operation_at(id, 0, 0).unwrap();
    };
    // r sits between q and t, all Y: t is set up from q just as well.
    done_now(&mut s, "r");
    assert_eq!(bar(&s, "r"), None);
    assert_eq!(bar(&s, "t"), Some(t.clone()), "t keeps its times and setup");
    // q follows p (X) and t needs no setup only after a Y: one minute of q stays.
    let q = bar(&s, "q").unwrap();
    done_now(&mut s, "q");
    let stub = bar(&s, "q").unwrap();
    assert_eq!(
        (stub.setup_start, stub.start, stub.end),
        (q.setup_start, q.start, q.start + 1)
    );
    // The freed hour takes new work of q's SKU, batched after the minute kept.
    let u = fire("u", "Y");
    assert_eq!(commit(&mut s, &u).start, q.start + 1);
    let mut all = orders.to_vec();
    all.push(u);
    check(&s, &wcs, &all);
    assert_same(&s, &rebuilt(&s));
}

// ---------------------------------------------------------------------------------------
// Properties on random tiny instances.

const SHIFTS: [(u16, u16); 5] = [(360, 840), (840, 1320), (0, 1440), (480, 720), (1200, 1440)];

fn arb_centre(i: usize) -> impl Strategy<Value = WorkCentre> {
    (
        1u16..=2,
        prop_oneof![Just(0u32), 1u32..=60],
        prop::collection::vec(prop::collection::vec(0..SHIFTS.len(), 0..=2), 7),
        prop::option::of(0i64..5),
    )
        .prop_map(move |(machines, setup, week, holiday)| {
            let mut cal = Calendar::default();
            for (d, shifts) in week.into_iter().enumerate() {
                cal.week[d] = shifts
                    .into_iter()
                    .map(|k| shift(SHIFTS[k].0, SHIFTS[k].1))
                    .collect();
            }
            // Always some working time, so most orders fit in the horizon.
            cal.week[0].push(shift(480, 960));
            cal.week[3].push(shift(480, 960));
            if let Some(h) = holiday {
                cal.holidays
                    .push(ORIGIN.checked_add(jiff::Span::new().days(h)).unwrap());
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
        1u32..=3,
    )
        .prop_map(move |(sku, release, ops, weight)| {
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
            o
        })
}

fn arb_instance() -> impl Strategy<Value = (Vec<WorkCentre>, Vec<Order>)> {
    (1usize..=3).prop_flat_map(|n| {
        let centres: Vec<_> = (0..n).map(arb_centre).collect();
        (
            centres,
            prop::collection::vec(Just(()), 1..=7)
                .prop_flat_map(move |v| (0..v.len()).map(|i| arb_order(i, n)).collect::<Vec<_>>()),
        )
    })
}

/// The earliest finish of a one-operation order, by trying every machine, every place
/// between its operations and every start minute. `orders` are the committed ones.
fn brute_force_finish(
    s: &Schedule,
    centres: &[WorkCentre],
    orders: &[Order],
    o: &Order,
) -> Option<Minute> {
    let op = &o.operations[0];
    let ready = o.release.max(s.now());
    let gantt = s.gantt();
    let mut best: Option<Minute> = None;
    for (w, wc) in centres.iter().enumerate() {
        if !op.work_centres.contains(&wc.id) {
            continue;
        }
        let cal = MinuteCalendar::new(wc, ORIGIN, HORIZON);
        let fwd = |s: Minute, p: i64| (s..=cal.len()).find(|&e| cal.work(s, e) == p);
        let back = |s: Minute, u: i64| (0..=s).rev().find(|&b| cal.work(b, s) == u);
        let setup = i64::from(op.setup_minutes.unwrap_or(wc.setup_minutes));
        // The setup the operation of bar `n` needs after a different SKU.
        let changeover = |n: &GanttBar| {
            let other = orders.iter().find(|c| c.id == n.order).unwrap();
            i64::from(
                other.operations[n.operation]
                    .setup_minutes
                    .unwrap_or(wc.setup_minutes),
            )
        };
        for bars in &gantt[w].machines {
            for i in 0..=bars.len() {
                let prev = i.checked_sub(1).map(|j| &bars[j]);
                let next = bars.get(i);
                let u = if prev.is_some_and(|p| p.sku == o.sku) {
                    0
                } else {
                    setup
                };
                let lo = prev.map_or(s.now(), |p| p.end.max(s.now()));
                let hi = next.map_or(cal.len(), |n| n.start);
                for start in ready.max(lo)..hi {
                    if !cal.working_at(start) {
                        continue;
                    }
                    let Some(setup_start) = back(start, u) else {
                        continue;
                    };
                    if setup_start < lo {
                        continue;
                    }
                    let Some(end) = fwd(start, i64::from(op.minutes)) else {
                        break;
                    };
                    if best.is_some_and(|b| end >= b) {
                        break;
                    }
                    let fits = match next {
                        None => true,
                        Some(n) if n.status != OperationStatus::Planned => end <= n.setup_start,
                        Some(n) => {
                            let un = if n.sku == o.sku { 0 } else { changeover(n) };
                            back(n.start, un).is_some_and(|b| end <= b)
                        }
                    };
                    if fits {
                        best = Some(end);
                        break;
                    }
                }
            }
        }
    }
    best
}

fn snapshot(s: &Schedule) -> HashMap<(String, usize), (usize, usize, Minute, Minute)> {
    placements(s)
        .into_iter()
        .map(|(k, p)| (k, (p.wc, p.machine, p.start, p.end)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn removing_the_last_commits_gives_back_the_earlier_plans(
        (centres, orders) in arb_instance(),
        undo in 1usize..=7,
    ) {
        let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        let mut committed: Vec<Order> = Vec::new();
        let mut plans = vec![s.gantt()];
        for o in &orders {
            if let Ok(q) = s.insert(o) {
                s.commit(q).unwrap();
                committed.push(o.clone());
                plans.push(s.gantt());
            }
        }
        // Rolled back newest first, each removal gives back the plan before that commit.
        for _ in 0..undo.min(committed.len()) {
            let o = committed.pop().unwrap();
            s.remove(&o.id).unwrap();
            plans.pop();
            prop_assert_eq!(&s.gantt(), plans.last().unwrap());
            check(&s, &centres, &committed);
        }
    }

    #[test]
    fn after_removals_the_plan_is_feasible_and_a_rebuild_reproduces_it(
        (mut centres, mut orders) in arb_instance(),
        keep in prop::collection::vec(any::<bool>(), 7),
        now in 0i64..3 * DAY,
        early in 0i64..300,
        down in prop::option::of((0usize..3, 0i64..4 * DAY, 1i64..DAY)),
    ) {
        // Work-centre setups only: with an operation's own setup, the one after a removed
        // bar may need more than the freed gap, and is then (by design) left as it was.
        for o in &mut orders {
            for op in &mut o.operations {
                op.setup_minutes = None;
            }
        }
        let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        let mut committed = Vec::new();
        for o in &orders {
            if let Ok(q) = s.insert(o) {
                s.commit(q).unwrap();
                committed.push(o.clone());
            }
        }
        let mut kept = Vec::new();
        for (i, o) in committed.into_iter().enumerate() {
            if keep[i] {
                kept.push(o);
            } else {
                s.remove(&o.id).unwrap();
                prop_assert!(s.order(&o.id).is_none());
            }
        }
        check(&s, &centres, &kept);
        // The shop floor moves on: what began is started, what ended is done (some early).
        s.set_now(now).unwrap();
        for o in &kept {
            let plan = s.order(&o.id).unwrap();
            for (k, b) in plan.bookings.iter().enumerate() {
                let b = b.as_ref().unwrap();
                if b.start >= now {
                    break;
                }
                s.start_operation(&o.id, k).unwrap();
                if b.end <= now {
                    s.complete_operation_at(&o.id, k, b.end - early).unwrap();
                }
                let refused = matches!(s.remove(&o.id), Err(LiveError::OrderInProduction { .. }));
                prop_assert!(refused, "an order in production was removed");
            }
        }
        if let Some((wc, from, len)) = down {
            let wc = wc % centres.len();
            let d = s.mark_down(&centres[wc].id.clone(), from, from + len).unwrap();
            if d.from < d.to {
                centres[wc].calendar.down.push(Period { from: d.from, to: d.to });
            }
        }
        check(&s, &centres, &kept);
        let r = rebuilt(&s);
        assert_same(&s, &r);
        check(&r, &centres, &kept);
        let mut extra = orders[0].clone();
        extra.id = "extra".into();
        match (s.insert(&extra), r.insert(&extra)) {
            (Ok(a), Ok(b)) => prop_assert_eq!(promised(&a), promised(&b)),
            (a, b) => prop_assert_eq!(a.err(), b.err()),
        }
    }

    /// Retiring finished orders leaves the schedule a restart restoring only the others
    /// would build: the same plan, and the same promise for new work.
    #[test]
    fn retiring_done_orders_is_a_rebuild_without_them(
        (centres, orders) in arb_instance(),
        finish in prop::collection::vec(any::<bool>(), 7),
        ask in prop::collection::vec(any::<bool>(), 7),
        now in 0i64..3 * DAY,
    ) {
        let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        let mut committed = Vec::new();
        for o in &orders {
            if let Ok(q) = s.insert(o) {
                s.commit(q).unwrap();
                committed.push(o.clone());
            }
        }
        s.set_now(now).unwrap();
        for (i, o) in committed.iter().enumerate().filter(|(i, _)| finish[*i]) {
            let ops = o.operations.len();
            for k in 0..ops {
                s.start_operation(&o.id, k).unwrap();
                s.complete_operation(&o.id, k).unwrap();
            }
            // Half of them finished early, their bars cut short.
            if i % 2 == 0 {
                let _ = s.complete_operation_at(&o.id, ops - 1, now);
            }
        }
        let asked: Vec<String> = committed
            .iter()
            .enumerate()
            .filter(|(i, _)| ask[*i])
            .map(|(_, o)| o.id.clone())
            .collect();
        // Expected: a fresh schedule with only the orders that stay, restored as they are.
        // A finished order stays while planned work after one of its bars is set up from it.
        let gantt = s.gantt();
        let followed_by_plan = |id: &str| {
            gantt.iter().flat_map(|g| &g.machines).any(|bars| {
                bars.windows(2)
                    .any(|w| w[0].order == id && w[1].status == OperationStatus::Planned)
            })
        };
        let goes = |i: usize| ask[i] && finish[i] && !followed_by_plan(&committed[i].id);
        let mut expected = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        expected.set_now(now).unwrap();
        for (_, o) in committed.iter().enumerate().filter(|(i, _)| !goes(*i)) {
            expected.restore(s.order(&o.id).unwrap().into()).unwrap();
        }
        let left = s.retire(&asked);
        let stay: Vec<String> = committed
            .iter()
            .enumerate()
            .filter(|(i, _)| ask[*i] && !goes(*i))
            .map(|(_, o)| o.id.clone())
            .collect();
        prop_assert_eq!(left, stay);
        assert_same(&s, &expected);
        let kept: Vec<Order> = committed
            .iter()
            .filter(|o| expected.order(&o.id).is_some())
            .cloned()
            .collect();
        check(&s, &centres, &kept);
        let mut extra = orders[0].clone();
        extra.id = "extra".into();
        match (s.insert(&extra), expected.insert(&extra)) {
            (Ok(a), Ok(b)) => prop_assert_eq!(promised(&a), promised(&b)),
            (a, b) => prop_assert_eq!(a.err(), b.err()),
        }
    }

    #[test]
    fn insert_is_feasible_never_moves_committed_work_and_is_earliest_for_one_operation(
        (centres, orders) in arb_instance(),
    ) {
        let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        let mut committed: Vec<Order> = Vec::new();
        for o in &orders {
            let before = snapshot(&s);
            let gantt = s.gantt();
            let q = match s.insert(o) {
                Ok(q) => q,
                Err(LiveError::NoCapacity { .. }) => continue,
                Err(e) => panic!("{e}"),
            };
            prop_assert_eq!(&s.gantt(), &gantt, "a quote must not book");
            if o.operations.len() == 1 {
                let brute = brute_force_finish(&s, &centres, &committed, o);
                prop_assert_eq!(Some(q.finish), brute, "{:?}", q.bookings);
            }
            s.commit(q.clone()).unwrap();
            committed.push(o.clone());
            let after = snapshot(&s);
            for (k, v) in &before {
                prop_assert_eq!(after.get(k), Some(v), "committed {:?} moved", k);
            }
            for b in &q.bookings {
                let p = after[&(o.id.clone(), b.operation)];
                prop_assert_eq!((p.2, p.3), (b.start, b.end));
            }
            check(&s, &centres, &committed);
        }
    }

    #[test]
    fn mark_down_is_feasible_and_keeps_work_out_of_the_downtime(
        (mut centres, orders) in arb_instance(),
        now in 0i64..3 * DAY,
        downs in prop::collection::vec((0usize..3, 0i64..4 * DAY, 1i64..2 * DAY), 1..=2),
    ) {
        let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        let mut committed = Vec::new();
        for o in &orders {
            if let Ok(q) = s.insert(o) {
                s.commit(q).unwrap();
                committed.push(o.clone());
            }
        }
        // The shop floor at `now`: what began is started, what ended is done.
        s.set_now(now).unwrap();
        for o in &committed {
            let plan = s.order(&o.id).unwrap();
            for (k, b) in plan.bookings.iter().enumerate() {
                let b = b.as_ref().unwrap();
                if b.start < now {
                    s.start_operation(&o.id, k).unwrap();
                    if b.end <= now {
                        s.complete_operation(&o.id, k).unwrap();
                    }
                } else {
                    break;
                }
            }
        }
        for (wc, from, len) in downs {
            let before = placements(&s);
            let wc = wc % centres.len();
            let id = centres[wc].id.clone();
            let d = s.mark_down(&id, from, from + len).unwrap();
            if d.from < d.to {
                centres[wc].calendar.down.push(Period { from: d.from, to: d.to });
            }
            check(&s, &centres, &committed);
            let after = placements(&s);
            for (k, p) in &before {
                let q = after.get(k);
                if p.status != OperationStatus::Planned {
                    let q = q.expect("fixed work stays on the plan");
                    prop_assert_eq!((q.wc, q.machine, q.start), (p.wc, p.machine, p.start));
                    if p.status == OperationStatus::Done {
                        prop_assert_eq!(q.end, p.end);
                    }
                } else if let Some(q) = q && (q.start, q.end) != (p.start, p.end) {
                    prop_assert!(q.setup_start >= now, "moved into the past: {:?}", q);
                }
            }
            // Every order whose finish changed is reported, with both dates.
            let finish = |m: &HashMap<(String, usize), Placed>, o: &Order| {
                let ends: Vec<Minute> =
                    m.iter().filter(|(k, _)| k.0 == o.id).map(|(_, p)| p.end).collect();
                (ends.len() == o.operations.len()).then(|| ends.into_iter().max()).flatten()
            };
            for o in &committed {
                let (old, new) = (finish(&before, o), finish(&after, o));
                if old != new {
                    let c = d.orders.iter().find(|c| c.order == o.id);
                    prop_assert!(c.is_some(), "{} finish {:?} -> {:?} unreported", o.id, old, new);
                    let c = c.unwrap();
                    prop_assert_eq!((c.old_finish, c.new_finish), (old, new));
                }
            }
        }
        // Promising still works around started work and downtime.
        let mut extra = orders[0].clone();
        extra.id = "extra".into();
        if let Ok(q) = s.insert(&extra) {
            prop_assert!(q.bookings.iter().all(|b| b.setup_start >= now));
            if extra.operations.len() == 1 {
                prop_assert_eq!(
                    Some(q.finish),
                    brute_force_finish(&s, &centres, &committed, &extra)
                );
            }
            s.commit(q).unwrap();
            committed.push(extra);
            check(&s, &centres, &committed);
        }
    }
}

// ---------------------------------------------------------------------------------------
// `place` (insert + commit without copying timelines) and the free-stretch index.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `place` books what `insert` + `commit` would.
    #[test]
    fn place_books_what_insert_and_commit_book((centres, orders) in arb_instance()) {
        let mut a = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        let mut b = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        for o in &orders {
            let expected = a.insert(o);
            let before = b.gantt();
            let placed = b.place(o);
            match (expected, placed) {
                (Ok(e), Ok(p)) => {
                    prop_assert_eq!(&e.bookings, &p.bookings);
                    prop_assert_eq!(e.delivery, p.delivery);
                    a.commit(e).unwrap();
                }
                (Err(e), Err(p)) => {
                    prop_assert_eq!(&e, &p);
                    prop_assert_eq!(b.gantt(), before);
                }
                (e, p) => prop_assert!(false, "insert {e:?}, place {p:?}"),
            }
            prop_assert_eq!(a.gantt(), b.gantt());
        }
        check(&b, &centres, &orders);
    }

    /// On a long queue with random gaps, a new operation lands in the first gap that holds
    /// it: the index of free stretches skips only gaps that are too short.
    #[test]
    fn long_queues_still_find_the_first_gap_that_fits(
        bars in proptest::collection::vec((0i64..600, 1u32..90), 50..400),
        minutes in 1u32..240,
        release in 0i64..(5 * DAY),
    ) {
        let all_day = Calendar { week: std::array::from_fn(|_| vec![shift(0, 1440)]), ..Calendar::default() };
        let mut s = Schedule::new(ORIGIN, 400, vec![centre("m", 1, 0, all_day)]).unwrap();
        // Each order released some gap after the previous one's end: a packed queue
        // with holes of every size.
        let mut t = 0;
        for (i, (gap, len)) in bars.iter().enumerate() {
            let o = order(&format!("q{i}"), "s", t + gap, vec![op("x", *len, &["m"])]);
            t = s.place(&o).unwrap().finish;
        }
        let busy: Vec<(Minute, Minute)> = s.gantt()[0].machines[0].iter().map(|b| (b.setup_start, b.end)).collect();
        let m = Minute::from(minutes);
        let mut start = release;
        for &(a, e) in &busy {
            if start + m <= a {
                break;
            }
            start = start.max(e);
        }
        let p = s.insert(&order("new", "s", release, vec![op("x", minutes, &["m"])])).unwrap();
        prop_assert_eq!(p.bookings[0].start, start);
    }
}

#[test]
fn work_started_ahead_of_plan_moves_to_when_it_began() {
    let centres = vec![centre("wc", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
    let late = order(
        "late",
        "A",
        at(2, 8, 0),
        vec![op_setup("x", 60, 15, &["wc"]), op("y", 30, &["wc"])],
    );
    commit(&mut s, &late);
    let planned = s.order("late").unwrap().bookings[0].clone().unwrap();
    // Set up at the end of Tuesday's shift, ready when the material arrives.
    assert_eq!(
        (planned.setup_start, planned.start),
        (at(1, 15, 45), at(2, 8, 0))
    );
    // The operator starts it on Monday at 09:00 instead.
    s.start_operation_at("late", 0, at(0, 9, 0)).unwrap();
    let b = s.order("late").unwrap().bookings[0].clone().unwrap();
    assert_eq!(
        (b.setup_start, b.start, b.end),
        (at(0, 9, 0), at(0, 9, 15), at(0, 10, 15))
    );
    // Started means the material was there after all; what follows keeps its place.
    let y = s.order("late").unwrap().bookings[1].clone().unwrap();
    assert!(y.setup_start >= b.end);
    // A start before the machine is free, or after the planned start, keeps the plan.
    let mut t = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
    let first = order("first", "A", 0, vec![op("x", 120, &["wc"])]);
    commit(&mut t, &first);
    commit(&mut t, &late);
    let before = t.order("late").unwrap().bookings[0].clone();
    t.start_operation("first", 0).unwrap();
    t.start_operation_at("late", 0, at(0, 9, 0)).unwrap();
    assert_eq!(
        t.order("late").unwrap().bookings[0],
        before,
        "the machine was busy at 09:00"
    );
}

#[test]
fn freed_time_shows_which_orders_could_come_earlier() {
    let wcs = vec![centre("kiln", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, wcs).unwrap();
    // A full shift each on the one machine: Monday, Tuesday, Wednesday.
    for id in ["a", "b", "c"] {
        s.place(&order(id, id, 0, vec![op("fire", 480, &["kiln"])]))
            .unwrap();
    }
    assert!(s.earlier(10).is_empty(), "all booked back to back");
    let before: Vec<_> = ["b", "c"]
        .iter()
        .map(|id| s.order(*id).unwrap().promised)
        .collect();
    s.remove("a").unwrap();
    let earlier = s.earlier(10);
    let ids: Vec<&str> = earlier.iter().map(|e| e.order.as_str()).collect();
    assert_eq!(ids, vec!["b", "c"], "Monday is free for either");
    for e in &earlier {
        assert!(e.possible < e.promised, "{e:?}");
        assert_eq!(
            e.possible,
            date(2025, 6, 4),
            "Monday's finish and two ship days"
        );
    }
    // A report only: nothing moved.
    let after: Vec<_> = ["b", "c"]
        .iter()
        .map(|id| s.order(*id).unwrap().promised)
        .collect();
    assert_eq!(before, after);
    assert_eq!(s.earlier(1).len(), 1, "at most `limit` tried");
}
