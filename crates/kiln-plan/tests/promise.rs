//! Hand-computed promise and replan examples. 2025-06-02 is a Monday.

use jiff::civil::{Date, date};
use kiln_plan::{
    Booking, CapacityLedger, Downtime, PlanError, PlannedOrder, RoutingDemand, WorkCenterCalendar,
    promise, replan, replan_onto,
};

const MON: Date = date(2025, 6, 2);
const TUE: Date = date(2025, 6, 3);
const WED: Date = date(2025, 6, 4);
const THU: Date = date(2025, 6, 5);
const FRI: Date = date(2025, 6, 6);
const NEXT_MON: Date = date(2025, 6, 9);
const NEXT_TUE: Date = date(2025, 6, 10);

fn weekdays(id: &str, machines: u32, minutes_per_day: u32) -> WorkCenterCalendar {
    WorkCenterCalendar {
        id: id.into(),
        machines,
        minutes_per_day,
        weekdays: vec![1, 2, 3, 4, 5],
        down: vec![],
    }
}

fn step(operation: &str, work_center: &str, minutes: u64) -> RoutingDemand {
    RoutingDemand {
        operation: operation.into(),
        work_center: work_center.into(),
        minutes,
    }
}

fn booking(operation: &str, work_center: &str, day: Date, minutes: u64) -> Booking {
    Booking {
        operation: operation.into(),
        work_center: work_center.into(),
        day,
        minutes,
    }
}

#[test]
fn two_operations_across_a_weekend() {
    let cals = [weekdays("wheel", 1, 480), weekdays("kiln", 1, 600)];
    let steps = [step("throw", "wheel", 600), step("fire", "kiln", 700)];
    let p = promise(&cals, &CapacityLedger::new(), &steps, FRI, 3, 60).unwrap();
    assert_eq!(
        p.bookings,
        vec![
            booking("throw", "wheel", FRI, 480),
            booking("throw", "wheel", NEXT_MON, 120),
            booking("fire", "kiln", NEXT_MON, 600),
            booking("fire", "kiln", NEXT_TUE, 100),
        ]
    );
    assert_eq!(p.start, FRI);
    assert_eq!(p.finish, NEXT_TUE);
    assert_eq!(p.delivery, date(2025, 6, 13));
}

#[test]
fn next_operation_may_start_the_same_day() {
    let cals = [weekdays("wheel", 1, 480), weekdays("kiln", 1, 600)];
    let steps = [step("throw", "wheel", 100), step("fire", "kiln", 100)];
    let p = promise(&cals, &CapacityLedger::new(), &steps, MON, 0, 60).unwrap();
    assert_eq!(p.bookings.len(), 2);
    assert!(p.bookings.iter().all(|b| b.day == MON));
    assert_eq!((p.start, p.finish, p.delivery), (MON, MON, MON));
}

#[test]
fn operation_split_over_three_days() {
    let cals = [weekdays("glaze", 2, 240)];
    let steps = [step("dip", "glaze", 1200)];
    let p = promise(&cals, &CapacityLedger::new(), &steps, MON, 1, 60).unwrap();
    assert_eq!(
        p.bookings,
        vec![
            booking("dip", "glaze", MON, 480),
            booking("dip", "glaze", TUE, 480),
            booking("dip", "glaze", WED, 240),
        ]
    );
    assert_eq!((p.start, p.finish, p.delivery), (MON, WED, THU));
}

#[test]
fn day_partly_booked_by_the_ledger() {
    let cals = [weekdays("kiln", 1, 480)];
    let mut ledger = CapacityLedger::new();
    ledger.book("kiln", MON, 400);
    let steps = [step("fire", "kiln", 200)];
    let p = promise(&cals, &ledger, &steps, MON, 0, 60).unwrap();
    assert_eq!(
        p.bookings,
        vec![
            booking("fire", "kiln", MON, 80),
            booking("fire", "kiln", TUE, 120)
        ]
    );
    // promise() leaves the ledger alone; apply() books it.
    assert_eq!(ledger.booked("kiln", TUE), 0);
    ledger.apply(&p);
    assert_eq!(ledger.booked("kiln", MON), 480);
    assert_eq!(ledger.booked("kiln", TUE), 120);
    ledger.unapply(&p);
    assert_eq!(ledger.booked("kiln", MON), 400);
}

