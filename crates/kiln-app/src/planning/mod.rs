//! Planning: the live schedule as Gantt data, work centre queues, material
//! positions and shortages, disruptions, re-sequencing, the material plan.

pub(crate) mod disruption;
mod late_supply;
pub(crate) mod live_mrp;
mod material_plan;
mod resequence;
mod schedule;

use jiff::ToSpan;
use jiff::civil::Date;
use kiln_domain::{Downtime, OperationStatus, WorkOrderId};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

pub use disruption::{Disruption, MarkDown, MovedPromise};
pub use late_supply::LatePurchase;
pub use material_plan::{
    AssemblyDay, AssemblyRecord, ForecastLeft, MaterialPlan, MaterialRecord, NetChangeStats,
    OrderShortage, PlannedMaking, PlannedPurchase,
};
pub use resequence::{DEFAULT_EVALUATIONS, MAX_EVALUATIONS, Resequenced};
pub use schedule::{Bar, ScheduleDay, WorkCenterSchedule};

use crate::error::{Error, Result};
use crate::{App, time};

/// Most days one schedule view covers.
pub const MAX_DAYS: i32 = 92;

#[derive(Serialize, ToSchema)]
pub struct ScheduleView {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    pub days: i32,
    pub work_centers: Vec<WorkCenterSchedule>,
}

#[derive(Serialize, ToSchema)]
pub struct QueueItem {
    pub work_order_id: WorkOrderId,
    pub sku: String,
    pub quantity: i64,
    pub seq: i64,
    pub operation: String,
    pub name: String,
    /// `pending` or `started`.
    pub status: OperationStatus,
    /// Whether every earlier operation of the work order is done, so an
    /// operator can start it now.
    pub ready: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WorkCenterQueue {
    pub work_center: String,
    pub name: String,
    /// Started first, then ready, then waiting; oldest work order first within each.
    pub queue: Vec<QueueItem>,
}

#[derive(Serialize, ToSchema)]
pub struct Shortage {
    pub material: String,
    pub name: String,
    pub unit: String,
    /// Allocated to orders beyond what is on hand.
    #[schema(value_type = String)]
    pub short: Decimal,
    /// Already suggested for purchase.
    #[schema(value_type = String)]
    pub on_order: Decimal,
    /// Short even after what is on order arrives.
    #[schema(value_type = String)]
    pub uncovered: Decimal,
}

#[derive(Serialize, ToSchema)]
pub struct MaterialView {
    pub id: String,
    pub name: String,
    pub unit: String,
    #[schema(value_type = String)]
    pub on_hand: Decimal,
    #[schema(value_type = String)]
    pub allocated: Decimal,
    #[schema(value_type = String)]
    pub on_order: Decimal,
    /// on hand + on order - allocated; negative means short.
    #[schema(value_type = String)]
    pub available: Decimal,
}

/// Lines judged per report of earlier deliveries (the soonest promised).
pub const EARLIER_TRIED: usize = 500;

/// Lines that could be delivered earlier than promised, now.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EarlierDeliveries {
    /// How many open lines were judged at most (the soonest promised).
    pub tried_at_most: u64,
    pub lines: Vec<EarlierDelivery>,
}

/// One line that could be delivered earlier: `POST .../schedule/optimize`
/// (re-sequencing) is what moves it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EarlierDelivery {
    #[schema(value_type = String)]
    pub order_id: kiln_domain::OrderId,
    pub line_no: i64,
    #[schema(value_type = String, format = Date)]
    pub promised_date: Date,
    #[schema(value_type = String, format = Date)]
    pub possible_date: Date,
}

