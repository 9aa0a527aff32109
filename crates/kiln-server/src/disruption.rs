//! Disruptions: a work centre marked down for a period. The plan is rebuilt
//! around it, and every order whose promised date moves is told so on its
//! timeline, in the same transaction that records the downtime.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;
use kiln_plan::{CapacityLedger, Downtime, PlannedOrder, RoutingDemand};
use kiln_store::{BookingRow, OrderEvent, Repromise};
use serde::Serialize;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::flow::HORIZON_DAYS;
use crate::ids::{new_id, now_ms, today};
use crate::runtime::BrandRuntime;
use crate::ui::long_date;

/// The longest period one downtime may cover.
const MAX_DOWN_DAYS: i32 = 366;

/// A work centre down for `from..=to`, as asked.
pub struct MarkDown<'a> {
    pub work_center: &'a str,
    pub from: Date,
    pub to: Date,
    pub reason: &'a str,
}

/// One order whose promised date the replan moved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MovedPromise {
    pub order_id: String,
    #[schema(value_type = String, format = Date)]
    pub previous_date: Date,
    #[schema(value_type = String, format = Date)]
    pub promised_date: Date,
}

/// What marking a work centre down did to the plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Disruption {
    pub downtime: kiln_store::Downtime,
    /// Orders not yet in production that the replan considered.
    pub replanned: usize,
    /// Orders whose promised date changed, earliest promise first.
    pub moved: Vec<MovedPromise>,
    /// Orders that no longer fit within the planning horizon: their promise
    /// stands, and a planner must act on them.
    pub at_risk: Vec<String>,
}

/// Validates the period, records the downtime and replans the brand's open
/// orders around it. Work already started or done keeps its bookings.
pub async fn mark_down(
    state: &AppState,
    rt: &BrandRuntime,
    req: MarkDown<'_>,
) -> ApiResult<Disruption> {
    let name = rt
        .catalog
        .factory
        .work_center(req.work_center)
        .map(|w| w.name.clone())
        .ok_or_else(|| ApiError::NotFound(format!("no work centre `{}`", req.work_center)))?;
    if req.to < req.from {
        return Err(ApiError::invalid("/to", "the period ends before it starts"));
    }
    if req.to < today() {
        return Err(ApiError::invalid("/to", "the period is already over"));
    }
    if (req.to - req.from).get_days() >= MAX_DOWN_DAYS {
        return Err(ApiError::invalid(
            "/to",
            format!("a downtime covers at most {MAX_DOWN_DAYS} days; record longer ones in parts"),
        ));
    }
    if req.reason.chars().count() > 200 {
        return Err(ApiError::invalid("/reason", "at most 200 characters"));
    }

    let mut plan = rt.plan.lock().await;
    // Every order planned so far must be in the store before it is read back.
    state.orders.flush().await;
    let b = &rt.brand.id;
    let bookings = state.store.bookings(b).await?;
    let open = state.store.open_promises(b).await?;

    let mut calendars = plan.calendars.clone();
    if let Some(c) = calendars.iter_mut().find(|c| c.id == req.work_center) {
        c.down.push(Downtime {
            from: req.from,
            to: req.to,
        });
    }

    let today = today();
    let movable: HashSet<&str> = open.iter().map(|o| o.order_id.as_str()).collect();
    let mut fixed = CapacityLedger::new();
    // (order, line) -> its bookings, in day order as the store returns them.
    let mut by_line: HashMap<(&str, i64), Vec<&BookingRow>> = HashMap::new();
    for row in &bookings {
        let day: Date = row
            .day
            .parse()
            .map_err(|_| ApiError::Internal(format!("stored booking day `{}`", row.day)))?;
        if movable.contains(row.order_id.as_str()) {
            by_line
                .entry((row.order_id.as_str(), row.line_no))
                .or_default()
                .push(row);
        } else {
            fixed.book(&row.work_center, day, row.minutes.max(0) as u64);
        }
    }

    // One planned order per order line, earliest promise first.
    let mut lines = Vec::new();
    for o in &open {
        let previous: Date = o.promised_date.parse().map_err(|_| {
            ApiError::Internal(format!("stored promised date `{}`", o.promised_date))
        })?;
        for (line_no, product_id) in &o.lines {
            let rows = by_line
                .get(&(o.order_id.as_str(), *line_no))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let product = rt.catalog.product(product_id).map(|c| c.product());
            lines.push(PlannedOrder {
                id: format!("{}#{line_no}", o.order_id),
                steps: steps(rows, product),
                release: rows
                    .first()
                    .and_then(|r| r.day.parse().ok())
                    .map_or(today, |d: Date| d.max(today)),
                ship_days: product.map_or(0, |p| p.ship_days),
                delivery: previous,
            });
        }
    }
    let replan = kiln_plan::replan_onto(fixed, &calendars, &lines, HORIZON_DAYS);

    let at = now_ms();
    let mut repromises = Vec::new();
    let mut moved = Vec::new();
    let mut at_risk = Vec::new();
    let mut results = replan.orders.iter();
    for o in &open {
        let previous: Date = o.promised_date.parse().unwrap_or(today);
        let mut new_bookings = Vec::new();
        let mut delivery = None::<Date>;
        let mut lost = false;
        for (line_no, _) in &o.lines {
            let Some(r) = results.next() else { break };
            match &r.promise {
                Ok(p) => {
                    delivery = Some(delivery.map_or(p.delivery, |d| d.max(p.delivery)));
                    new_bookings.extend(p.bookings.iter().map(|bk| BookingRow {
                        order_id: o.order_id.clone(),
                        line_no: *line_no,
                        operation: bk.operation.clone(),
                        work_center: bk.work_center.clone(),
                        day: bk.day.to_string(),
                        minutes: bk.minutes as i64,
                    }));
                }
                Err(_) => lost = true,
            }
        }
        let old_bookings: Vec<&BookingRow> = bookings
            .iter()
            .filter(|r| r.order_id == o.order_id)
            .collect();
        let unchanged = same_bookings(&old_bookings, &new_bookings);
        let event = if lost {
            at_risk.push(o.order_id.clone());
            Some(format!(
                "Promise at risk: {name} is down {}; the factory will contact you",
                period(req.from, req.to)
            ))
        } else {
            match delivery {
                Some(d) if d != previous => {
                    moved.push(MovedPromise {
                        order_id: o.order_id.clone(),
                        previous_date: previous,
                        promised_date: d,
                    });
                    Some(format!(
                        "Promise moved from {} to {}: {name} is down {}",
                        long_date(&previous.to_string()),
                        long_date(&d.to_string()),
                        period(req.from, req.to)
                    ))
                }
                _ => None,
            }
        };
        if unchanged && event.is_none() {
            continue;
        }
        let promised = match delivery {
            Some(d) if !lost => d,
            _ => previous,
        };
        repromises.push(Repromise {
            order_id: o.order_id.clone(),
            promised_date: promised.to_string(),
            bookings: new_bookings,
            event: event.map(|note| OrderEvent {
                id: new_id("evt"),
                status: "promise_moved".into(),
                note,
                at,
            }),
        });
    }

    let downtime = kiln_store::Downtime {
        id: new_id("dwn"),
        work_center: req.work_center.to_string(),
        from_day: req.from.to_string(),
        to_day: req.to.to_string(),
        reason: req.reason.trim().to_string(),
        created_at: at,
    };
    state
        .store
        .record_downtime(b, &downtime, &repromises)
        .await?;
    plan.calendars = calendars;
    plan.ledger = replan.ledger;
    plan.generation += 1;
    Ok(Disruption {
        downtime,
        replanned: open.len(),
        moved,
        at_risk,
    })
}

