//! A line changed before production starts (`PATCH .../lines/{line}`): a
//! new quantity, or new choices for some options. The line is cancelled and
//! a new one, configured, checked, priced and promised as an order's line
//! is, joins the order after its other lines, in one transaction; the
//! machine time and materials of the old line are given back first, so the
//! new one may take them. Sending the same change again changes nothing.

use std::collections::BTreeMap;

use kiln_domain::{
    EventType, LineRef, LineReplacement, Order, OrderId, OrderLine, Requirement, Selections,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::flow::{self, PricedLine};
use crate::logistics::ShipTo;
use crate::orders::{escape, line_problem};
use crate::{App, time};

/// What to change of a line: either or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineChange {
    /// The new quantity, 1 to 10,000.
    #[serde(default)]
    pub quantity: Option<u32>,
    /// Options to choose anew, by option id; the others keep their values.
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub selections: Option<Selections>,
}

impl LineChange {
    /// Something to change, and a quantity an order takes.
    pub fn check(&self) -> Result<()> {
        if self.quantity.is_none() && self.selections.is_none() {
            return Err(Error::invalid(
                "",
                "say what to change: `quantity`, `selections` or both",
            ));
        }
        if let Some(q) = self.quantity
            && !(1..=flow::MAX_QUANTITY).contains(&q)
        {
            return Err(Error::invalid(
                "/quantity",
                format!("the quantity must be from 1 to {}", flow::MAX_QUANTITY),
            ));
        }
        Ok(())
    }

    /// The line's configuration and quantity with the change made.
    fn applied_to(&self, line: &OrderLine) -> (Selections, u32) {
        let mut selections = line.selections.clone();
        if let Some(new) = &self.selections {
            for (option, value) in new {
                selections.insert(option.clone(), value.clone());
            }
        }
        let quantity = self
            .quantity
            .unwrap_or(u32::try_from(line.quantity).unwrap_or(1));
        (selections, quantity)
    }
}

