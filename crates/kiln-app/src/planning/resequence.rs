//! Re-sequencing the open work for on-time delivery: the live schedule's
//! optimizer (`Schedule::optimize`) over every order not yet on the shop
//! floor. Promises never get later; the bookings of every order it moved are
//! rewritten in one transaction, and the old schedule is put back if that
//! write fails.

use kiln_domain::Repromise;
use serde::Serialize;

use crate::App;
use crate::error::{Error, Result};
use crate::live::{OrderOnSchedule, changed_orders, on_schedule, timestamp};
use crate::runtime::BrandRuntime;

/// Evaluations when the planner does not say.
pub const DEFAULT_EVALUATIONS: u64 = 2_000;
/// Most evaluations one request may ask for (seconds of work on a large plan).
pub const MAX_EVALUATIONS: u64 = 20_000;
/// The optimizer is deterministic per seed; one fixed seed makes a repeated
/// request a no-op rather than a reshuffle.
const SEED: u64 = 0x6b69_6c6e;

/// What re-sequencing did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Resequenced {
    /// Whether a better plan was found and applied.
    pub applied: bool,
    /// Sum over open order lines of weight × days late against their due date.
    pub weighted_days_late_before: u64,
    pub weighted_days_late_after: u64,
    /// When the last planned operation ends.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finish_before: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finish_after: Option<jiff::Timestamp>,
    /// Plans evaluated.
    pub evaluations: u64,
    /// Orders whose bookings were rewritten.
    pub orders_rebooked: usize,
}

pub async fn resequence(app: &App, rt: &BrandRuntime, evaluations: u64) -> Result<Resequenced> {
    let mut plan = rt.plan_settled().await;
    // Every acknowledged order must be in the store before its bookings are
    // rewritten.
    app.orders.flush().await;
    plan.tick();
    let before = plan.schedule.clone();
    let report = plan
        .schedule
        .optimize(evaluations.min(MAX_EVALUATIONS), SEED)
        .map_err(|e| Error::Conflict(format!("cannot re-sequence: {e}")))?;
    // Anything failing from here puts the schedule back as it was.
    let written = async {
        let touched = changed_orders(&before, &plan.schedule, |_| false);
        let b = &rt.brand.id;
        let mut repromises = Vec::new();
        for order_id in &touched {
            let Some(order) = app.store.order(b, order_id).await? else {
                continue;
            };
            let OrderOnSchedule { bookings, .. } = on_schedule(&plan, &order);
            repromises.push(Repromise {
                order_id: order.id.clone(),
                // Finishing earlier keeps the date the customer was given.
                promised_date: order.promised_date,
                bookings,
                event: None,
            });
        }
        app.store.record_replan(b, None, &repromises).await?;
        Ok::<_, Error>(repromises.len())
    }
    .await;
    let rebooked = match written {
        Ok(n) => n,
        Err(e) => {
            plan.schedule = before;
            return Err(e);
        }
    };
    super::live_mrp::follow_schedule(&mut plan, crate::time::today());
    let finish = |m: i64| (m > 0).then(|| timestamp(plan.clock.epoch(m)));
    Ok(Resequenced {
        applied: rebooked > 0,
        weighted_days_late_before: report.weighted_tardiness_before,
        weighted_days_late_after: report.weighted_tardiness_after,
        finish_before: finish(report.makespan_before),
        finish_after: finish(report.makespan_after),
        evaluations: report.evaluations,
        orders_rebooked: rebooked,
    })
}
