//! The factory side: work orders, operators starting and completing
//! operations and purchases received into stock. Shipping is `shipping.rs`.

use kiln_domain::{
    OperationAction, OrderId, OrderStatus, PurchaseSuggestion, SuggestionId, WorkOrder, WorkOrderId,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Found, NamedNotFound, Result};
use crate::{App, time};

/// What recording an operation changed.
#[derive(Serialize, ToSchema)]
pub struct OperationResult {
    pub work_order: WorkOrder,
    /// Orders whose status moved, as `[order id, new status]`.
    pub orders: Vec<(OrderId, OrderStatus)>,
}

impl App {
    /// Work orders, one per SKU batch, with their operations.
    pub async fn work_orders(&self, slug: &str, open_only: bool) -> Result<Vec<WorkOrder>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.work_orders(&brand.id, open_only).await?)
    }

    pub async fn work_order(&self, slug: &str, id: &WorkOrderId) -> Result<WorkOrder> {
        let brand = self.brand_record(slug).await?;
        self.store
            .work_order(&brand.id, id)
            .await
            .found(|| format!("no work order `{id}`"))
    }

    /// Starts or completes an operation (an operator at its work centre).
    /// The store records it and rolls it up into the orders; the live
    /// schedule then fixes started work where it is and gives back what a
    /// finished operation no longer needs.
    pub async fn record_operation(
        &self,
        slug: &str,
        work_order: &WorkOrderId,
        seq: i64,
        action: OperationAction,
    ) -> Result<OperationResult> {
        if action == OperationAction::Start {
            self.close_batch(slug, work_order).await?;
        }
        let rt = self.brand(slug).await?;
        // Read first: once the store has recorded the step, the schedule must follow.
        let lines = self.store.order_lines_of(&rt.brand.id, work_order).await?;
        let change = self
            .store
            .record_operation(&rt.brand.id, work_order, seq, action, time::now())
            .await
            .or_not_found(|| format!("no operation {seq} in work order `{work_order}`"))?;
        let rebooked = {
            let mut plan = rt.plan.lock().await;
            plan.tick();
            // The store's times, so a rebuilt schedule places the bar the same way.
            let step = change.work_order.operations.iter().find(|o| o.seq == seq);
            let at = |t: Option<jiff::Timestamp>| {
                t.map_or_else(
                    || plan.clock.now(),
                    |t| plan.clock.at_ms(t.as_millisecond()),
                )
            };
            let done_at = at(step.and_then(|o| o.completed_at));
            let started_at = at(step.and_then(|o| o.started_at));
            let k = usize::try_from(seq - 1).unwrap_or(usize::MAX);
            let mut moved = Vec::new();
            for line in lines {
                let id = line.clone();
                let booked = |plan: &crate::runtime::PlanState| {
                    plan.schedule
                        .order(&id)
                        .and_then(|p| p.bookings.get(k).cloned().flatten())
                };
                let before = booked(&plan);
                let result = match action {
                    OperationAction::Start => plan.schedule.start_operation_at(&id, k, started_at),
                    OperationAction::Complete { .. } => {
                        plan.schedule.complete_operation_at(&id, k, done_at)
                    }
                };
                if let Err(e) = result {
                    // The store is the record; the schedule only plans around it.
                    tracing::warn!("schedule of {}: {id} operation {seq}: {e}", rt.brand.slug);
                }
                // Work started ahead of plan moved to when it began; work done
                // before its slot began may have left its machine (stored as a
                // booking without one, so a rebuilt plan agrees).
                let after = booked(&plan);
                let left = before.is_some() && after.is_none();
                if left && let Some(b) = &before {
                    let made = crate::runtime::MadeOn {
                        op: k,
                        work_centre: b.work_centre.clone(),
                        machine: b.machine,
                    };
                    plan.made_on.entry(id.clone()).or_default().push(made);
                }
                if (action == OperationAction::Start && before != after || left)
                    && let Some(placed) = plan.schedule.order(&id)
                {
                    moved.extend(plan.rows_of(&placed).into_iter().filter(|r| r.seq == seq));
                }
            }
            // Queued to the writer under the lock: after the orders queued
            // before, which may carry rows for the same operation, and
            // before any planned after. Orders wait on the lock, not on
            // this write.
            let rebooked =
                crate::orders::queue_rebook(&self.orders, &rt, moved, "an operation's new times");
            // A started work order no longer takes new lines.
            if action == OperationAction::Start {
                plan.close_batch(&change.work_order.id);
            }
            // A made order's materials leave stock and stop being allocated.
            for (material, qty) in &change.consumed {
                let position = plan.position(material);
                position.on_hand -= *qty;
                position.allocated -= *qty;
            }
            let made: Vec<kiln_domain::OrderId> = change
                .orders
                .iter()
                .filter(|(_, status)| *status == kiln_domain::OrderStatus::Made)
                .map(|(order, _)| order.clone())
                .collect();
            plan.mrp.made(&made, &change.consumed);
            rebooked
        };
        rebooked.await;
        // Its last operation done, the work order's units get their passports.
        // Should that fail, they are issued the next time units are read.
        if change.work_order.status == kiln_domain::WorkOrderStatus::Done
            && let Err(e) = self.issue_passports(&rt, &change.work_order.id).await
        {
            tracing::warn!(error = %e.chain(), "{}: passports of {} not issued yet", rt.brand.slug, change.work_order.id);
        }
        // Operations and shipments report order statuses: wake the deliveries.
        self.outbox.notify_one();
        Ok(OperationResult {
            work_order: change.work_order,
            orders: change.orders,
        })
    }

    /// Before a work order starts: new lines of its SKU go to a new batch,
    /// and the orders queued to the writer that joined this one are written
    /// first. Otherwise an order placed just before the start is refused
    /// (its work order is no longer planned when its write comes).
    async fn close_batch(&self, slug: &str, work_order: &WorkOrderId) -> Result<()> {
        loop {
            let rt = self.brand(slug).await?;
            let mut plan = rt.plan.lock().await;
            // A plan replaced meanwhile (a catalog published) reloaded its
            // batches from the store: close the batch on the new one.
            if plan.retired {
                continue;
            }
            plan.close_batch(work_order);
            break;
        }
        self.orders.flush().await;
        Ok(())
    }

    /// Purchase suggestions from material planning, not yet received.
    pub async fn suggestions(&self, slug: &str) -> Result<Vec<PurchaseSuggestion>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.suggestions(&brand.id).await?)
    }

    /// Receives a suggested purchase: its quantity moves into stock and stops
    /// counting as on order.
    pub async fn receive_purchase(
        &self,
        slug: &str,
        suggestion: &SuggestionId,
    ) -> Result<PurchaseSuggestion> {
        let rt = self.brand(slug).await?;
        let received = self
            .store
            .receive_purchase(&rt.brand.id, suggestion, time::now())
            .await
            .or_not_found(|| format!("no purchase suggestion `{suggestion}`"))?;
        let mut plan = rt.plan.lock().await;
        let position = plan.position(&received.material);
        position.on_hand += received.qty;
        position.on_order -= received.qty;
        plan.mrp
            .receive(&received.material, &received.id, received.qty);
        Ok(received)
    }
}
