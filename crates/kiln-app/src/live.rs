//! A brand's live schedule: every operation of every open order line on a
//! machine, at minute resolution ([`kiln_plan::live::Schedule`]). Promises are
//! made by inserting into it; it is persisted as one booking row per
//! operation and rebuilt from those rows when the server starts.
//!
//! Factory time is UTC. Each order line is one order of the schedule, keyed
//! by its [`LineRef`] (order and line number, never a string parsed back);
//! the store keeps epoch minutes, the schedule minutes since its origin, and
//! [`Clock`] converts.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use kiln_configure::Outcome;
use kiln_plan::live::{
    self, Booking, Calendar, Minute, OperationStatus, Period, Shift, WorkCentre,
};

/// A brand's live schedule: its orders are order lines.
pub type Schedule = live::Schedule<LineRef>;
pub type LiveOrder = live::Order<LineRef>;
pub type OrderPlan = live::OrderPlan<LineRef>;
pub type LiveError = live::LiveError<LineRef>;
type RestoredOrder = live::RestoredOrder<LineRef>;
use kiln_domain::{BookingRow, LineRef, OrderId, ScheduledBooking};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::runtime::{Catalog, PlanState};

/// Days ahead of today the schedule can place work.
pub const HORIZON_DAYS: u32 = 730;
/// A shift starts at 08:00 unless the working day is too long for that.
const SHIFT_START: u16 = 8 * 60;

/// The schedule's origin as an epoch minute, for converting times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub origin: Date,
    origin_minute: i64,
}

impl Clock {
    pub fn new(origin: Date) -> Clock {
        Clock {
            origin,
            origin_minute: epoch_day(origin) * live::DAY,
        }
    }

    /// Schedule minute of an epoch minute.
    pub fn minute(&self, epoch_minute: i64) -> Minute {
        epoch_minute - self.origin_minute
    }

    /// Epoch minute of a schedule minute.
    pub fn epoch(&self, minute: Minute) -> i64 {
        minute + self.origin_minute
    }

    /// Schedule minute of an epoch millisecond (as the store records times).
    pub fn at_ms(&self, ms: i64) -> Minute {
        self.minute(ms.div_euclid(60_000))
    }

    /// Schedule minute of 00:00 on `day`.
    pub fn midnight(&self, day: Date) -> Minute {
        self.minute(epoch_day(day) * live::DAY)
    }

    /// The schedule minute now.
    pub fn now(&self) -> Minute {
        self.at_ms(crate::time::now().as_millisecond())
    }
}

/// Days from 1970-01-01 to `day`.
pub fn epoch_day(day: Date) -> i64 {
    i64::from((day - Date::constant(1970, 1, 1)).get_days())
}

/// The instant of an epoch minute, for the API.
pub fn timestamp(epoch_minute: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(epoch_minute.saturating_mul(60)).unwrap_or(jiff::Timestamp::MIN)
}

/// The shift a model work centre works: `minutes_per_day` from 08:00, or
/// ending at midnight when the day is longer than 16 hours.
pub fn shift(minutes_per_day: u32) -> Shift {
    let len = minutes_per_day.min(1440) as u16;
    let from = SHIFT_START.min(1440 - len);
    Shift {
        from,
        to: from + len,
    }
}

/// The live schedule's work centres: one shift on the model's weekdays, the
/// recorded downtime as `(work centre, from, to)` in schedule minutes.
/// Setups come with each operation, so a centre's own is 0.
/// Machines' own downtimes onto a schedule being rebuilt, before its orders
/// are restored. A machine the catalog no longer has is skipped.
fn load_broken_machines(
    schedule: &mut Schedule,
    clock: &Clock,
    broken: &[kiln_domain::MachineDowntime],
) {
    let mut per_machine: BTreeMap<(&str, u16), Vec<Period>> = BTreeMap::new();
    for d in broken {
        let from = clock.at_ms(d.from.as_millisecond());
        // A part-minute at the end counts as down.
        let to = clock.at_ms(d.to.as_millisecond() + 59_999);
        if from < to {
            per_machine
                .entry((d.work_center.as_str(), d.machine))
                .or_default()
                .push(Period { from, to });
        }
    }
    for ((wc, m), periods) in per_machine {
        if let Err(e) = schedule.load_machine_down(wc, m, periods) {
            tracing::warn!("machine {m} of `{wc}` down, not restored: {e}");
        }
    }
}

