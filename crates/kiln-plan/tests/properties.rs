//! Property tests on small random factories: calendars, existing load and routings.

use std::collections::HashMap;

use jiff::{
    ToSpan,
    civil::{Date, date},
};
use kiln_plan::{
    CapacityLedger, Downtime, PlanError, PlannedOrder, RoutingDemand, WorkCenterCalendar, promise,
    replan,
};
use proptest::prelude::*;

const BASE: Date = date(2025, 6, 2);
const CENTERS: usize = 3;

fn day(offset: u32) -> Date {
    BASE.checked_add(i64::from(offset).days()).unwrap()
}

fn calendar(i: usize) -> impl Strategy<Value = WorkCenterCalendar> {
    (
        // Mostly working centres, sometimes dead ones (no machines, no minutes, no days).
        prop_oneof![1 => Just(0u32), 6 => 1u32..3],
        prop_oneof![1 => Just(0u32), 6 => 1u32..600],
        proptest::collection::vec(proptest::bool::weighted(0.7), 7),
        proptest::collection::vec((0u32..40, 0u32..10), 0..3),
    )
        .prop_map(
            move |(machines, minutes_per_day, days, down)| WorkCenterCalendar {
                id: format!("wc{i}"),
                machines,
                minutes_per_day,
                weekdays: (1u8..=7).filter(|d| days[usize::from(*d - 1)]).collect(),
                down: down
                    .into_iter()
                    .map(|(from, len)| Downtime {
                        from: day(from),
                        to: day(from + len),
                    })
                    .collect(),
            },
        )
}

fn calendars() -> impl Strategy<Value = Vec<WorkCenterCalendar>> {
    (calendar(0), calendar(1), calendar(2)).prop_map(|(a, b, c)| vec![a, b, c])
}

fn ledger() -> impl Strategy<Value = CapacityLedger> {
    proptest::collection::vec((0..CENTERS, 0u32..40, 0u64..1500), 0..20).prop_map(|entries| {
        let mut ledger = CapacityLedger::new();
        for (wc, offset, minutes) in entries {
            ledger.book(&format!("wc{wc}"), day(offset), minutes);
        }
        ledger
    })
}

fn steps() -> impl Strategy<Value = Vec<RoutingDemand>> {
    proptest::collection::vec((0..CENTERS, prop_oneof![Just(0u64), 1u64..2000]), 0..5).prop_map(
        |steps| {
            steps
                .into_iter()
                .enumerate()
                .map(|(i, (wc, minutes))| RoutingDemand {
                    operation: format!("op{i}"),
                    work_center: format!("wc{wc}"),
                    minutes,
                })
                .collect()
        },
    )
}

