//! Which work order a line joins: identical SKUs across orders batch into
//! the plan's open (planned, not started) work order of their SKU, up to
//! the factory's `max_batch_units`; past it, or with none open, a line opens
//! the next one. A bulk order fills batches of its own, which become the
//! plan's once it is queued ([`Plotting::claim`]).

use kiln_configure::Outcome;
use kiln_domain::{OperationStatus, WorkOrderId, WorkOrderOperation, WorkOrderWrite};

use super::Plotting;
use crate::flow::PricedLine;
use crate::runtime::{BrandRuntime, OpenBatch, PlanState, within_batch_limit};

impl Plotting {
    /// The work order a line of `sku` joins: the batch this order opened
    /// for it, or the plan's open batch, or a new one; a batch joins no
    /// line that would take it past the factory's `max_batch_units`.
    pub(super) fn batch(
        &mut self,
        rt: &BrandRuntime,
        plan: &mut PlanState,
        line: &PricedLine<'_>,
        sku: &str,
        quantity: i64,
    ) -> WorkOrderId {
        let limit = rt.catalog.factory.max_batch_units;
        if let Some(&at) = self.new_in_order.get(sku)
            && let WorkOrderWrite::Create {
                id, quantity: q, ..
            } = &mut self.work_orders[at]
            && within_batch_limit(*q + quantity, limit)
        {
            *q += quantity;
            if let Some(b) = plan.planned.get_mut(sku)
                && b.id == *id
            {
                b.units += quantity;
            }
            return id.clone();
        }
        if !self.own_batches
            && let Some(id) = plan.join_batch(sku, quantity, limit)
        {
            self.change.joined.push((id.clone(), quantity));
            self.work_orders.push(WorkOrderWrite::AddQuantity {
                id: id.clone(),
                quantity,
            });
            return id;
        }
        let id = WorkOrderId::new();
        self.new_in_order
            .insert(sku.to_string(), self.work_orders.len());
        self.work_orders.push(WorkOrderWrite::Create {
            id: id.clone(),
            sku: sku.to_string(),
            product_id: line.configurator.product().id.clone(),
            quantity,
            catalog_version: rt.catalog.version,
            operations: operations(&line.outcome),
        });
        // The SKU's open batch is the one with more room: a line too large
        // for the open batch's room does not close it if it leaves less.
        let keep_open = plan.planned.get(sku).is_some_and(|b| b.units <= quantity);
        if !self.own_batches && !keep_open {
            let batch = OpenBatch {
                id: id.clone(),
                units: quantity,
            };
            plan.planned.insert(sku.to_string(), batch);
            self.change.planned.push((sku.to_string(), id.clone()));
        }
        id
    }
}

fn operations(outcome: &Outcome) -> Vec<WorkOrderOperation> {
    outcome
        .routing
        .iter()
        .enumerate()
        .map(|(i, step)| WorkOrderOperation {
            seq: i as i64 + 1,
            operation: step.operation.clone(),
            name: step.name.clone(),
            work_center: step.work_center.clone(),
            setup_minutes: step.setup_minutes,
            run_minutes: step.minutes,
            status: OperationStatus::Pending,
            started_at: None,
            completed_at: None,
            scrap: 0,
        })
        .collect()
}