pub fn work_centres(factory: &kiln_model::Factory, down: &[(String, Period)]) -> Vec<WorkCentre> {
    factory
        .work_centers
        .iter()
        .map(|w| {
            let mut week: [Vec<Shift>; 7] = Default::default();
            if w.minutes_per_day > 0 {
                for &d in &w.weekdays {
                    if let Some(day) = week.get_mut(usize::from(d).wrapping_sub(1)) {
                        day.push(shift(w.minutes_per_day));
                    }
                }
            }
            WorkCentre {
                id: w.id.clone(),
                machines: w.machines.clamp(1, u32::from(u16::MAX)) as u16,
                setup_minutes: 0,
                calendar: Calendar {
                    week,
                    holidays: Vec::new(),
                    down: down
                        .iter()
                        .filter(|(wc, _)| *wc == w.id)
                        .map(|(_, p)| *p)
                        .collect(),
                },
            }
        })
        .collect()
}

fn whole_minutes(d: Decimal) -> u32 {
    d.ceil().to_u32().unwrap_or(u32::MAX)
}

/// An order line as the schedule plans it: its routing for `quantity` units,
/// each operation with the setup it needs after another SKU.
pub fn line_order(
    id: LineRef,
    outcome: &Outcome,
    quantity: u32,
    release: Minute,
    ship_days: u32,
) -> LiveOrder {
    live::Order {
        id,
        sku: outcome.sku.clone().unwrap_or_default(),
        release,
        due: None,
        weight: 1,
        ship_days,
        operations: outcome
            .routing
            .iter()
            .map(|step| live::Operation {
                name: step.operation.clone(),
                minutes: whole_minutes(step.minutes * Decimal::from(quantity)).max(1),
                work_centres: vec![step.work_center.clone()],
                setup_minutes: Some(whole_minutes(step.setup_minutes)),
            })
            .collect(),
    }
}

/// The booking rows that persist one line: one per operation, an operation a
/// replan could not place as a row without a machine (-1), so a rebuilt
/// schedule knows the whole routing.
pub fn booking_rows(clock: &Clock, plan: &OrderPlan) -> Vec<BookingRow> {
    let LineRef {
        order: order_id,
        line_no,
    } = &plan.order.id;
    plan.order
        .operations
        .iter()
        .zip(&plan.bookings)
        .enumerate()
        .map(|(k, (op, b))| {
            let (machine, setup_start, start, end, setup) = match b {
                Some(b) => (
                    i64::from(b.machine),
                    clock.epoch(b.setup_start),
                    clock.epoch(b.start),
                    clock.epoch(b.end),
                    i64::from(b.setup_minutes),
                ),
                None => (-1, 0, 0, 0, 0),
            };
            BookingRow {
                order_id: order_id.clone(),
                line_no: *line_no,
                operation: op.name.clone(),
                work_center: b.as_ref().map_or_else(
                    || op.work_centres.first().cloned().unwrap_or_default(),
                    |b| b.work_centre.clone(),
                ),
                day: b.as_ref().map(|b| day_of(clock, b.setup_start)),
                minutes: i64::from(op.minutes),
                seq: k as i64 + 1,
                machine,
                setup_start,
                start_at: start,
                end_at: end,
                setup_minutes: setup,
                changeover: i64::from(op.setup_minutes.unwrap_or_default()),
                release_at: clock.epoch(plan.order.release),
                due_day: Some(plan.due),
                made_on: None,
            }
        })
        .collect()
}

/// The calendar day of a schedule minute.
pub fn day_of(clock: &Clock, minute: Minute) -> Date {
    add_days(clock.origin, minute.div_euclid(live::DAY)).unwrap_or(clock.origin)
}

pub fn add_days(day: Date, days: i64) -> Option<Date> {
    day.checked_add(jiff::Span::new().try_days(days).ok()?).ok()
}

/// Lines a rebuilt schedule could not take back as they were, to be placed
/// again (bookings from before the live schedule, or rows that no longer fit).
pub struct Unplaced {
    pub line: LineRef,
    pub order: LiveOrder,
}

