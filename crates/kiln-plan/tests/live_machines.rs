//! One machine down (a breakdown from the factory floor), not its whole work centre:
//! hand-checked cases and a proptest with a minute-by-minute checker that knows each
//! machine's own downtime. 2025-06-02 is a Monday; minute 0 is its midnight.

use kiln_plan::live::{
    DAY, LiveError, Minute, OperationStatus, Order, Period, Schedule, WorkCentre,
};
use proptest::prelude::*;

mod support;

use support::{MinuteCalendar, ORIGIN, at, centre, day_shift, op, order};

const HORIZON: u32 = 14;

fn commit(s: &mut Schedule, o: &Order) {
    let q = s.insert(o).unwrap();
    s.commit(q).unwrap();
}

/// Every bar's working minutes on its own machine's calendar (the centre's less the
/// machine's downtime) equal its operation's, and no two bars of a machine overlap.
fn check(s: &Schedule, centres: &[WorkCentre], orders: &[Order]) {
    for (w, g) in s.gantt().iter().enumerate() {
        let wc = &centres[w];
        let down = s.machine_down(&wc.id).unwrap();
        for (m, bars) in g.machines.iter().enumerate() {
            let mut own = wc.clone();
            own.calendar.down.extend(down[m].iter().copied());
            let cal = MinuteCalendar::new(&own, ORIGIN, HORIZON + 7);
            let mut prev_end = Minute::MIN;
            for b in bars {
                assert!(prev_end <= b.setup_start, "overlap on {} {m}: {b:?}", wc.id);
                prev_end = b.end;
                if b.status == OperationStatus::Done {
                    continue;
                }
                let o = orders.iter().find(|o| o.id == b.order).unwrap();
                assert_eq!(
                    cal.work(b.start, b.end),
                    i64::from(o.operations[b.operation].minutes),
                    "{b:?} on {} machine {m}",
                    wc.id
                );
            }
        }
    }
}

fn machine_of(s: &Schedule, order: &str) -> usize {
    s.gantt()[0]
        .machines
        .iter()
        .position(|bars| bars.iter().any(|b| b.order == order))
        .unwrap()
}

