//! The live schedule keyed by something other than `String`: a schedule keyed by order
//! lines makes exactly the plan, reports and errors one keyed by their text makes.

use std::fmt;

use kiln_plan::live::{
    Calendar, GanttBar, GanttWorkCentre, LiveError, Minute, Order, OrderChange, OrderPlan,
    RestoredOrder, Schedule, WorkCentre,
};

mod support;

use support::{ORIGIN, at, centre, day_shift, op, order, shift};

const HORIZON: u32 = 14;

/// An order line, as the platform keys the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LineRef {
    order: String,
    line_no: i64,
}

impl fmt::Display for LineRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.order, self.line_no)
    }
}

fn line(id: &str) -> LineRef {
    let (order, line_no) = id.rsplit_once('/').expect("order/line");
    LineRef {
        order: order.into(),
        line_no: line_no.parse().expect("a line number"),
    }
}

fn keyed(o: &Order) -> Order<LineRef> {
    Order {
        id: line(&o.id),
        sku: o.sku.clone(),
        release: o.release,
        due: o.due,
        weight: o.weight,
        ship_days: o.ship_days,
        operations: o.operations.clone(),
    }
}

fn text_bar(b: GanttBar<LineRef>) -> GanttBar {
    GanttBar {
        order: b.order.to_string(),
        operation: b.operation,
        operation_name: b.operation_name,
        sku: b.sku,
        setup_start: b.setup_start,
        start: b.start,
        end: b.end,
        setup_minutes: b.setup_minutes,
        status: b.status,
    }
}

fn text_gantt(g: Vec<GanttWorkCentre<LineRef>>) -> Vec<GanttWorkCentre> {
    g.into_iter()
        .map(|w| GanttWorkCentre {
            work_centre: w.work_centre,
            machines: w
                .machines
                .into_iter()
                .map(|bars| bars.into_iter().map(text_bar).collect())
                .collect(),
        })
        .collect()
}

fn text_change(c: &OrderChange<LineRef>) -> OrderChange {
    OrderChange {
        order: c.order.to_string(),
        old_finish: c.old_finish,
        new_finish: c.new_finish,
        old_delivery: c.old_delivery,
        new_delivery: c.new_delivery,
        due: c.due,
        moved: c.moved,
        late: c.late,
    }
}

fn text_plan(p: OrderPlan<LineRef>) -> OrderPlan {
    OrderPlan {
        order: Order {
            id: p.order.id.to_string(),
            sku: p.order.sku,
            release: p.order.release,
            due: p.order.due,
            weight: p.order.weight,
            ship_days: p.order.ship_days,
            operations: p.order.operations,
        },
        bookings: p.bookings,
        status: p.status,
        finish: p.finish,
        promised: p.promised,
        due: p.due,
    }
}

/// Both schedules hold the same plan under their own keys.
fn assert_same(s: &Schedule, k: &Schedule<LineRef>) {
    assert_eq!(s.gantt(), text_gantt(k.gantt()));
    let ids: Vec<String> = k.order_ids().map(LineRef::to_string).collect();
    assert_eq!(
        s.order_ids().collect::<Vec<_>>(),
        ids.iter().collect::<Vec<_>>()
    );
    for id in k.order_ids() {
        let text = id.to_string();
        assert_eq!(s.order(&text), k.order(id).map(text_plan), "order {id}");
        assert_eq!(s.order_status(&text), k.order_status(id));
    }
    for wc in k.work_centres() {
        let queue = k.queue(&wc.id).unwrap().into_iter().map(text_bar);
        assert_eq!(s.queue(&wc.id).unwrap(), queue.collect::<Vec<_>>());
    }
}

fn shop() -> Vec<WorkCentre> {
    vec![
        centre("wheel", 2, 15, day_shift()),
        centre("kiln", 1, 30, day_shift()),
        centre("kiln-2", 1, 20, Calendar::weekdays(&[shift(360, 1320)])),
    ]
}

fn two_step(id: &str, sku: &str, release: Minute) -> Order {
    order(
        id,
        sku,
        release,
        vec![
            op("throw", 90, &["wheel"]),
            op("fire", 240, &["kiln", "kiln-2"]),
        ],
    )
}

