//! Orders change (issue 12): a line, or the whole order, cancelled before
//! production starts. Its machine time goes back to the live schedule and
//! its materials back to the pool at once; the order is re-priced; the
//! change goes on the timeline and out as `order.changed` or
//! `order.cancelled`. Cancelling what is cancelled already changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use kiln_domain::{
    Decimal, EventType, LineCancellation, LineRef, OperationStatus, Order, OrderId, OrderLine,
    OrderStatus, PaymentStatus, Requirement, WorkOrderId,
};

use crate::error::{Error, Result};
use crate::runtime::BrandRuntime;
use crate::{App, time};

mod replace;
pub use replace::LineChange;

/// What to cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// Every open line: the order.
    Order,
    /// One line, by its number.
    Line(i64),
}

impl App {
    /// Cancels the order or one of its lines, if its production has not
    /// started; returns the order as it now stands.
    pub async fn cancel(&self, slug: &str, order_id: &OrderId, what: Cancel) -> Result<Order> {
        for _ in 0..3 {
            let rt = self.brand(slug).await?;
            let mut plan = rt.plan.lock().await;
            if plan.retired {
                continue;
            }
            // What is queued for the writer goes first, under the lock so
            // nothing joins the queue meanwhile: this order itself, a bulk
            // order's rows written ahead whose setups this change may move
            // (it writes directly, not through the queue).
            self.orders.flush().await;
            let order = self
                .store
                .order(&rt.brand.id, order_id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no order `{order_id}`")))?;
            let targets: Vec<&OrderLine> = match what {
                Cancel::Order => order
                    .lines
                    .iter()
                    .filter(|l| l.cancelled_at.is_none())
                    .collect(),
                Cancel::Line(n) => {
                    let line = order.lines.iter().find(|l| l.line_no == n).ok_or_else(|| {
                        Error::NotFound(format!("order `{order_id}` has no line {n}"))
                    })?;
                    if line.cancelled_at.is_some() {
                        return Ok(order);
                    }
                    vec![line]
                }
            };
            if targets.is_empty() {
                return Ok(order);
            }
            let work_orders = self.not_started(&rt, &targets, "cancelled").await?;
            let released = self.materials_of(&rt, &targets).await;
            let mut change = cancellation(&rt, &order, &targets, &released, work_orders);
            // The live plan: the lines' operations leave their machines, and
            // the neighbours' setups follow.
            let ids: Vec<LineRef> = targets
                .iter()
                .map(|l| LineRef::new(order.id.clone(), l.line_no))
                .collect();
            change.rebooked = crate::flow::take_out(&mut plan, &ids);
            for (material, gross) in &released {
                plan.position(material).allocated -= *gross;
            }
            take_back(&mut plan, &rt, &order.id, &released, &targets);
            for (wo, left) in &change.work_orders {
                plan.batch_left(wo, *left);
            }
            if let Err(e) = self.store.cancel_lines(&rt.brand.id, &change).await {
                self.rebuild_plan(slug, &rt, plan).await;
                return Err(e.into());
            }
            drop(plan);
            return self
                .store
                .order(&rt.brand.id, order_id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no order `{order_id}`")));
        }
        Err(Error::Conflict(
            "the brand's catalog was being republished; try again".into(),
        ))
    }

    /// The plan moved but the store did not: the brand's plan is rebuilt
    /// from the store, so nothing is lost.
    pub(crate) async fn rebuild_plan(
        &self,
        slug: &str,
        rt: &BrandRuntime,
        mut plan: tokio::sync::MutexGuard<'_, crate::runtime::PlanState>,
    ) {
        plan.retired = true;
        drop(plan);
        // An order queued before is in the rebuilt plan.
        self.orders.flush().await;
        match BrandRuntime::load(self.store.as_ref(), rt.brand.clone()).await {
            Ok(fresh) => self.runtimes.replace(slug, Arc::new(fresh)).await,
            Err(e) => {
                tracing::error!(error = %e, brand = slug, "the plan could not be rebuilt; the next request loads it")
            }
        }
    }

    /// Each work order of `lines` with the quantity left once they leave
    /// it; refused, with where, once production of one has started.
    pub(crate) async fn not_started(
        &self,
        rt: &BrandRuntime,
        lines: &[&OrderLine],
        verb: &str,
    ) -> Result<BTreeMap<WorkOrderId, i64>> {
        let mut work_orders: BTreeMap<WorkOrderId, i64> = BTreeMap::new();
        for l in lines {
            let wo = self
                .store
                .work_order(&rt.brand.id, &l.work_order_id)
                .await?
                .ok_or_else(|| {
                    Error::internal(format!("work order {} is missing", l.work_order_id))
                })?;
            if let Some(op) = wo
                .operations
                .iter()
                .find(|o| o.status != OperationStatus::Pending)
            {
                return Err(Error::Conflict(format!(
                    "production of line {} has started (work order {}: {} is {}); it can no longer be {verb}",
                    l.line_no, wo.id, op.name, op.status
                )));
            }
            let left = work_orders.entry(wo.id.clone()).or_insert(wo.quantity);
            *left -= l.quantity;
        }
        Ok(work_orders)
    }

    /// Each material the lines took, per their catalog version's BOM.
    async fn materials_of(
        &self,
        rt: &BrandRuntime,
        lines: &[&OrderLine],
    ) -> BTreeMap<String, Decimal> {
        let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
        for l in lines {
            let older = self.ordered_from(rt, l.catalog_version).await;
            let catalog = older.as_deref().unwrap_or(&rt.catalog);
            let Some(c) = catalog.product(&l.product_id) else {
                continue;
            };
            let Ok(outcome) = c.configure_unexplained(&l.selections) else {
                continue;
            };
            for b in &outcome.bom {
                *out.entry(b.material.clone()).or_default() += b.qty * Decimal::from(l.quantity);
            }
        }
        out
    }
}

/// The live material plan gives back what `lines` of `order` needed: their
/// materials (`released`, sub-assemblies exploded) and their sub-assemblies.
pub(crate) fn take_back(
    plan: &mut crate::runtime::PlanState,
    rt: &BrandRuntime,
    order: &kiln_domain::OrderId,
    released: &BTreeMap<String, Decimal>,
    lines: &[&OrderLine],
) {
    let materials: Vec<(String, Decimal)> = released.iter().map(|(m, q)| (m.clone(), *q)).collect();
    let assemblies: Vec<(String, Decimal)> = lines
        .iter()
        .flat_map(|l| crate::planning::live_mrp::line_assemblies(&rt.catalog, l))
        .collect();
    plan.mrp.take_back(order, &materials, &assemblies);
}

/// What the store writes for cancelling `targets` of `order`: the order
/// re-priced over the lines left, its requirements less what the lines
/// took, its work orders' quantities.
pub(crate) fn cancellation(
    rt: &BrandRuntime,
    order: &Order,
    targets: &[&OrderLine],
    released: &BTreeMap<String, Decimal>,
    work_orders: BTreeMap<WorkOrderId, i64>,
) -> LineCancellation {
    let now = time::now();
    let cancelled: Vec<i64> = targets.iter().map(|l| l.line_no).collect();
    let left: Vec<&OrderLine> = order
        .lines
        .iter()
        .filter(|l| l.cancelled_at.is_none() && !cancelled.contains(&l.line_no))
        .collect();
    let goods: Decimal = left
        .iter()
        .map(|l| l.unit_price * Decimal::from(l.quantity))
        .sum();
    let sales = &rt.catalog.factory.sales;
    let shipping = crate::flow::shipping_of(rt, order.channel, &order.ship_to, &left, goods)
        .unwrap_or(order.shipping);
    let total = goods + shipping;
    let requirements = order
        .requirements
        .iter()
        .map(|r| {
            let took = released
                .get(&r.material)
                .copied()
                .unwrap_or_default()
                .min(r.gross);
            let gross = r.gross - took;
            let allocated = r.allocated.min(gross);
            Requirement {
                material: r.material.clone(),
                gross: gross.normalize(),
                allocated: allocated.normalize(),
                shortage: (gross - allocated).max(Decimal::ZERO).normalize(),
            }
        })
        .collect();
    let paid = order
        .payment
        .as_ref()
        .is_some_and(|p| p.status == PaymentStatus::Paid);
    let refund = order.total - total;
    let lines_text = match cancelled.as_slice() {
        [one] => format!("line {one}"),
        many => format!(
            "lines {}",
            many.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let whole = left.is_empty();
    let mut note = if whole {
        "order cancelled before production; its machine time and materials are released".to_string()
    } else {
        format!(
            "{lines_text} cancelled before production; the order now comes to {total} {}",
            order.currency
        )
    };
    if paid && refund > Decimal::ZERO {
        note.push_str(&format!("; {refund} {} to refund", order.currency));
    }
    LineCancellation {
        order_id: order.id.clone(),
        lines: cancelled,
        at: now,
        work_orders: work_orders.into_iter().collect(),
        requirements,
        total,
        shipping,
        tax: sales.tax_in(total),
        payment_amount: (!paid).then_some(total),
        payment_instructions: order
            .payment
            .as_ref()
            .filter(|_| !paid)
            .map(|p| crate::payment::restate(p, total, whole)),
        status: if whole {
            Some(OrderStatus::Cancelled)
        } else {
            None
        },
        note,
        event: if whole {
            EventType::OrderCancelled
        } else {
            EventType::OrderChanged
        },
        rebooked: Vec::new(),
    }
}