impl App {
    /// Changes line `line_no` of an order whose production has not started:
    /// the line is replaced by one with the new quantity or choices; returns
    /// the order as it now stands. The same change sent again (the line is
    /// already replaced by one like it) returns the order unchanged.
    pub async fn change_line(
        &self,
        slug: &str,
        order_id: &OrderId,
        line_no: i64,
        change: &LineChange,
    ) -> Result<Order> {
        change.check()?;
        for _ in 0..3 {
            let rt = self.brand(slug).await?;
            let mut plan = rt.plan.lock().await;
            if plan.retired {
                continue;
            }
            // As `cancel` does: what is queued goes first, under the lock.
            self.orders.flush().await;
            let order = self
                .store
                .order(&rt.brand.id, order_id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no order `{order_id}`")))?;
            let old = order
                .lines
                .iter()
                .find(|l| l.line_no == line_no)
                .ok_or_else(|| {
                    Error::NotFound(format!("order `{order_id}` has no line {line_no}"))
                })?;
            let (selections, quantity) = change.applied_to(old);
            if old.cancelled_at.is_some() {
                // Sent again: a later line is already what was asked.
                let done = order.lines.iter().any(|l| {
                    l.line_no > line_no
                        && l.cancelled_at.is_none()
                        && l.product_id == old.product_id
                        && l.selections == selections
                        && l.quantity == i64::from(quantity)
                });
                if done {
                    return Ok(order);
                }
                return Err(Error::Conflict(cancelled_line(&order, line_no)));
            }
            if old.selections == selections && old.quantity == i64::from(quantity) {
                return Ok(order);
            }
            let work_orders = self.not_started(&rt, &[old], "changed").await?;
            let configurator = rt.catalog.product(&old.product_id).ok_or_else(|| {
                Error::Conflict(format!(
                    "product `{}` is no longer in the catalog: cancel the line and order anew",
                    old.product_id
                ))
            })?;
            let outcome = configurator
                .configure_unexplained(&selections)
                .map_err(|e| {
                    Error::invalid(format!("/selections/{}", escape(e.option())), e.to_string())
                })?;
            if let Some((option, message)) = line_problem(&outcome) {
                let at = option
                    .map(|o| format!("/selections/{}", escape(&o)))
                    .unwrap_or_else(|| "/selections".into());
                return Err(Error::invalid(at, message));
            }
            // Quantity breaks count the order's other units of the product.
            let others: u32 = order
                .lines
                .iter()
                .filter(|l| {
                    l.cancelled_at.is_none()
                        && l.line_no != line_no
                        && l.product_id == old.product_id
                })
                .map(|l| u32::try_from(l.quantity).unwrap_or(0))
                .sum();
            let mut new_line = PricedLine {
                configurator,
                outcome,
                quantity,
                recipient: old.recipient.clone(),
            };
            new_line.price_with(others + quantity);

            // The old line leaves the plan, giving back its time and materials.
            let released = self.materials_of(&rt, &[old]).await;
            let mut cancelled = super::cancellation(&rt, &order, &[old], &released, work_orders);
            cancelled.rebooked =
                flow::take_out(&mut plan, &[LineRef::new(order.id.clone(), line_no)]);
            for (material, gross) in &released {
                plan.position(material).allocated -= *gross;
            }
            super::take_back(&mut plan, &rt, &order.id, &released, &[old]);
            for (wo, left) in &cancelled.work_orders {
                plan.batch_left(wo, *left);
            }
            let next = order.lines.iter().map(|l| l.line_no).max().unwrap_or(0) + 1;
            let planned = flow::plan_lines(
                &rt,
                &mut plan,
                &order.id,
                next,
                std::slice::from_ref(&new_line),
                ShipTo::Address(&order.ship_to),
                time::today(),
            );
            let plotted = match planned {
                Ok((plotted, _)) => plotted,
                Err(e) => {
                    // The old line is out of the plan: put it back from the store.
                    self.rebuild_plan(slug, &rt, plan).await;
                    return Err(e);
                }
            };
            let Some(line) = plotted.lines.into_iter().next() else {
                self.rebuild_plan(slug, &rt, plan).await;
                return Err(Error::internal("a planned line came back empty"));
            };
            // The order as it will stand: re-priced and re-promised.
            let line_total = line.unit_price * kiln_domain::Decimal::from(line.quantity);
            let kept: Vec<&OrderLine> = order
                .lines
                .iter()
                .filter(|l| l.cancelled_at.is_none() && l.line_no != line_no)
                .collect();
            let goods = kept
                .iter()
                .map(|l| l.unit_price * kiln_domain::Decimal::from(l.quantity))
                .sum::<kiln_domain::Decimal>()
                + line_total;
            let sales = &rt.catalog.factory.sales;
            let mut now_lines = kept.clone();
            now_lines.push(&line);
            let shipping = flow::shipping_of(&rt, order.channel, &order.ship_to, &now_lines, goods)
                .unwrap_or(order.shipping);
            let total = goods + shipping;
            cancelled.requirements = merged(&cancelled.requirements, &plotted.requirements);
            cancelled.total = total;
            cancelled.shipping = shipping;
            cancelled.tax = sales.tax_in(total);
            if cancelled.payment_amount.is_some() {
                cancelled.payment_amount = Some(total);
                cancelled.payment_instructions = order
                    .payment
                    .as_ref()
                    .map(|p| crate::payment::restate(p, total, false));
            }
            cancelled.event = EventType::OrderChanged;
            let promised = kept
                .iter()
                .filter_map(|l| l.promised_date)
                .chain(line.promised_date)
                .max()
                .unwrap_or(plotted.promised);
            cancelled.note = format!(
                "line {line_no} changed before production: now line {} ({} × {}), promised {}; the order now comes to {total} {}",
                line.line_no,
                line.quantity,
                line.sku,
                line.promised_date.unwrap_or(plotted.promised),
                order.currency
            );
            let mut rebooked = plotted.rebooked;
            rebooked.extend(std::mem::take(&mut cancelled.rebooked));
            let replacement = LineReplacement {
                line,
                work_orders: plotted.work_orders,
                bookings: plotted.bookings,
                rebooked,
                suggestions: plotted.suggestions,
                promised_date: promised,
            };
            if let Err(e) = self
                .store
                .replace_line(&rt.brand.id, &cancelled, &replacement)
                .await
            {
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
}

/// The order's requirements with the old line's taken out (`left`) and the
/// new line's (`added`) put in, per material.
fn merged(left: &[Requirement], added: &[Requirement]) -> Vec<Requirement> {
    let mut out: BTreeMap<String, Requirement> = left
        .iter()
        .map(|r| (r.material.clone(), r.clone()))
        .collect();
    for r in added {
        let e = out
            .entry(r.material.clone())
            .or_insert_with(|| Requirement {
                material: r.material.clone(),
                gross: Default::default(),
                allocated: Default::default(),
                shortage: Default::default(),
            });
        e.gross = (e.gross + r.gross).normalize();
        e.allocated = (e.allocated + r.allocated).normalize();
        e.shortage = (e.shortage + r.shortage).normalize();
    }
    out.into_values().filter(|r| !r.gross.is_zero()).collect()
}

/// Why a cancelled line cannot change: its order is cancelled, or the line
/// was (by a cancellation, or by a change that ordered it anew as a later
/// line).
fn cancelled_line(order: &Order, line_no: i64) -> String {
    if order.status == kiln_domain::OrderStatus::Cancelled {
        return format!(
            "order {} is cancelled: its lines can no longer change",
            order.id
        );
    }
    format!(
        "line {line_no} is cancelled, so it can no longer change: it was cancelled, or changed \
         into a later line (the order's timeline says which); change a line that is not cancelled"
    )
}