impl App {
    /// The live schedule as Gantt data for `days` days from `from`.
    pub async fn schedule(
        &self,
        slug: &str,
        from: Option<Date>,
        days: i32,
    ) -> Result<ScheduleView> {
        let rt = self.brand(slug).await?;
        let from = from.unwrap_or_else(time::today);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(Error::invalid("days", format!("between 1 and {MAX_DAYS}")));
        }
        from.checked_add((days - 1).days())
            .map_err(|_| Error::invalid("from", "too far in the future"))?;
        let plan = rt.plan.lock().await;
        Ok(ScheduleView {
            from,
            days,
            work_centers: schedule::gantt(&rt, &plan, from, days),
        })
    }

    /// The open operations at one work centre.
    pub async fn queue(&self, slug: &str, work_center: &str) -> Result<WorkCenterQueue> {
        let rt = self.brand(slug).await?;
        let wc = rt
            .catalog
            .factory
            .work_center(work_center)
            .ok_or_else(|| Error::NotFound(format!("no work centre `{work_center}`")))?;
        let mut queue = Vec::new();
        for wo in self.store.work_orders(&rt.brand.id, true).await? {
            for (i, op) in wo.operations.iter().enumerate() {
                if op.work_center != wc.id || op.status == OperationStatus::Done {
                    continue;
                }
                queue.push(QueueItem {
                    work_order_id: wo.id.clone(),
                    sku: wo.sku.clone(),
                    quantity: wo.quantity,
                    seq: op.seq,
                    operation: op.operation.clone(),
                    name: op.name.clone(),
                    status: op.status,
                    ready: wo.operations[..i]
                        .iter()
                        .all(|o| o.status == OperationStatus::Done),
                });
            }
        }
        // Stable: work orders come oldest first.
        queue.sort_by_key(|q| (q.status != OperationStatus::Started, !q.ready));
        Ok(WorkCenterQueue {
            work_center: wc.id.clone(),
            name: wc.name.clone(),
            queue,
        })
    }

    /// Stock positions of the brand's materials.
    pub async fn materials(&self, slug: &str) -> Result<Vec<MaterialView>> {
        let rt = self.brand(slug).await?;
        let plan = rt.plan.lock().await;
        Ok(plan
            .positions(&rt.catalog.factory)
            .map(|(m, p)| MaterialView {
                id: m.id.clone(),
                name: m.name.clone(),
                unit: m.unit.clone(),
                on_hand: p.on_hand.normalize(),
                allocated: p.allocated.normalize(),
                on_order: p.on_order.normalize(),
                available: p.available().normalize(),
            })
            .collect())
    }

    /// Materials the orders need beyond what is on hand.
    pub async fn shortages(&self, slug: &str) -> Result<Vec<Shortage>> {
        let rt = self.brand(slug).await?;
        let plan = rt.plan.lock().await;
        Ok(plan
            .positions(&rt.catalog.factory)
            .filter(|(_, p)| p.allocated > p.on_hand)
            .map(|(m, p)| {
                let short = p.allocated - p.on_hand;
                Shortage {
                    material: m.id.clone(),
                    name: m.name.clone(),
                    unit: m.unit.clone(),
                    short: short.normalize(),
                    on_order: p.on_order.normalize(),
                    uncovered: (short - p.on_order).max(Decimal::ZERO).normalize(),
                }
            })
            .collect())
    }

    /// Recorded downtimes of every work centre.
    pub async fn downtimes(&self, slug: &str) -> Result<Vec<Downtime>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.downtimes(&brand.id).await?)
    }

    /// Marks a work centre down and replans the open orders around it.
    pub async fn mark_down(&self, slug: &str, req: MarkDown<'_>) -> Result<Disruption> {
        let rt = self.brand(slug).await?;
        disruption::mark_down(self, &rt, req).await
    }

    /// Cancels a downtime not over yet; its capacity is free again.
    pub async fn cancel_downtime(
        &self,
        actor: &crate::Actor,
        slug: &str,
        id: &kiln_domain::DowntimeId,
    ) -> Result<kiln_domain::Downtime> {
        let rt = self.brand(slug).await?;
        disruption::cancel_down(self, &rt, actor, id).await
    }

    /// Re-sequences the work not yet on the floor for on-time delivery.
    pub async fn resequence(&self, slug: &str, evaluations: u64) -> Result<Resequenced> {
        if !(1..=MAX_EVALUATIONS).contains(&evaluations) {
            return Err(Error::invalid(
                "/evaluations",
                format!("between 1 and {MAX_EVALUATIONS}"),
            ));
        }
        let rt = self.brand(slug).await?;
        resequence::resequence(self, &rt, evaluations).await
    }

    /// Order lines not started yet that could be delivered earlier than
    /// promised if placed again now (after a cancellation or a change gave
    /// time back, say): a report, soonest promised first; re-sequencing
    /// moves them, never later. Judged on a copy, off the async workers.
    pub async fn earlier_deliveries(&self, slug: &str) -> Result<EarlierDeliveries> {
        let rt = self.brand(slug).await?;
        let schedule = {
            let mut plan = rt.plan.lock().await;
            plan.tick();
            plan.schedule.clone()
        };
        let found = tokio::task::spawn_blocking(move || schedule.earlier(EARLIER_TRIED))
            .await
            .map_err(|e| Error::internal_from("the report of earlier deliveries stopped", e))?;
        Ok(EarlierDeliveries {
            tried_at_most: EARLIER_TRIED as u64,
            lines: found
                .into_iter()
                .map(|e| EarlierDelivery {
                    order_id: e.order.order.clone(),
                    line_no: e.order.line_no,
                    promised_date: e.promised,
                    possible_date: e.possible,
                })
                .collect(),
        })
    }

    /// The time-phased material plan.
    pub async fn material_plan(&self, slug: &str) -> Result<MaterialPlan> {
        let rt = self.brand(slug).await?;
        material_plan::material_plan(self, &rt).await
    }
}