/// Rebuilds a brand's schedule from its stored bookings. `today` is the first
/// day new work may go; the origin reaches back to the earliest open booking.
pub fn rebuild(
    catalog: &Catalog,
    down: &[(String, Date, Date)],
    broken: &[kiln_domain::MachineDowntime],
    rows: &[ScheduledBooking],
    today: Date,
) -> Result<(Schedule, Clock, Vec<Unplaced>), LiveError> {
    // An open line is restored whole, done operations too (a replan keeps
    // precedence from them): reach back to its earliest booking, within what
    // a schedule can unroll.
    let max_back = i64::from(live::MAX_HORIZON_DAYS - HORIZON_DAYS);
    let earliest = rows
        .iter()
        .filter(|r| r.booking.seq > 0 && r.booking.machine >= 0)
        .map(|r| r.booking.setup_start.div_euclid(live::DAY))
        .min()
        .unwrap_or(i64::MAX);
    let back = (epoch_day(today) - earliest).clamp(0, max_back);
    let origin = add_days(today, -back).unwrap_or(today);
    let clock = Clock::new(origin);
    let periods: Vec<(String, Period)> = down
        .iter()
        .map(|(wc, from, to)| {
            let from = clock.midnight(*from);
            let to = clock.midnight(*to) + live::DAY;
            (wc.clone(), Period { from, to })
        })
        .collect();
    let horizon = (back as u32 + HORIZON_DAYS).min(live::MAX_HORIZON_DAYS);
    let mut schedule =
        Schedule::new_keyed(origin, horizon, work_centres(&catalog.factory, &periods))?;
    schedule.set_delivery_weekdays(&catalog.factory.delivery_weekdays);
    load_broken_machines(&mut schedule, &clock, broken);

    let mut unplaced = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let head = &rows[start].booking;
        let end = start
            + rows[start..]
                .iter()
                .take_while(|r| {
                    r.booking.order_id == head.order_id && r.booking.line_no == head.line_no
                })
                .count();
        let line = &rows[start..end];
        start = end;
        let ship_days = catalog
            .product(&line[0].product_id)
            .map_or(0, |c| c.product().ship_days);
        let by_carrier = crate::logistics::by_carrier(&catalog.factory);
        let restored = restored_line(&clock, line, ship_days, by_carrier);
        let (order, ok) = match restored {
            Ok(r) => {
                let order = r.order.clone();
                (order, schedule.restore(r).is_ok())
            }
            Err(order) => (order, false),
        };
        if !ok {
            // Done work needs no capacity; what is left is placed again.
            unplaced.push(Unplaced {
                line: LineRef::new(head.order_id.clone(), head.line_no),
                order,
            });
        }
    }
    Ok((schedule, clock, unplaced))
}

/// One stored line as the schedule had it, or (when the rows are day
/// buckets or do not add up) the routing to place it again.
fn restored_line(
    clock: &Clock,
    line: &[ScheduledBooking],
    ship_days: u32,
    by_carrier: bool,
) -> Result<RestoredOrder, LiveOrder> {
    let head = &line[0];
    // A carrier's transit was the days from the line's finish to its
    // promise when it was placed: keep them, not the product's own.
    // An operation done ahead of plan is off the machines (no machine).
    let off = |r: &ScheduledBooking| r.booking.machine < 0;
    let done = |r: &ScheduledBooking| r.status == kiln_domain::OperationStatus::Done;
    let on_machines = line.iter().filter(|r| !off(r));
    let ship_days = match on_machines.map(|r| clock.minute(r.booking.end_at)).max() {
        Some(finish) if by_carrier && line.iter().all(|r| !off(r) || done(r)) => {
            let days = (head.promised_date - day_of(clock, finish - 1)).get_days();
            u32::try_from(days).unwrap_or(ship_days)
        }
        _ => ship_days,
    };
    let id = LineRef::new(head.booking.order_id.clone(), head.booking.line_no);
    let release = clock.minute(head.booking.release_at).max(0);
    let live_rows = line.iter().all(|r| r.booking.seq > 0)
        && line
            .iter()
            .enumerate()
            .all(|(k, r)| r.booking.seq == k as i64 + 1);
    if !live_rows {
        return Err(legacy_order(id, line, ship_days));
    }
    let order = live::Order {
        id,
        sku: head.sku.clone(),
        release,
        due: None,
        weight: 1,
        ship_days,
        operations: line
            .iter()
            .map(|r| live::Operation {
                name: r.booking.operation.clone(),
                minutes: r.booking.minutes.clamp(1, i64::from(u32::MAX)) as u32,
                work_centres: vec![r.booking.work_center.clone()],
                setup_minutes: Some(r.booking.changeover.clamp(0, i64::from(u32::MAX)) as u32),
            })
            .collect(),
    };
    let status: Vec<OperationStatus> = line
        .iter()
        .map(|r| match r.status {
            kiln_domain::OperationStatus::Started => OperationStatus::Started,
            kiln_domain::OperationStatus::Done => OperationStatus::Done,
            kiln_domain::OperationStatus::Pending => OperationStatus::Planned,
        })
        .collect();
    let bookings = line
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let b = &r.booking;
            if b.machine < 0 {
                return None;
            }
            let start = clock.minute(b.start_at);
            let mut end = clock.minute(b.end_at);
            // Work finished early gave the rest of its slot back.
            if let Some(done) = r.completed_at {
                end = end.min(clock.at_ms(done.as_millisecond()).max(start + 1));
            }
            Some(Booking {
                operation: k,
                work_centre: b.work_center.clone(),
                machine: b.machine.clamp(0, i64::from(u16::MAX)) as u16,
                setup_start: clock.minute(b.setup_start),
                start,
                end,
                setup_minutes: b.setup_minutes.clamp(0, i64::from(u32::MAX)) as u32,
            })
        })
        .collect();
    let placed = line.iter().all(|r| r.booking.machine >= 0);
    let finish = line.iter().map(|r| clock.minute(r.booking.end_at)).max();
    let due = head.booking.due_day;
    // The date the customer holds; a line may finish before it.
    let promised = Some(head.promised_date).or_else(|| {
        finish
            .filter(|_| placed)
            .and_then(|f| delivery(clock, f, ship_days))
    });
    match (due.or(promised), promised) {
        (Some(due), promised) => Ok(RestoredOrder {
            order,
            bookings,
            status,
            promised,
            due,
        }),
        _ => Err(order),
    }
}

