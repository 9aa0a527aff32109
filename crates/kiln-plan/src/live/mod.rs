//! The live finite-capacity schedule: every committed operation on a machine, at minute
//! resolution, and capable-to-promise by insertion into its free gaps.
//!
//! - **Time** is whole minutes since the schedule's `origin` date at 00:00 ([`Minute`]).
//! - **Orders** are identified by a key of the caller's type ([`OrderKey`]; `String` unless
//!   the schedule is built with [`Schedule::new_keyed`]), which every report and error that
//!   names an order carries as is.
//! - **Work centres** have identical parallel machines, one [`Calendar`] for all of them, and
//!   a setup time paid when a machine switches SKU (the first operation on a machine pays it
//!   too: its state is unknown). Same-SKU operations back to back batch without setup.
//! - **Operations** may be split across shifts: work stops at the end of a shift (or at a
//!   weekend, holiday or downtime) and resumes at the next working minute, and the machine
//!   stays with the operation meanwhile. Nothing is lost by holding it, since the whole
//!   work centre shares the calendar; in exchange an operation longer than a shift can be
//!   placed at all. A setup takes working time too and runs right before its operation; it
//!   may run before the operation's material or predecessor is ready (the machine is
//!   prepared while waiting), never before `now`.
//! - [`Schedule::insert`] quotes: it places a new order's operations, in routing order, each
//!   on the eligible machine where it finishes earliest (ties: less setup), in the gaps
//!   between committed operations, without moving any of them. It borrows the schedule
//!   immutably, so a quote books nothing; [`Schedule::commit`] books a quote if the schedule
//!   has not changed since.
//! - [`Schedule::mark_down`] takes a work centre down for a period and replans the
//!   operations it hits (see `disrupt.rs`).
//! - [`Schedule::restore`] puts persisted orders back after a restart, exactly as they were;
//!   [`Schedule::remove`] takes an order off (a failed commit's rollback, a cancellation);
//!   [`Schedule::retire`] takes finished orders off (they shipped);
//!   [`Schedule::complete_operation_at`] frees the rest of an operation finished early.
//!
//! Each machine's timeline is a `BTreeMap` of busy intervals keyed by start, so finding the
//! gap at a ready time is O(log n) and a quote touches only the machines it considers.

mod calendar;
mod disrupt;
mod earlier;
mod insert;
mod optimize;
mod progress;
mod restore;
mod retire;
mod timeline;
mod views;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::sync::Arc;

use jiff::Span;
use serde::{Deserialize, Serialize};

/// Calendar dates (holidays, deliveries) are jiff's, re-exported for callers without jiff.
pub use jiff::civil::Date;

pub use calendar::{Calendar, Period, Shift};
pub use disrupt::{Disruption, OrderChange};
pub use earlier::Earlier;
pub use insert::Promise;
pub use optimize::Optimized;

use calendar::Working;

/// Minutes since the schedule's origin (00:00 on its origin date).
pub type Minute = i64;
/// Minutes in a day.
pub const DAY: Minute = 1440;

/// Longest horizon a schedule unrolls calendars for (ten years), to bound memory.
pub const MAX_HORIZON_DAYS: u32 = 3660;

/// What identifies an order on a schedule: `String` by default, or any small key type
/// (an order line, say). Keys are cloned into quotes, reports and errors, so a cheap clone
/// helps; `Display` writes them in error messages.
pub trait OrderKey: Clone + Eq + Hash + Debug + Display + Send + Sync + 'static {}

impl<K: Clone + Eq + Hash + Debug + Display + Send + Sync + 'static> OrderKey for K {}

/// A work centre: identical machines in parallel sharing one calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkCentre {
    pub id: String,
    pub machines: u16,
    /// Working minutes to set a machine up for a different SKU, for operations that do not
    /// give their own ([`Operation::setup_minutes`]).
    pub setup_minutes: u32,
    pub calendar: Calendar,
}

/// One routing step of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub name: String,
    /// Working minutes of processing, setup excluded; at least 1.
    pub minutes: u32,
    /// Eligible work centres (alternatives), any of which can do the whole operation.
    pub work_centres: Vec<String>,
    /// Working minutes to set a machine up for this operation when the machine's previous
    /// operation is of a different SKU (or there is none); `None`: the work centre's
    /// `setup_minutes`.
    #[serde(default)]
    pub setup_minutes: Option<u32>,
}