fn capacity(calendars: &[WorkCenterCalendar], wc: &str, day: Date) -> u64 {
    calendars
        .iter()
        .find(|c| c.id == wc)
        .unwrap()
        .capacity_on(day)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn promises_respect_capacity_order_and_release(
        cals in calendars(),
        ledger in ledger(),
        steps in steps(),
        release in 0u32..20,
        ship_days in 0u32..10,
        horizon in 1u32..120,
    ) {
        let release = day(release);
        match promise(&cals, &ledger, &steps, release, ship_days, horizon) {
            Ok(p) => {
                // Bookings never exceed what was free on any day.
                let mut own: HashMap<(String, Date), u64> = HashMap::new();
                for b in &p.bookings {
                    prop_assert!(b.minutes > 0);
                    prop_assert!(b.day >= release);
                    *own.entry((b.work_center.clone(), b.day)).or_default() += b.minutes;
                }
                for ((wc, d), minutes) in &own {
                    let free = capacity(&cals, wc, *d).saturating_sub(ledger.booked(wc, *d));
                    prop_assert!(*minutes <= free, "{wc} {d}: {minutes} > {free}");
                }

                // Each step is fully booked, in routing order, and placed as early as possible:
                // every day between the previous step's end and this step's end that the step
                // did not fill had no free minutes left.
                let mut cursor = release;
                let mut taken: HashMap<(String, Date), u64> = HashMap::new();
                let mut index = 0;
                for step in &steps {
                    let mine: Vec<_> = p.bookings[index..]
                        .iter()
                        .take_while(|b| b.operation == step.operation)
                        .collect();
                    index += mine.len();
                    prop_assert_eq!(mine.iter().map(|b| b.minutes).sum::<u64>(), step.minutes);
                    let end = mine.last().map_or(cursor, |b| b.day);
                    prop_assert!(mine.windows(2).all(|w| w[0].day < w[1].day));
                    prop_assert!(mine.first().is_none_or(|b| b.day >= cursor));
                    let mut d = cursor;
                    while d < end {
                        let key = (step.work_center.clone(), d);
                        let free = capacity(&cals, &step.work_center, d)
                            .saturating_sub(ledger.booked(&step.work_center, d))
                            .saturating_sub(taken.get(&key).copied().unwrap_or(0));
                        let used = mine.iter().find(|b| b.day == d).map_or(0, |b| b.minutes);
                        prop_assert_eq!(used, free, "{} left capacity unused on {}", step.operation, d);
                        d = d.tomorrow().unwrap();
                    }
                    for b in &mine {
                        *taken.entry((b.work_center.clone(), b.day)).or_default() += b.minutes;
                    }
                    cursor = end;
                }
                prop_assert_eq!(index, p.bookings.len());
                prop_assert_eq!(p.finish, cursor);
                prop_assert!(p.start >= release && p.start <= p.finish);
                prop_assert_eq!(p.delivery, p.finish.checked_add(i64::from(ship_days).days()).unwrap());
                prop_assert!(p.finish < release.checked_add(i64::from(horizon).days()).unwrap());
            }
            Err(e) => {
                let is_no_capacity = matches!(e, PlanError::NoCapacity { .. });
                prop_assert!(is_no_capacity, "unexpected error {e:?}");
            }
        }
    }

    #[test]
    fn applying_promises_never_overbooks_a_clean_ledger(
        cals in calendars(),
        routings in proptest::collection::vec(steps(), 1..6),
    ) {
        let mut ledger = CapacityLedger::new();
        for steps in &routings {
            if let Ok(p) = promise(&cals, &ledger, steps, BASE, 0, 90) {
                ledger.apply(&p);
            }
        }
        for cal in &cals {
            for (d, minutes) in ledger.days(&cal.id) {
                prop_assert!(minutes <= cal.capacity_on(d));
            }
        }
    }

    #[test]
    fn replan_without_change_moves_nothing_and_with_downtime_never_overbooks(
        cals in calendars(),
        routings in proptest::collection::vec((steps(), 0u32..10, 0u32..5), 1..6),
        down in (0..CENTERS, 0u32..30, 0u32..10),
    ) {
        // Promise orders one after another, as the order flow does.
        let mut ledger = CapacityLedger::new();
        let mut orders = Vec::new();
        for (i, (steps, release, ship_days)) in routings.into_iter().enumerate() {
            if let Ok(p) = promise(&cals, &ledger, &steps, day(release), ship_days, 90) {
                ledger.apply(&p);
                orders.push(PlannedOrder {
                    id: format!("order{i}"),
                    steps,
                    release: day(release),
                    ship_days,
                    delivery: p.delivery,
                });
            }
        }

        let same = replan(&cals, &orders, 90);
        prop_assert!(same.orders.iter().all(|o| !o.moved));
        prop_assert_eq!(&same.ledger, &ledger);

        let mut disrupted = cals.clone();
        disrupted[down.0].down.push(Downtime { from: day(down.1), to: day(down.1 + down.2) });
        let r = replan(&disrupted, &orders, 90);
        prop_assert_eq!(r.orders.len(), orders.len());
        for (o, before) in r.orders.iter().zip(&orders) {
            prop_assert_eq!(o.moved, o.delivery() != Some(before.delivery));
        }
        for cal in &disrupted {
            for (d, minutes) in r.ledger.days(&cal.id) {
                prop_assert!(minutes <= cal.capacity_on(d));
            }
        }
    }
}
