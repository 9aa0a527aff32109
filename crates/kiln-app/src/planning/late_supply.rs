//! A supply that arrives late (issue 12 §3): a supplier says a purchase on
//! order comes later. The orders whose production waited for it, and which
//! stock and the other purchases no longer cover by their start, move to the
//! day their material is there; every order whose promise moved is told, on
//! its timeline and as `order.promise_moved`, in the transaction that records
//! the new arrival.

use std::collections::HashMap;

use jiff::civil::Date;
use kiln_domain::{LineRef, OrderId, PurchaseSuggestion, SuggestionId};
use serde::Serialize;
use utoipa::ToSchema;

use super::disruption::{MovedPromise, Replanned, repromise};
use crate::error::{Error, NamedNotFound, Result};
use crate::time::{long_date, today};
use crate::{App, time};

/// How far ahead a purchase may be said to arrive: two years.
const MAX_AHEAD_DAYS: i32 = 731;

/// What a late purchase did to the plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LatePurchase {
    pub purchase: PurchaseSuggestion,
    /// Orders whose production now waits for it (or for a later purchase),
    /// replanned from the day their material is there.
    pub waiting: Vec<OrderId>,
    /// Orders whose promised date moved, earliest promise first.
    pub moved: Vec<MovedPromise>,
    /// Orders that no longer fit within the planning horizon: their promise
    /// stands, and a planner must act on them.
    pub at_risk: Vec<OrderId>,
}

impl App {
    /// Records that an open purchase will arrive on `arrives`, and moves the
    /// orders it must.
    pub async fn delay_purchase(
        &self,
        slug: &str,
        id: &SuggestionId,
        arrives: Date,
    ) -> Result<LatePurchase> {
        let today = today();
        if arrives < today {
            return Err(Error::invalid(
                "/arrives",
                "a purchase cannot arrive in the past",
            ));
        }
        if (arrives - today).get_days() > MAX_AHEAD_DAYS {
            return Err(Error::invalid(
                "/arrives",
                format!("a purchase arrives within {MAX_AHEAD_DAYS} days from today"),
            ));
        }
        let rt = self.brand(slug).await?;
        let b = &rt.brand.id;
        // The replan rewrites orders' bookings: orders queued for the writer first.
        self.orders.flush().await;
        let mut plan = rt.plan_settled().await;
        plan.tick();
        let open = self.store.suggestions(b).await?;
        let Some(purchase) = open.into_iter().find(|s| &s.id == id) else {
            // Unknown or received: the store says which.
            self.store
                .record_late_purchase(b, id, arrives, &[])
                .await
                .or_not_found(|| format!("no purchase `{id}`"))?;
            return Err(Error::Conflict(
                "this purchase changed meanwhile; try again".into(),
            ));
        };
        let material = purchase.material.clone();
        // Orders whose material is there later than before, and after their start.
        let before: HashMap<OrderId, Option<Date>> = plan
            .mrp
            .coverage(&material, None)
            .into_iter()
            .map(|(o, _, there)| (o, there))
            .collect();
        let mut waiting: Vec<(OrderId, Date)> = Vec::new();
        for (order, need_by, there) in plan.mrp.coverage(&material, Some((id, arrives))) {
            let Some(there) = there else { continue };
            let earlier = before.get(&order).copied().flatten().unwrap_or(need_by);
            if there > need_by.max(earlier) {
                waiting.push((order, there));
            }
        }
        let schedule_before = plan.schedule.clone();
        let replanned = async {
            for (order, there) in &waiting {
                let release = plan.clock.midnight(*there);
                let lines: Vec<LineRef> = plan
                    .schedule
                    .order_ids()
                    .filter(|l| &l.order == order)
                    .cloned()
                    .collect();
                for line in lines {
                    let Some(placed) = plan.schedule.order(&line) else {
                        continue;
                    };
                    // Started work has its material already.
                    if placed
                        .status
                        .iter()
                        .any(|s| *s != kiln_plan::live::OperationStatus::Planned)
                    {
                        continue;
                    }
                    let mut again = placed.order;
                    again.release = again.release.max(release);
                    plan.schedule
                        .remove(&line)
                        .map_err(|e| Error::Conflict(format!("cannot replan {line}: {e}")))?;
                    plan.schedule
                        .place(&again)
                        .map_err(|e| Error::Conflict(format!("cannot replan {line}: {e}")))?;
                }
            }
            let name = rt
                .catalog
                .factory
                .material(&material)
                .map_or(material.as_str(), |m| m.name.as_str());
            let why = format!(
                "the {} it needs arrives on {}, later than planned",
                name.to_lowercase(),
                long_date(arrives)
            );
            let replanned =
                repromise(self, b, &plan, &schedule_before, &[], &why, time::now()).await?;
            let stored = self
                .store
                .record_late_purchase(b, id, arrives, &replanned.repromises)
                .await
                .or_not_found(|| format!("no purchase `{id}`"))?;
            Ok::<_, Error>((replanned, stored))
        }
        .await;
        let (Replanned { moved, at_risk, .. }, stored) = match replanned {
            Ok(r) => r,
            Err(e) => {
                // Memory must not hold a replan the store does not.
                plan.schedule = schedule_before;
                return Err(e);
            }
        };
        plan.mrp.move_purchase(&material, id, arrives);
        // Their materials are needed when their production now starts.
        let starts = super::live_mrp::production_starts(&plan, today);
        for (order, there) in &waiting {
            let start = starts.get(order).copied().unwrap_or(*there);
            plan.mrp.move_order(order, start);
        }
        drop(plan);
        self.outbox.notify_one();
        Ok(LatePurchase {
            purchase: stored,
            waiting: waiting.into_iter().map(|(o, _)| o).collect(),
            moved,
            at_risk,
        })
    }
}