/// An order to promise: a routing of operations done one after the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order<K = String> {
    /// Unique on a schedule: what its quotes, reports and errors name the order by.
    pub id: K,
    pub sku: String,
    /// When its material is there: no operation starts earlier.
    pub release: Minute,
    /// The delivery date the customer asked for; without one, the first promise becomes the
    /// date the factory must keep.
    pub due: Option<Date>,
    /// Importance when a disruption forces a choice (higher first); 1 is ordinary.
    pub weight: u32,
    /// Calendar days from the end of the last operation to delivery.
    pub ship_days: u32,
    pub operations: Vec<Operation>,
}

/// Where an operation stands on the shop floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    Planned,
    /// Started or done operations are fixed: no insert or replan moves them.
    Started,
    Done,
}

/// One operation placed on a machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// Index in the order's routing.
    pub operation: usize,
    pub work_centre: String,
    /// 0-based machine within the work centre.
    pub machine: u16,
    /// Setup runs `[setup_start, start)`; equal to `start` when no setup is needed.
    pub setup_start: Minute,
    pub start: Minute,
    pub end: Minute,
    pub setup_minutes: u32,
}

/// One bar of the Gantt chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GanttBar<K = String> {
    pub order: K,
    pub operation: usize,
    pub operation_name: String,
    pub sku: String,
    pub setup_start: Minute,
    pub start: Minute,
    pub end: Minute,
    pub setup_minutes: u32,
    pub status: OperationStatus,
}

/// The Gantt data of one work centre: one bar list per machine, in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GanttWorkCentre<K = String> {
    pub work_centre: String,
    pub machines: Vec<Vec<GanttBar<K>>>,
}

/// An order as the schedule holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderPlan<K = String> {
    pub order: Order<K>,
    /// One per operation; `None` for an operation a replan could not place.
    pub bookings: Vec<Option<Booking>>,
    pub status: Vec<OperationStatus>,
    /// End of the last operation.
    pub finish: Option<Minute>,
    /// The delivery date currently promised.
    pub promised: Option<Date>,
    /// The date the factory must keep: the requested date, else the first promise.
    pub due: Date,
}

impl<K> OrderPlan<K> {
    /// When its first operation runs: its machine may be set up before, but
    /// its material is needed from then.
    pub fn first_run(&self) -> Option<Minute> {
        self.bookings.iter().flatten().map(|b| b.start).min()
    }
}

/// An order as it was committed and persisted, to put back into a rebuilt schedule with
/// [`Schedule::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredOrder<K = String> {
    pub order: Order<K>,
    /// One per operation of `order.operations`, in routing order; `None` for an operation
    /// that has no placement.
    pub bookings: Vec<Option<Booking>>,
    /// One per operation.
    pub status: Vec<OperationStatus>,
    pub promised: Option<Date>,
    pub due: Date,
}

impl<K> From<OrderPlan<K>> for RestoredOrder<K> {
    fn from(plan: OrderPlan<K>) -> Self {
        RestoredOrder {
            order: plan.order,
            bookings: plan.bookings,
            status: plan.status,
            promised: plan.promised,
            due: plan.due,
        }
    }
}