#[test]
fn a_schedule_keyed_by_order_lines_plans_as_one_keyed_by_text() {
    let mut s = Schedule::new(ORIGIN, HORIZON, shop()).unwrap();
    let mut k = Schedule::<LineRef>::new_keyed(ORIGIN, HORIZON, shop()).unwrap();
    let orders = [
        two_step("a/1", "X", 0),
        two_step("a/2", "Y", 0),
        two_step("b/1", "X", at(0, 10, 0)),
        two_step("c/1", "Z", at(1, 0, 0)),
        order("c/2", "Y", 0, vec![op("throw", 30, &["wheel"])]),
    ];
    for o in &orders[..4] {
        let (ps, pk) = (s.insert(o).unwrap(), k.insert(&keyed(o)).unwrap());
        assert_eq!(ps.order, pk.order.to_string());
        assert_eq!(
            (&ps.bookings, ps.finish, ps.delivery),
            (&pk.bookings, pk.finish, pk.delivery)
        );
        s.commit(ps).unwrap();
        k.commit(pk).unwrap();
    }
    let (ps, pk) = (
        s.place(&orders[4]).unwrap(),
        k.place(&keyed(&orders[4])).unwrap(),
    );
    assert_eq!(pk.order, line("c/2"));
    assert_eq!(ps.bookings, pk.bookings);
    assert_same(&s, &k);

    // The operation after each booking on its machine, named by its key.
    for b in &pk.bookings {
        let next = k.next_on_machine(&b.work_centre, b.machine, b.setup_start);
        assert_eq!(
            s.next_on_machine(&b.work_centre, b.machine, b.setup_start),
            next.map(|(id, op)| (id.to_string(), op))
        );
    }

    s.set_now(at(0, 10, 0)).unwrap();
    k.set_now(at(0, 10, 0)).unwrap();
    s.start_operation("a/1", 0).unwrap();
    k.start_operation(&line("a/1"), 0).unwrap();
    s.complete_operation_at("a/1", 0, at(0, 9, 0)).unwrap();
    k.complete_operation_at(&line("a/1"), 0, at(0, 9, 0))
        .unwrap();
    s.start_operation_at("a/2", 0, at(0, 10, 0)).unwrap();
    k.start_operation_at(&line("a/2"), 0, at(0, 10, 0)).unwrap();
    s.complete_operation("a/2", 0).unwrap();
    k.complete_operation(&line("a/2"), 0).unwrap();
    assert_same(&s, &k);

    let (ds, dk) = (
        s.mark_down("kiln", at(0, 12, 0), at(1, 12, 0)).unwrap(),
        k.mark_down("kiln", at(0, 12, 0), at(1, 12, 0)).unwrap(),
    );
    assert!(!dk.orders.is_empty(), "the downtime hits planned work");
    assert_eq!(
        ds.orders,
        dk.orders.iter().map(text_change).collect::<Vec<_>>()
    );
    assert_eq!(ds.moved().count(), dk.moved().count());
    assert_same(&s, &k);

    let (os, ok) = (s.optimize(200, 7).unwrap(), k.optimize(200, 7).unwrap());
    assert_eq!(
        os.orders,
        ok.orders.iter().map(text_change).collect::<Vec<_>>()
    );
    assert_eq!(os.evaluations, ok.evaluations);
    assert_same(&s, &k);

    s.remove("b/1").unwrap();
    k.remove(&line("b/1")).unwrap();
    assert_eq!(k.order(&line("b/1")), None);
    assert_same(&s, &k);

    // Rebuilt from its own plans, the keyed schedule is the same again.
    let mut r = Schedule::new_keyed(
        k.origin(),
        k.horizon_days(),
        k.work_centres().cloned().collect(),
    )
    .unwrap();
    r.set_now(k.now()).unwrap();
    for id in k.order_ids() {
        let restored: RestoredOrder<LineRef> = k.order(id).unwrap().into();
        r.restore(restored).unwrap();
    }
    assert_same(&s, &r);
}

#[test]
fn errors_name_the_order_by_its_key() {
    let mut k = Schedule::<LineRef>::new_keyed(ORIGIN, HORIZON, shop()).unwrap();
    let a = keyed(&two_step("a/1", "X", 0));
    k.place(&a).unwrap();
    k.set_now(at(0, 9, 0)).unwrap();

    let missing = line("zz/9");
    let e = k.remove(&missing).unwrap_err();
    assert_eq!(
        e,
        LiveError::UnknownOrder {
            order: missing.clone()
        }
    );
    assert_eq!(e.to_string(), "unknown order `zz/9`");
    assert_eq!(
        k.start_operation(&a.id, 1),
        Err(LiveError::OutOfOrder {
            order: a.id.clone(),
            operation: 1
        })
    );
    assert_eq!(
        k.insert(&a).unwrap_err(),
        LiveError::DuplicateOrder {
            order: a.id.clone()
        }
    );
    k.start_operation(&a.id, 0).unwrap();
    let e = k.remove(&a.id).unwrap_err();
    assert_eq!(
        e,
        LiveError::OrderInProduction {
            order: a.id.clone()
        }
    );
    assert_eq!(
        e.to_string(),
        "order `a/1` is in production (an operation started or is done)"
    );
    // A keyed error is a std error like the default one.
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
    assert!(boxed.to_string().contains("a/1"));
}