#[test]
fn fully_booked_day_is_skipped_and_overbooking_is_tolerated() {
    let cals = [weekdays("kiln", 1, 480)];
    let mut ledger = CapacityLedger::new();
    // Over capacity, as a ledger can be right after new downtime and before a replan.
    ledger.book("kiln", MON, 900);
    let p = promise(&cals, &ledger, &[step("fire", "kiln", 10)], MON, 0, 60).unwrap();
    assert_eq!(p.bookings, vec![booking("fire", "kiln", TUE, 10)]);
    assert_eq!(p.start, TUE);
}

#[test]
fn same_work_center_twice_shares_the_day() {
    let cals = [weekdays("kiln", 1, 480)];
    let steps = [step("bisque", "kiln", 300), step("glost", "kiln", 300)];
    let p = promise(&cals, &CapacityLedger::new(), &steps, MON, 0, 60).unwrap();
    assert_eq!(
        p.bookings,
        vec![
            booking("bisque", "kiln", MON, 300),
            booking("glost", "kiln", MON, 180),
            booking("glost", "kiln", TUE, 120),
        ]
    );
}

#[test]
fn downtime_pushes_the_promise() {
    let mut kiln = weekdays("kiln", 1, 480);
    let steps = [step("fire", "kiln", 800)];
    let before = promise(&[kiln.clone()], &CapacityLedger::new(), &steps, MON, 2, 60).unwrap();
    assert_eq!(before.finish, TUE);
    kiln.down.push(Downtime { from: TUE, to: WED });
    let after = promise(&[kiln], &CapacityLedger::new(), &steps, MON, 2, 60).unwrap();
    assert_eq!(
        after.bookings,
        vec![
            booking("fire", "kiln", MON, 480),
            booking("fire", "kiln", THU, 320)
        ]
    );
    assert_eq!(after.finish, THU);
    assert_eq!(after.delivery, date(2025, 6, 7));
}

#[test]
fn release_is_respected() {
    let cals = [weekdays("kiln", 1, 480)];
    let p = promise(
        &cals,
        &CapacityLedger::new(),
        &[step("fire", "kiln", 10)],
        WED,
        0,
        60,
    )
    .unwrap();
    assert_eq!(p.start, WED);
    // Released on a Saturday: the first working day is Monday.
    let p = promise(
        &cals,
        &CapacityLedger::new(),
        &[step("fire", "kiln", 10)],
        date(2025, 6, 7),
        0,
        60,
    )
    .unwrap();
    assert_eq!(p.start, NEXT_MON);
}

#[test]
fn empty_routing_and_zero_minute_steps_book_nothing() {
    let cals = [weekdays("kiln", 1, 480)];
    let p = promise(&cals, &CapacityLedger::new(), &[], date(2025, 6, 7), 2, 0).unwrap();
    assert!(p.bookings.is_empty());
    assert_eq!(
        (p.start, p.finish, p.delivery),
        (date(2025, 6, 7), date(2025, 6, 7), NEXT_MON)
    );
    let steps = [step("fire", "kiln", 100), step("inspect", "kiln", 0)];
    let p = promise(&cals, &CapacityLedger::new(), &steps, MON, 0, 60).unwrap();
    assert_eq!(p.bookings.len(), 1);
    assert_eq!(p.finish, MON);
}

#[test]
fn unknown_work_center_is_an_error() {
    let cals = [weekdays("kiln", 1, 480)];
    let err = promise(
        &cals,
        &CapacityLedger::new(),
        &[step("x", "laser", 1)],
        MON,
        0,
        60,
    )
    .unwrap_err();
    assert_eq!(
        err,
        PlanError::UnknownWorkCenter {
            work_center: "laser".into()
        }
    );
}