/// Why the live schedule refused a request, naming orders by their key `K`. Serializable
/// so the server can return it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveError<K = String> {
    #[error("unknown work centre `{work_centre}`")]
    UnknownWorkCentre { work_centre: String },
    #[error("work centre `{work_centre}` is listed twice")]
    DuplicateWorkCentre { work_centre: String },
    #[error("{count} work centres is more than a schedule holds (65535)")]
    TooManyWorkCentres { count: usize },
    #[error("work centre `{work_centre}` has no machines")]
    NoMachines { work_centre: String },
    #[error("work centre `{work_centre}`: shift {from}..{to} is not within one day (0..1440)")]
    BadShift {
        work_centre: String,
        from: u16,
        to: u16,
    },
    #[error("period {from}..{to} is empty or reversed")]
    BadPeriod { from: Minute, to: Minute },
    #[error("horizon of {days} days is not within 1..={MAX_HORIZON_DAYS}")]
    BadHorizon { days: u32 },
    #[error("order `{order}` already exists")]
    DuplicateOrder { order: K },
    #[error("unknown order `{order}`")]
    UnknownOrder { order: K },
    #[error("order `{order}` has no operations")]
    EmptyRouting { order: K },
    #[error("order `{order}` has too many operations ({count})")]
    TooManyOperations { order: K, count: usize },
    #[error("order `{order}` operation {operation}: minutes must be at least 1")]
    ZeroMinutes { order: K, operation: usize },
    #[error("order `{order}` operation {operation} has no eligible work centre")]
    NoEligibleWorkCentre { order: K, operation: usize },
    #[error("order `{order}` has no operation {operation}")]
    UnknownOperation { order: K, operation: usize },
    #[error("order `{order}` operation {operation} cannot start before the one before it")]
    OutOfOrder { order: K, operation: usize },
    #[error("order `{order}` operation {operation} is not on the schedule")]
    NotPlaced { order: K, operation: usize },
    #[error("release {release} is before time 0")]
    NegativeRelease { release: Minute },
    #[error("no capacity for order `{order}` operation {operation} within the horizon")]
    NoCapacity { order: K, operation: usize },
    #[error("the schedule changed since this quote; quote again")]
    Stale,
    #[error("time cannot go back from {now} to {to}")]
    TimeBackwards { now: Minute, to: Minute },
    #[error("date out of range")]
    DateOutOfRange,
    #[error("order `{order}` is in production (an operation started or is done)")]
    OrderInProduction { order: K },
    #[error("work centre `{work_centre}` has no machine {machine}")]
    UnknownMachine { work_centre: String, machine: u16 },
    #[error("order `{order}` operation {operation} overlaps other work on its machine")]
    Overlap { order: K, operation: usize },
    #[error("cannot restore order `{order}`: {reason}")]
    BadRestore { order: K, reason: String },
}

/// A placed operation as the machine timeline holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bar {
    order: u32,
    op: u16,
    sku: u32,
    setup_start: Minute,
    start: Minute,
    end: Minute,
    setup: u32,
    /// The setup this operation needs after a different SKU (its own, else its work
    /// centre's), so the bar can be set up again when its predecessor changes.
    changeover: u32,
    fixed: bool,
}

impl Bar {
    /// The setup this bar needs after `prev` on its machine: none after a bar of its SKU,
    /// else its changeover (the first bar of a machine pays it too: its state is unknown).
    fn setup_after(&self, prev: Option<&Bar>) -> u32 {
        if prev.is_some_and(|p| p.sku == self.sku) {
            0
        } else {
            self.changeover
        }
    }

    /// Whether the bar is set up to follow `prev`: it started (its setup is history), or
    /// its setup is at least the one needed.
    fn is_set_up_after(&self, prev: Option<&Bar>) -> bool {
        self.fixed || self.setup >= self.setup_after(prev)
    }
}

pub(crate) use timeline::Timeline;

#[derive(Debug, Clone)]
struct Centre {
    def: WorkCentre,
    /// The work centre's calendar unrolled; a machine with downtime of its own
    /// has its own (`Timeline::working`).
    working: Arc<Working>,
    machines: Vec<Timeline>,
    /// Each machine's own downtime (a breakdown), besides the centre's.
    machine_down: Vec<Vec<Period>>,
}

impl Centre {
    /// Unrolls the centre's calendar again, and each machine's with its own
    /// downtime, after either changed.
    fn rebuild_working(&mut self, origin: Date, horizon_days: u32) {
        self.working = Arc::new(Working::build(&self.def.calendar, origin, horizon_days));
        for (m, tl) in self.machines.iter_mut().enumerate() {
            let own = &self.machine_down[m];
            if own.is_empty() {
                tl.set_working(self.working.clone());
            } else {
                let mut calendar = self.def.calendar.clone();
                calendar.down.extend(own.iter().copied());
                tl.set_working(Arc::new(Working::build(&calendar, origin, horizon_days)));
            }
        }
    }
}

#[derive(Debug, Clone)]
struct OpState {
    /// Work centre indices of the alternatives.
    alts: Vec<u16>,
    /// `(work centre, machine, timeline key)`.
    at: Option<(u16, u16, Minute)>,
    status: OperationStatus,
}

#[derive(Debug, Clone)]
struct OrderState<K> {
    /// Shared, so saving an order's state for a replan trial does not copy its routing.
    order: Arc<Order<K>>,
    sku: u32,
    ops: Vec<OpState>,
    finish: Option<Minute>,
    promised: Option<Date>,
    due: Date,
}