/// The delivery date for work ending at `finish` (exclusive), as the schedule
/// computes it.
pub fn delivery(clock: &Clock, finish: Minute, ship_days: u32) -> Option<Date> {
    add_days(day_of(clock, finish - 1), i64::from(ship_days))
}

/// A line booked by day buckets: its operations in the order they were
/// first booked, with all their minutes.
fn legacy_order(id: LineRef, line: &[ScheduledBooking], ship_days: u32) -> LiveOrder {
    let mut ops: Vec<live::Operation> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for r in line {
        let minutes = r.booking.minutes.clamp(0, i64::from(u32::MAX)) as u32;
        match at.get(r.booking.operation.as_str()) {
            Some(&i) => ops[i].minutes = ops[i].minutes.saturating_add(minutes),
            None => {
                at.insert(r.booking.operation.as_str(), ops.len());
                ops.push(live::Operation {
                    name: r.booking.operation.clone(),
                    minutes,
                    work_centres: vec![r.booking.work_center.clone()],
                    setup_minutes: Some(0),
                });
            }
        }
    }
    for op in &mut ops {
        op.minutes = op.minutes.max(1);
    }
    live::Order {
        id,
        sku: line[0].sku.clone(),
        release: 0,
        due: None,
        weight: 1,
        ship_days,
        operations: ops,
    }
}

/// The operations right after `bookings` on their machines, as `(line, step)`,
/// added to `out`: an insertion or removal before them may change their
/// setup, so their stored rows must follow. `out` may name one twice
/// ([`neighbour_rows`] reads each once).
pub fn neighbours(schedule: &Schedule, bookings: &[Booking], out: &mut Vec<(LineRef, usize)>) {
    for b in bookings {
        if let Some(next) = schedule.next_on_machine(&b.work_centre, b.machine, b.setup_start) {
            out.push(next);
        }
    }
}

/// The current rows of those operations, once each, leaving out the lines
/// in `skip`. A bulk order has thousands of each: they are looked up, not
/// searched.
pub fn neighbour_rows(
    plan: &PlanState,
    neighbours: Vec<(LineRef, usize)>,
    skip: &[LineRef],
) -> Vec<BookingRow> {
    let skip: std::collections::HashSet<&LineRef> = skip.iter().collect();
    let mut seen = std::collections::HashSet::new();
    neighbours
        .into_iter()
        .filter(|(id, _)| !skip.contains(id))
        .filter(|n| seen.insert(n.clone()))
        .filter_map(|(id, op)| {
            let placed = plan.schedule.order(&id)?;
            plan.rows_of(&placed)
                .into_iter()
                .find(|r| r.seq == op as i64 + 1)
        })
        .collect()
}

/// Orders (not lines) with a line whose bookings differ between `before` and
/// `after`, or for which `also` holds: what a replan must write again.
pub fn changed_orders(
    before: &Schedule,
    after: &Schedule,
    also: impl Fn(&LineRef) -> bool,
) -> Vec<OrderId> {
    let mut orders: Vec<OrderId> = Vec::new();
    let changed = after.order_ids().filter(|id| {
        also(id) || before.order(*id).map(|p| p.bookings) != after.order(*id).map(|p| p.bookings)
    });
    for line in changed {
        if !orders.contains(&line.order) {
            orders.push(line.order.clone());
        }
    }
    orders
}

/// An order's lines as the schedule has them.
pub struct OrderOnSchedule {
    pub bookings: Vec<BookingRow>,
    /// The latest delivery its lines are promised for.
    pub delivery: Option<Date>,
    /// A line has an operation the schedule could not place.
    pub lost: bool,
}