#[test]
fn no_capacity_within_horizon_is_an_error() {
    let no_machines = [weekdays("kiln", 0, 480)];
    let err = promise(
        &no_machines,
        &CapacityLedger::new(),
        &[step("fire", "kiln", 1)],
        MON,
        0,
        365,
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::NoCapacity { ref work_center, .. } if work_center == "kiln"));

    let mut down_forever = weekdays("kiln", 1, 480);
    down_forever.down.push(Downtime {
        from: MON,
        to: Date::MAX,
    });
    let err = promise(
        &[down_forever],
        &CapacityLedger::new(),
        &[step("fire", "kiln", 1)],
        MON,
        0,
        365,
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::NoCapacity { .. }));

    // 960 minutes need Mon and Tue: a two-day horizon fits, a one-day horizon does not.
    let cals = [weekdays("kiln", 1, 480)];
    let steps = [step("fire", "kiln", 960)];
    assert!(promise(&cals, &CapacityLedger::new(), &steps, MON, 0, 2).is_ok());
    assert!(promise(&cals, &CapacityLedger::new(), &steps, MON, 0, 1).is_err());
}

fn order(id: &str, minutes: u64, delivery: Date) -> PlannedOrder {
    PlannedOrder {
        id: id.into(),
        steps: vec![step("fire", "kiln", minutes)],
        release: MON,
        ship_days: 0,
        delivery,
    }
}

#[test]
fn replan_after_downtime_moves_only_what_it_must() {
    let mut kiln = weekdays("kiln", 1, 480);
    let orders = [
        order("A", 480, MON),
        order("B", 480, TUE),
        order("C", 100, WED),
    ];

    // Nothing changed: nothing moves, and the ledger is exactly the promises.
    let same = replan(&[kiln.clone()], &orders, 60);
    assert!(same.orders.iter().all(|o| !o.moved));
    assert_eq!(same.ledger.booked("kiln", MON), 480);
    assert_eq!(same.ledger.booked("kiln", TUE), 480);
    assert_eq!(same.ledger.booked("kiln", WED), 100);

    kiln.down.push(Downtime { from: TUE, to: TUE });
    let r = replan(&[kiln], &orders, 60);
    let summary: Vec<_> = r
        .orders
        .iter()
        .map(|o| (o.id.as_str(), o.delivery(), o.moved))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("A", Some(MON), false),
            ("B", Some(WED), true),
            ("C", Some(THU), true)
        ]
    );
    assert_eq!(r.ledger.booked("kiln", TUE), 0);
    assert_eq!(r.ledger.booked("kiln", WED), 480);
    assert_eq!(r.ledger.booked("kiln", THU), 100);
}

#[test]
fn replan_reports_orders_that_no_longer_fit() {
    let mut kiln = weekdays("kiln", 1, 480);
    kiln.down.push(Downtime {
        from: MON,
        to: Date::MAX,
    });
    let r = replan(
        &[kiln, weekdays("wheel", 1, 480)],
        &[
            order("A", 480, MON),
            PlannedOrder {
                steps: vec![step("throw", "wheel", 60)],
                ..order("B", 0, MON)
            },
        ],
        30,
    );
    assert!(r.orders[0].promise.is_err());
    assert!(r.orders[0].moved);
    assert_eq!(r.orders[0].delivery(), None);
    assert_eq!(r.orders[1].delivery(), Some(MON));
    assert!(!r.orders[1].moved);
}

#[test]
fn replan_onto_fits_around_work_that_cannot_move() {
    let mut kiln = weekdays("kiln", 1, 480);
    kiln.down.push(Downtime { from: TUE, to: TUE });
    // Started work holds Wednesday morning; B must take what is left.
    let mut fixed = CapacityLedger::new();
    fixed.book("kiln", WED, 400);
    let b = PlannedOrder {
        release: TUE,
        ..order("B", 480, TUE)
    };
    let r = replan_onto(fixed, &[kiln], &[b], 60);
    let b = r.orders[0].promise.as_ref().unwrap();
    assert_eq!(
        b.bookings,
        vec![
            booking("fire", "kiln", WED, 80),
            booking("fire", "kiln", THU, 400)
        ]
    );
    assert_eq!(r.ledger.booked("kiln", WED), 480, "fixed load is kept");
    assert!(r.orders[0].moved);
}