/// The live schedule of one factory, its orders identified by keys `K`.
#[derive(Debug, Clone)]
pub struct Schedule<K = String> {
    origin: Date,
    horizon_days: u32,
    now: Minute,
    centres: Vec<Centre>,
    centre_ix: HashMap<String, u16>,
    orders: Vec<OrderState<K>>,
    order_ix: HashMap<K, u32>,
    skus: Vec<String>,
    sku_ix: HashMap<String, u32>,
    /// Bumped by every change, so a quote knows whether it can still be committed as is.
    version: u64,
    /// Weekdays a delivery may fall on, Monday first; every day unless set.
    delivery_days: [bool; 7],
}

impl Schedule {
    /// An empty schedule of orders keyed by `String`; calendars are unrolled for
    /// `horizon_days` from `origin`, and no work can be placed beyond. For other keys see
    /// [`Schedule::new_keyed`].
    pub fn new(
        origin: Date,
        horizon_days: u32,
        work_centres: Vec<WorkCentre>,
    ) -> Result<Schedule, LiveError> {
        Self::new_keyed(origin, horizon_days, work_centres)
    }
}

impl<K: OrderKey> Schedule<K> {
    /// An empty schedule of orders keyed by `K`, otherwise as [`Schedule::new`]:
    /// `Schedule::<LineRef>::new_keyed(..)`, or just `Schedule::new_keyed(..)` where the
    /// key type is known. (`new` is for `String` keys only, so that code naming no key type
    /// needs no annotation.)
    pub fn new_keyed(
        origin: Date,
        horizon_days: u32,
        work_centres: Vec<WorkCentre>,
    ) -> Result<Self, LiveError<K>> {
        if horizon_days == 0 || horizon_days > MAX_HORIZON_DAYS {
            return Err(LiveError::BadHorizon { days: horizon_days });
        }
        if work_centres.len() > usize::from(u16::MAX) {
            return Err(LiveError::TooManyWorkCentres {
                count: work_centres.len(),
            });
        }
        let mut centre_ix = HashMap::new();
        let mut centres = Vec::with_capacity(work_centres.len());
        for (i, def) in work_centres.into_iter().enumerate() {
            if def.machines == 0 {
                return Err(LiveError::NoMachines {
                    work_centre: def.id,
                });
            }
            def.calendar.validate(&def.id)?;
            if centre_ix.insert(def.id.clone(), i as u16).is_some() {
                return Err(LiveError::DuplicateWorkCentre {
                    work_centre: def.id,
                });
            }
            let working = Arc::new(Working::build(&def.calendar, origin, horizon_days));
            centres.push(Centre {
                machines: vec![Timeline::new(working.clone()); usize::from(def.machines)],
                machine_down: vec![Vec::new(); usize::from(def.machines)],
                working,
                def,
            });
        }
        Ok(Self {
            origin,
            horizon_days,
            now: 0,
            centres,
            centre_ix,
            orders: Vec::new(),
            order_ix: HashMap::new(),
            skus: Vec::new(),
            sku_ix: HashMap::new(),
            version: 0,
            delivery_days: [true; 7],
        })
    }

    /// Promises deliveries only on these weekdays (1 = Monday .. 7 =
    /// Sunday), the carrier's and the stores' delivery days: a delivery that
    /// would fall on another day moves to the next one that is. Numbers
    /// outside 1..=7 are ignored; no valid day at all leaves every day.
    pub fn set_delivery_weekdays(&mut self, days: &[u8]) {
        let mut set = [false; 7];
        for &d in days {
            if (1..=7).contains(&d) {
                set[usize::from(d - 1)] = true;
            }
        }
        self.delivery_days = if set.contains(&true) { set } else { [true; 7] };
        self.version += 1;
    }

    pub fn origin(&self) -> Date {
        self.origin
    }

    pub fn horizon_days(&self) -> u32 {
        self.horizon_days
    }

    pub fn now(&self) -> Minute {
        self.now
    }

    /// Moves the clock forward: nothing new is placed before `now`.
    pub fn set_now(&mut self, now: Minute) -> Result<(), LiveError<K>> {
        if now < self.now {
            return Err(LiveError::TimeBackwards {
                now: self.now,
                to: now,
            });
        }
        self.now = now;
        self.version += 1;
        Ok(())
    }