pub fn on_schedule(plan: &PlanState, order: &kiln_domain::Order) -> OrderOnSchedule {
    let mut out = OrderOnSchedule {
        bookings: Vec::new(),
        delivery: None,
        lost: false,
    };
    for line in &order.lines {
        let Some(placed) = plan
            .schedule
            .order(&LineRef::new(order.id.clone(), line.line_no))
        else {
            continue;
        };
        match placed.promised {
            Some(d) if placed.bookings.iter().all(Option::is_some) => {
                out.delivery = Some(out.delivery.map_or(d, |x| x.max(d)));
            }
            _ => out.lost = true,
        }
        out.bookings.extend(plan.rows_of(&placed));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let files: Vec<(String, String)> = crate::demo::FILES
            .iter()
            .map(|(name, source)| (name.to_string(), source.to_string()))
            .collect();
        Catalog::compile(1, kiln_model::check(&files))
    }

    /// A stored operation of line `ord_1/1`, `day` days from today at 08:00.
    fn row(seq: i64, wc: &str, day: i64, minutes: i64, status: &str) -> ScheduledBooking {
        let status: kiln_domain::OperationStatus = status.parse().expect("a status");
        let today = epoch_day(crate::time::today());
        let start = (today + day) * live::DAY + 8 * 60;
        ScheduledBooking {
            booking: BookingRow {
                order_id: "ord_1".into(),
                line_no: 1,
                operation: format!("op{seq}"),
                work_center: wc.into(),
                day: None,
                minutes,
                seq,
                machine: 0,
                setup_start: start,
                start_at: start,
                end_at: start + minutes,
                setup_minutes: 0,
                changeover: 10,
                release_at: (today - 3) * live::DAY,
                due_day: add_days(crate::time::today(), 9),
                made_on: None,
            },
            sku: "SNEAKER-X".into(),
            product_id: "sneaker".into(),
            status,
            completed_at: (status == kiln_domain::OperationStatus::Done)
                .then(|| jiff::Timestamp::from_second((start + minutes) * 60).unwrap()),
            promised_date: add_days(crate::time::today(), 9).unwrap(),
        }
    }

    #[test]
    fn a_line_in_production_is_restored_with_its_past_work() {
        let rows = [
            row(1, "cutting", -2, 60, "done"),
            row(2, "sewing", -1, 90, "started"),
            row(3, "assembly", 1, 30, "pending"),
        ];
        let (schedule, clock, unplaced) =
            rebuild(&catalog(), &[], &[], &rows, crate::time::today()).expect("rebuilds");
        assert!(unplaced.is_empty(), "restored as stored, not placed again");
        let plan = schedule
            .order(&LineRef::new(OrderId::from("ord_1"), 1))
            .expect("on the schedule");
        assert_eq!(
            plan.status,
            [
                OperationStatus::Done,
                OperationStatus::Started,
                OperationStatus::Planned
            ]
        );
        for (b, r) in plan.bookings.iter().zip(&rows) {
            let b = b.as_ref().expect("placed");
            assert_eq!(clock.epoch(b.start), r.booking.start_at);
            assert_eq!(clock.epoch(b.end), r.booking.end_at);
        }
    }

    #[test]
    fn an_operation_a_replan_lost_stays_off_after_a_restart() {
        let mut lost = row(2, "sewing", 0, 90, "pending");
        lost.booking.machine = -1;
        let rows = [row(1, "cutting", 1, 60, "pending"), lost];
        let (schedule, _, unplaced) =
            rebuild(&catalog(), &[], &[], &rows, crate::time::today()).expect("rebuilds");
        assert!(unplaced.is_empty());
        let plan = schedule
            .order(&LineRef::new(OrderId::from("ord_1"), 1))
            .expect("on the schedule");
        assert_eq!(plan.order.operations.len(), 2, "the whole routing");
        assert!(plan.bookings[0].is_some() && plan.bookings[1].is_none());
        let written = booking_rows(&Clock::new(schedule.origin()), &plan);
        assert_eq!(written.len(), 2);
        assert_eq!(written[1].machine, -1, "written back as lost");
    }

    #[test]
    fn day_bucket_rows_are_placed_again() {
        let mut old = row(0, "cutting", 0, 60, "pending");
        old.booking.seq = 0;
        let (_, _, unplaced) =
            rebuild(&catalog(), &[], &[], &[old], crate::time::today()).expect("rebuilds");
        assert_eq!(unplaced.len(), 1);
        assert_eq!(unplaced[0].order.operations[0].minutes, 60);
    }
}
