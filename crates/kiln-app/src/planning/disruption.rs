//! Disruptions: a work centre marked down for a period. The live schedule
//! moves only the operations the downtime hits (and what follows them), and
//! every order whose promised date moves is told so on its timeline, in the
//! same transaction that records the downtime.

use jiff::civil::Date;
use kiln_domain::{DowntimeId, Repromise, TimelineEntry, TimelineEntryId, TimelineStatus};
use kiln_plan::Downtime;
use serde::Serialize;

use crate::App;
use crate::error::{Error, Result};
use crate::live::{OrderOnSchedule, changed_orders, on_schedule};
use crate::runtime::BrandRuntime;
use crate::time::{long_date, today};

/// The longest period one downtime may cover.
const MAX_DOWN_DAYS: i32 = 366;
/// How far ahead a downtime may start: two years, past any plan's horizon
/// (a date in the year 9999 is a typing slip, not a maintenance plan).
const MAX_DOWN_AHEAD_DAYS: i32 = 731;

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
    pub order_id: kiln_domain::OrderId,
    #[schema(value_type = String, format = Date)]
    pub previous_date: Date,
    #[schema(value_type = String, format = Date)]
    pub promised_date: Date,
}

/// What marking a work centre down did to the plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Disruption {
    pub downtime: kiln_domain::Downtime,
    /// Order lines whose operations the replan placed again.
    pub replanned: usize,
    /// Operations that moved to another time or machine.
    pub operations_moved: usize,
    /// The priority rule whose replan was kept (earliest promise, earliest
    /// due date or highest weight first).
    pub rule: String,
    /// Orders whose promised date changed, earliest promise first.
    pub moved: Vec<MovedPromise>,
    /// Orders that no longer fit within the planning horizon: their promise
    /// stands, and a planner must act on them.
    pub at_risk: Vec<kiln_domain::OrderId>,
}

/// Validates the period, records the downtime and replans the brand's open
/// orders around it. Work already started or done keeps its bookings.
pub async fn mark_down(app: &App, rt: &BrandRuntime, req: MarkDown<'_>) -> Result<Disruption> {
    let name = rt
        .catalog
        .factory
        .work_center(req.work_center)
        .map(|w| w.name.clone())
        .ok_or_else(|| Error::NotFound(format!("no work centre `{}`", req.work_center)))?;
    if req.to < req.from {
        return Err(Error::invalid("/to", "the period ends before it starts"));
    }
    if req.to < today() {
        return Err(Error::invalid("/to", "the period is already over"));
    }
    if (req.from - today()).get_days() > MAX_DOWN_AHEAD_DAYS {
        return Err(Error::invalid(
            "/from",
            format!("a downtime starts within {MAX_DOWN_AHEAD_DAYS} days from today"),
        ));
    }
    if (req.to - req.from).get_days() >= MAX_DOWN_DAYS {
        return Err(Error::invalid(
            "/to",
            format!("a downtime covers at most {MAX_DOWN_DAYS} days; record longer ones in parts"),
        ));
    }
    if req.reason.chars().count() > 200 {
        return Err(Error::invalid("/reason", "at most 200 characters"));
    }

    let mut plan = rt.plan_settled().await;
    // The replan rewrites orders' bookings: every order planned so far must
    // be in the store first, or its own write would come after and clash.
    app.orders.flush().await;
    plan.tick();
    let b = &rt.brand.id;
    let from = plan.clock.midnight(req.from);
    let to = plan.clock.midnight(req.to) + kiln_plan::live::DAY;
    // Kept to put back if the replan cannot be written.
    let before = plan.schedule.clone();
    let report = plan
        .schedule
        .mark_down(req.work_center, from, to)
        .map_err(|e| Error::Conflict(format!("cannot replan: {e}")))?;
    // Anything failing from here puts the schedule back as it was: memory must
    // not hold a replan the store does not.
    let written = async {
        let at = crate::time::now();
        let why = format!("{name} is down {}", period(req.from, req.to));
        let Replanned {
            repromises,
            moved,
            at_risk,
        } = repromise(app, b, &plan, &before, &report.orders, &why, at).await?;

        let downtime = kiln_domain::Downtime {
            id: DowntimeId::new(),
            work_center: req.work_center.to_string(),
            from_day: req.from,
            to_day: req.to,
            reason: req.reason.trim().to_string(),
            created_at: at,
        };
        app.store
            .record_replan(b, Some(&downtime), &repromises)
            .await?;
        Ok::<_, Error>((downtime, moved, at_risk))
    }
    .await;
    let (downtime, moved, at_risk) = match written {
        Ok(w) => w,
        Err(e) => {
            plan.schedule = before;
            return Err(e);
        }
    };
    if let Some(c) = plan.calendars.iter_mut().find(|c| c.id == req.work_center) {
        c.down.push(Downtime {
            from: req.from,
            to: req.to,
        });
    }
    super::live_mrp::follow_schedule(&mut plan, crate::time::today());
    Ok(Disruption {
        downtime,
        replanned: report.orders.len(),
        operations_moved: report.operations_moved,
        rule: report.rule.to_string(),
        moved,
        at_risk,
    })
}

/// What a replan means for the customers: every order whose bookings
/// changed, with its new promise (or its old one, at risk).
pub(crate) struct Replanned {
    pub repromises: Vec<Repromise>,
    pub moved: Vec<MovedPromise>,
    pub at_risk: Vec<kiln_domain::OrderId>,
}