    pub fn work_centres(&self) -> impl Iterator<Item = &WorkCentre> {
        self.centres.iter().map(|c| &c.def)
    }

    /// Number of operations on the schedule.
    pub fn operation_count(&self) -> usize {
        self.centres
            .iter()
            .flat_map(|c| &c.machines)
            .map(Timeline::len)
            .sum()
    }

    /// How many orders the schedule holds.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// The keys of the orders on the schedule, in the order they were added.
    pub fn order_ids(&self) -> impl Iterator<Item = &K> {
        self.orders.iter().map(|o| &o.order.id)
    }

    /// The calendar date of minute `t`.
    pub fn date_of(&self, t: Minute) -> Result<Date, LiveError<K>> {
        add_days(self.origin, t.div_euclid(DAY))
    }

    /// Delivery for work finishing at `finish` (an exclusive end: work ending at midnight
    /// ended the day before).
    fn delivery(&self, finish: Minute, ship_days: u32) -> Result<Date, LiveError<K>> {
        let mut day = add_days(
            self.origin,
            (finish - 1).div_euclid(DAY) + i64::from(ship_days),
        )?;
        // At most six days on to a delivery day (`delivery_days` has one).
        while !self.delivery_days[usize::from(day.weekday().to_monday_one_offset() as u8 - 1)] {
            day = add_days(day, 1)?;
        }
        Ok(day)
    }

    /// Ships a placed order `ship_days` calendar days after its finish instead of its own
    /// (a carrier's transit, known only once the finish is): its promise moves with it, and
    /// so does its due date when the customer asked for none. Returns the new delivery;
    /// `None` for an unknown or unplaced order.
    pub fn set_ship_days<Q>(&mut self, id: &Q, ship_days: u32) -> Option<Date>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let o = *self.order_ix.get(id)? as usize;
        let finish = self.orders[o].finish?;
        let delivery = self.delivery(finish, ship_days).ok()?;
        let state = &mut self.orders[o];
        let mut order = Order::clone(&state.order);
        order.ship_days = ship_days;
        if order.due.is_none() {
            state.due = delivery;
        }
        state.order = Arc::new(order);
        state.promised = Some(delivery);
        self.version += 1;
        Some(delivery)
    }

    fn centre(&self, id: &str) -> Result<u16, LiveError<K>> {
        self.centre_ix
            .get(id)
            .copied()
            .ok_or_else(|| LiveError::UnknownWorkCentre {
                work_centre: id.to_owned(),
            })
    }

    /// The index of a SKU, registered if new.
    fn intern_sku(&mut self, sku: &str) -> u32 {
        if let Some(&s) = self.sku_ix.get(sku) {
            return s;
        }
        let s = self.skus.len() as u32;
        self.skus.push(sku.to_owned());
        self.sku_ix.insert(sku.to_owned(), s);
        s
    }

    /// Adds an order's state; returns its index.
    fn push_order(&mut self, state: OrderState<K>) -> u32 {
        let o = self.orders.len() as u32;
        self.order_ix.insert(state.order.id.clone(), o);
        self.orders.push(state);
        o
    }

    /// Points each bar of a machine's timeline back from its order.
    fn reindex(&mut self, wc: u16, m: u16) {
        let Self {
            centres, orders, ..
        } = self;
        for (key, bar) in &centres[usize::from(wc)].machines[usize::from(m)] {
            orders[bar.order as usize].ops[usize::from(bar.op)].at = Some((wc, m, *key));
        }
    }

    /// Finish of an order's last placed operation, if every operation is placed (or done
    /// ahead of plan, off its machine).
    fn order_finish(&self, o: u32) -> Option<Minute> {
        let mut finish = None;
        for op in &self.orders[o as usize].ops {
            let Some((wc, m, key)) = op.at else {
                // Done ahead of plan and off its machine: it holds nothing up.
                if op.status == OperationStatus::Done {
                    continue;
                }
                return None;
            };
            let end = self.centres[usize::from(wc)].machines[usize::from(m)][&key].end;
            finish = Some(finish.map_or(end, |f: Minute| f.max(end)));
        }
        finish
    }
}

fn add_days<K>(day: Date, days: i64) -> Result<Date, LiveError<K>> {
    let span = Span::new()
        .try_days(days)
        .map_err(|_| LiveError::DateOutOfRange)?;
    day.checked_add(span).map_err(|_| LiveError::DateOutOfRange)
}