#[test]
fn a_broken_machine_moves_only_its_own_work() {
    let centres = vec![centre("sew", 2, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
    let a = order("a", "X", 0, vec![op("sew", 240, &["sew"])]);
    let b = order("b", "Y", 0, vec![op("sew", 240, &["sew"])]);
    let c = order("c", "Z", 0, vec![op("sew", 240, &["sew"])]);
    for o in [&a, &b, &c] {
        commit(&mut s, o);
    }
    // a and b Monday morning on the two machines, c after a on a's machine.
    let (ma, mb) = (machine_of(&s, "a"), machine_of(&s, "b"));
    assert_ne!(ma, mb);
    let b_before = s.order("b").unwrap();
    // a's machine breaks at 9:00 until noon.
    s.set_now(at(0, 9, 0)).unwrap();
    s.start_operation("a", 0).unwrap();
    let d = s
        .mark_machine_down("sew", ma as u16, at(0, 9, 0), at(0, 12, 0))
        .unwrap();
    assert_eq!(d.machine, Some(ma as u16));
    assert_eq!(d.work_centre, "sew");
    // b, on the other machine, is untouched.
    assert_eq!(s.order("b").unwrap(), b_before);
    // a resumes after the repair: 1 hour done, 3 left from noon, so 15:00.
    assert_eq!(s.order("a").unwrap().finish, Some(at(0, 15, 0)));
    check(&s, &centres, &[a, b, c]);
    assert_eq!(
        s.machine_down("sew").unwrap()[ma],
        vec![Period {
            from: at(0, 9, 0),
            to: at(0, 12, 0)
        }]
    );
    assert!(s.machine_down("sew").unwrap()[mb].is_empty());
}

#[test]
fn an_early_repair_gives_the_time_back_and_moves_nothing() {
    let centres = vec![centre("sew", 1, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
    let a = order("a", "X", 0, vec![op("sew", 60, &["sew"])]);
    commit(&mut s, &a);
    s.set_now(at(0, 7, 0)).unwrap();
    let d = s
        .mark_machine_down("sew", 0, at(0, 7, 0), at(1, 0, 0))
        .unwrap();
    assert_eq!(d.moved().count(), 1);
    let a_after = s.order("a").unwrap();
    assert_eq!(a_after.finish, Some(at(1, 9, 0)));
    // Up again at 10:00: the rest of Monday is capacity again for new work.
    s.set_now(at(0, 10, 0)).unwrap();
    let up = vec![Period {
        from: at(0, 7, 0),
        to: at(0, 10, 0),
    }];
    s.set_machine_down("sew", 0, up.clone()).unwrap();
    assert_eq!(s.order("a").unwrap(), a_after, "nothing moves on a repair");
    let b = order("b", "X", 0, vec![op("sew", 60, &["sew"])]);
    let q = s.insert(&b).unwrap();
    assert_eq!(q.finish, at(0, 11, 0));
    // Lifting may only give time back, never take more.
    let more = vec![Period {
        from: at(0, 7, 0),
        to: at(0, 12, 0),
    }];
    assert!(matches!(
        s.set_machine_down("sew", 0, more),
        Err(LiveError::BadPeriod { .. })
    ));
    assert!(matches!(
        s.mark_machine_down("sew", 1, 0, DAY),
        Err(LiveError::UnknownMachine { machine: 1, .. })
    ));
    check(&s, &centres, &[a]);
}

#[test]
fn a_rebuilt_schedule_keeps_a_machine_down() {
    let centres = vec![centre("sew", 2, 0, day_shift())];
    let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
    s.load_machine_down(
        "sew",
        1,
        vec![Period {
            from: 0,
            to: 2 * DAY,
        }],
    )
    .unwrap();
    let a = order("a", "X", 0, vec![op("sew", 60, &["sew"])]);
    let b = order("b", "Y", 0, vec![op("sew", 60, &["sew"])]);
    commit(&mut s, &a);
    commit(&mut s, &b);
    // Machine 1 is down Monday and Tuesday: both go on machine 0, one after the other.
    assert_eq!(machine_of(&s, "a"), 0);
    assert_eq!(machine_of(&s, "b"), 0);
    check(&s, &centres, &[a, b]);
}

fn arb_case() -> impl Strategy<Value = (u16, Vec<(u32, u8)>, Minute, u16, Minute, Minute)> {
    (1u16..=3).prop_flat_map(|machines| {
        (
            Just(machines),
            prop::collection::vec((30u32..600, 0u8..3), 1..=10),
            0i64..2 * DAY,
            0..machines,
            0i64..4 * DAY,
            1i64..2 * DAY,
        )
    })
}

proptest! {
    #[test]
    fn a_machine_down_keeps_work_off_it_and_fixed_work_in_place(
        (machines, ops, now, down_machine, from, len) in arb_case(),
    ) {
        let centres = vec![centre("sew", machines, 20, day_shift())];
        let mut s = Schedule::new(ORIGIN, HORIZON, centres.clone()).unwrap();
        let mut committed = Vec::new();
        for (i, (minutes, sku)) in ops.iter().enumerate() {
            let o = order(&format!("o{i}"), &format!("S{sku}"), 0, vec![op("sew", *minutes, &["sew"])]);
            if let Ok(q) = s.insert(&o) {
                s.commit(q).unwrap();
                committed.push(o);
            }
        }
        s.set_now(now).unwrap();
        for o in &committed {
            let b = s.order(&o.id).unwrap().bookings[0].clone().unwrap();
            if b.start < now {
                s.start_operation(&o.id, 0).unwrap();
                if b.end <= now {
                    s.complete_operation(&o.id, 0).unwrap();
                }
            }
        }
        let before = s.gantt();
        let d = s.mark_machine_down("sew", down_machine, from, from + len).unwrap();
        check(&s, &centres, &committed);
        // Work on the other machines moves only if it was displaced by the replan (its
        // order was reported); started and done work never leaves its machine.
        let after = s.gantt();
        for (m, bars) in before[0].machines.iter().enumerate() {
            for b in bars {
                let now_at = after[0].machines.iter().enumerate().find_map(|(m2, bs)| {
                    bs.iter().find(|x| x.order == b.order).map(|x| (m2, x.clone()))
                });
                if let Some((m2, x)) = &now_at
                    && b.status != OperationStatus::Planned
                {
                    prop_assert_eq!(*m2, m);
                    prop_assert_eq!(x.start, b.start);
                }
                let reported = d.orders.iter().any(|c| c.order == b.order);
                if m != usize::from(down_machine) && !reported {
                    prop_assert_eq!(now_at.map(|(m2, x)| (m2, x.start, x.end)), Some((m, b.start, b.end)));
                }
            }
        }
    }
}