/// A line's operations with their booked minutes, in routing order: by the
/// day each starts, then by the product's operation order for a same-day tie.
fn steps(rows: &[&BookingRow], product: Option<&kiln_model::Product>) -> Vec<RoutingDemand> {
    let rank = |op: &str| {
        product
            .and_then(|p| p.operations.iter().position(|o| o.id == op))
            .unwrap_or(usize::MAX)
    };
    // operation -> (first day, work centre, minutes)
    let mut ops: BTreeMap<&str, (&str, &str, u64)> = BTreeMap::new();
    for r in rows {
        let e =
            ops.entry(r.operation.as_str())
                .or_insert((r.day.as_str(), r.work_center.as_str(), 0));
        e.0 = e.0.min(r.day.as_str());
        e.2 += r.minutes.max(0) as u64;
    }
    let mut ordered: Vec<_> = ops.into_iter().collect();
    ordered.sort_by_key(|(op, (day, _, _))| (*day, rank(op)));
    ordered
        .into_iter()
        .map(|(op, (_, wc, minutes))| RoutingDemand {
            operation: op.to_string(),
            work_center: wc.to_string(),
            minutes,
        })
        .collect()
}

fn same_bookings(old: &[&BookingRow], new: &[BookingRow]) -> bool {
    let key = |b: &BookingRow| {
        (
            b.line_no,
            b.operation.clone(),
            b.work_center.clone(),
            b.day.clone(),
            b.minutes,
        )
    };
    let mut a: Vec<_> = old.iter().map(|b| key(b)).collect();
    let mut n: Vec<_> = new.iter().map(key).collect();
    a.sort();
    n.sort();
    a == n
}

fn period(from: Date, to: Date) -> String {
    if from == to {
        long_date(&from.to_string())
    } else {
        format!(
            "{} to {}",
            long_date(&from.to_string()),
            long_date(&to.to_string())
        )
    }
}
