//! Forward finite-capacity promises: place a routing on day buckets as early as capacity
//! allows, and derive the promised delivery date from where the last operation lands.

use std::collections::HashMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::{CapacityLedger, PlanError, WorkCenterCalendar, add_days};

/// One routing operation's load for a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutingDemand {
    pub operation: String,
    pub work_center: String,
    /// Total machine minutes for the batch, setup included.
    pub minutes: u64,
}

/// Minutes of one operation placed on one work centre on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Booking {
    pub operation: String,
    pub work_center: String,
    pub day: Date,
    pub minutes: u64,
}

/// Where a routing would land given current load, and the delivery date that follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promise {
    /// In routing order, and in day order within each operation.
    pub bookings: Vec<Booking>,
    /// Day the first operation starts (the release day when nothing needs booking).
    pub start: Date,
    /// Day the last operation ends.
    pub finish: Date,
    /// `finish + ship_days` calendar days: carriers ship on calendar, not factory, days.
    pub delivery: Date,
}

/// Places `steps` (in routing order) forward from `release` on finite capacity.
///
/// Each operation starts no earlier than the day the previous one ends (the same day if
/// capacity remains) and consumes the free minutes (capacity − ledger − this promise's
/// earlier bookings) day by day until covered, splitting across days. An operation of zero
/// minutes books nothing and ends where the previous one ended. The search covers
/// `horizon_days` days starting at `release`; a step that cannot be covered by then is
/// [`PlanError::NoCapacity`]. The ledger is not mutated: accept the promise with
/// [`CapacityLedger::apply`].
pub fn promise(
    calendars: &[WorkCenterCalendar],
    ledger: &CapacityLedger,
    steps: &[RoutingDemand],
    release: Date,
    ship_days: u32,
    horizon_days: u32,
) -> Result<Promise, PlanError> {
    // What earlier steps of this same promise already took, on top of the ledger.
    let mut own: HashMap<(&str, Date), u64> = HashMap::new();
    let mut bookings = Vec::new();
    // Cursor: the day the previous operation ended, with its offset from `release`.
    let mut day = release;
    let mut offset: u32 = 0;

    for step in steps {
        let calendar = calendars
            .iter()
            .find(|c| c.id == step.work_center)
            .ok_or_else(|| PlanError::UnknownWorkCenter {
                work_center: step.work_center.clone(),
            })?;
        let mut remaining = step.minutes;
        while remaining > 0 {
            if offset >= horizon_days {
                return Err(PlanError::NoCapacity {
                    operation: step.operation.clone(),
                    work_center: step.work_center.clone(),
                    release,
                    horizon_days,
                });
            }
            let key = (step.work_center.as_str(), day);
            let taken = own.get(&key).copied().unwrap_or(0);
            let free = calendar
                .capacity_on(day)
                .saturating_sub(ledger.booked(&step.work_center, day))
                .saturating_sub(taken);
            let minutes = free.min(remaining);
            if minutes > 0 {
                own.insert(key, taken + minutes);
                bookings.push(Booking {
                    operation: step.operation.clone(),
                    work_center: step.work_center.clone(),
                    day,
                    minutes,
                });
                remaining -= minutes;
            }
            if remaining > 0 {
                day = day.tomorrow().map_err(|_| PlanError::DateOutOfRange)?;
                offset += 1;
            }
        }
    }

    let start = bookings.first().map_or(release, |b| b.day);
    let finish = day;
    Ok(Promise {
        bookings,
        start,
        finish,
        delivery: add_days(finish, ship_days)?,
    })
}

/// An order already promised, as the replan needs to see it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedOrder {
    /// Caller's reference (order line or work order id), echoed back in [`Replanned`].
    pub id: String,
    pub steps: Vec<RoutingDemand>,
    pub release: Date,
    pub ship_days: u32,
    /// The delivery date currently promised to the customer.
    pub delivery: Date,
}

/// The outcome of re-promising one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replanned {
    pub id: String,
    pub previous_delivery: Date,
    /// The new promise, or why it can no longer be placed (its capacity is then not booked).
    pub promise: Result<Promise, PlanError>,
    /// Whether the customer must hear about it: the delivery date changed or was lost.
    pub moved: bool,
}

impl Replanned {
    pub fn delivery(&self) -> Option<Date> {
        self.promise.as_ref().ok().map(|p| p.delivery)
    }
}

/// A rebuilt plan: every order re-promised, and the ledger those promises add up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replan {
    pub orders: Vec<Replanned>,
    #[serde(skip)]
    pub ledger: CapacityLedger,
}

/// Rebuilds the load after a disruption (new downtime, late material moving a release).
///
/// Starts from an empty ledger and re-promises `orders` in the given priority order
/// (earliest promised first), each from its own release, so earlier commitments keep first
/// claim on capacity. Rebuilding from scratch rather than patching avoids drift between the
/// ledger and the promises. An order that no longer fits is reported, not fatal, so one
/// impossible order cannot block the rest of the factory.
pub fn replan(
    calendars: &[WorkCenterCalendar],
    orders: &[PlannedOrder],
    horizon_days: u32,
) -> Replan {
    replan_onto(CapacityLedger::new(), calendars, orders, horizon_days)
}

/// [`replan`] on top of load that cannot move: work already started or done keeps its
/// bookings in `fixed`, and the re-promised orders fit around it.
pub fn replan_onto(
    fixed: CapacityLedger,
    calendars: &[WorkCenterCalendar],
    orders: &[PlannedOrder],
    horizon_days: u32,
) -> Replan {
    let mut ledger = fixed;
    let orders = orders
        .iter()
        .map(|order| {
            let result = promise(
                calendars,
                &ledger,
                &order.steps,
                order.release,
                order.ship_days,
                horizon_days,
            );
            if let Ok(p) = &result {
                ledger.apply(p);
            }
            let moved = result
                .as_ref()
                .map_or(true, |p| p.delivery != order.delivery);
            Replanned {
                id: order.id.clone(),
                previous_delivery: order.delivery,
                promise: result,
                moved,
            }
        })
        .collect();
    Replan { orders, ledger }
}