/// Compares the schedule `before` a replan with `plan`'s, and for each order
/// whose bookings changed (or that the replan `reported`) reads its promise:
/// moved, kept, or at risk (an operation found no place). Each moved or
/// at-risk order gets a timeline entry saying `why`.
pub(crate) async fn repromise(
    app: &App,
    b: &kiln_domain::BrandId,
    plan: &crate::runtime::PlanState,
    before: &crate::live::Schedule,
    reported: &[kiln_plan::live::OrderChange<kiln_domain::LineRef>],
    why: &str,
    at: kiln_domain::Timestamp,
) -> Result<Replanned> {
    // The schedule replans order lines; customers hold promises per order.
    // Besides the lines it reports, a line may have kept its dates but not
    // its setup: every line whose bookings changed is written again.
    let touched = changed_orders(before, &plan.schedule, |id| {
        reported.iter().any(|c| &c.order == id)
    });
    let mut out = Replanned {
        repromises: Vec::new(),
        moved: Vec::new(),
        at_risk: Vec::new(),
    };
    for order_id in touched {
        let Some(order) = app.store.order(b, &order_id).await? else {
            continue;
        };
        let previous: Date = order.promised_date;
        let OrderOnSchedule {
            bookings,
            delivery,
            lost,
        } = on_schedule(plan, &order);
        let event = if lost {
            out.at_risk.push(order_id.clone());
            Some(format!(
                "Promise at risk: {why}; the factory will contact you"
            ))
        } else {
            match delivery {
                Some(d) if d != previous => {
                    out.moved.push(MovedPromise {
                        order_id: order_id.clone(),
                        previous_date: previous,
                        promised_date: d,
                    });
                    Some(format!(
                        "Promise moved from {} to {}: {why}",
                        long_date(previous),
                        long_date(d),
                    ))
                }
                _ => None,
            }
        };
        let promised = match delivery {
            Some(d) if !lost => d,
            _ => previous,
        };
        out.repromises.push(Repromise {
            order_id,
            promised_date: promised,
            bookings,
            event: event.map(|note| TimelineEntry {
                id: TimelineEntryId::new(),
                status: TimelineStatus::PromiseMoved,
                note,
                at,
            }),
        });
    }
    out.moved
        .sort_by_key(|m| (m.previous_date, m.order_id.clone()));
    Ok(out)
}

fn period(from: Date, to: Date) -> String {
    if from == to {
        long_date(from)
    } else {
        format!("{} to {}", long_date(from), long_date(to))
    }
}

/// Cancels a recorded downtime that is not over yet: the work centre's
/// capacity comes back for new orders at once. Nothing already booked moves
/// and no promise changes (a re-sequence pulls work forward), so the only
/// writes are the downtime's removal and its audit entry, in one transaction.
pub async fn cancel_down(
    app: &App,
    rt: &BrandRuntime,
    actor: &crate::Actor,
    id: &DowntimeId,
) -> Result<kiln_domain::Downtime> {
    let b = &rt.brand.id;
    let mut guard = rt.plan_settled().await;
    // One borrow of the plan, so its calendars and clock are used side by side.
    let plan = &mut *guard;
    let d = app
        .store
        .downtimes(b)
        .await?
        .into_iter()
        .find(|d| &d.id == id)
        .ok_or_else(|| Error::NotFound(format!("no downtime `{id}`")))?;
    if d.to_day < today() {
        return Err(Error::Conflict(format!(
            "the downtime of {} is over; it stays on record",
            period(d.from_day, d.to_day)
        )));
    }
    plan.tick();
    let (before_schedule, before_calendars) = (plan.schedule.clone(), plan.calendars.clone());
    let Some(c) = plan.calendars.iter_mut().find(|c| c.id == d.work_center) else {
        return Err(Error::NotFound(format!(
            "no work centre `{}` in the catalog",
            d.work_center
        )));
    };
    if let Some(at) = c
        .down
        .iter()
        .position(|x| x.from == d.from_day && x.to == d.to_day)
    {
        c.down.remove(at);
    }
    let remaining: Vec<kiln_plan::live::Period> = c
        .down
        .iter()
        .map(|x| kiln_plan::live::Period {
            from: plan.clock.midnight(x.from),
            to: plan.clock.midnight(x.to) + kiln_plan::live::DAY,
        })
        .collect();
    let lifted = plan
        .schedule
        .set_down(&d.work_center, remaining)
        .map_err(|e| Error::Conflict(format!("cannot lift the downtime: {e}")));
    let entry = crate::brands::audit_entry(
        Some(b),
        actor,
        kiln_domain::AuditAction::DowntimeCancelled,
        d.id.as_str(),
        format!(
            "{} down {} cancelled",
            d.work_center,
            period(d.from_day, d.to_day)
        ),
    );
    let written = match lifted {
        Ok(()) => app
            .store
            .cancel_downtime(b, id, &entry)
            .await
            .map_err(Error::from),
        Err(e) => Err(e),
    };
    match written {
        Ok(true) => {
            super::live_mrp::follow_schedule(plan, crate::time::today());
            Ok(d)
        }
        Ok(false) | Err(_) => {
            plan.schedule = before_schedule;
            plan.calendars = before_calendars;
            match written {
                Ok(_) => Err(Error::NotFound(format!("no downtime `{id}`"))),
                Err(e) => Err(e),
            }
        }
    }
}
