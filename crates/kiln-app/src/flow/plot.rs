//! Plotting an order on the live plan: its materials netted and allocated,
//! its lines placed on the machines, batched into work orders by SKU, each
//! given a delivery date by the cheapest carrier service; and what that
//! changed, to take back out if the write fails.
//!
//! [`plan_order`] plots a whole order at once, under one hold of the plan
//! lock. A bulk order of thousands of lines is plotted in steps instead
//! ([`Plotting`]: [`Plotting::start`], [`Plotting::place`] a chunk at a
//! time, [`Plotting::finish`]), the lock let go between them so single
//! orders are not held up; see `crate::bulk::place`.

mod batches;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use jiff::civil::Date;
use kiln_configure::Outcome;
use kiln_domain::{
    BookingRow, LineRef, OrderId, OrderLine, PurchaseSuggestion, Requirement, SuggestionId,
    WorkOrderId, WorkOrderWrite,
};
use kiln_plan::live::Minute;
use rust_decimal::Decimal;

use super::{PricedLine, release, schedule_error};
use crate::error::{Error, Result};
use crate::live::{day_of, line_order, neighbour_rows, neighbours};
use crate::logistics::{self, ShipTo};
use crate::runtime::{BrandRuntime, OpenBatch, PlanState};

/// What placing an order changed in the live plan, so that a failed write
/// can be undone even after later orders were planned on top.
#[derive(Default)]
pub struct PlanChange {
    /// Schedule ids of the lines placed.
    lines: Vec<LineRef>,
    /// (material, allocated, put on order)
    materials: Vec<(String, Decimal, Decimal)>,
    /// (SKU, work order) batches this order opened.
    planned: Vec<(String, WorkOrderId)>,
    /// (work order, units) this order's lines added to open batches.
    joined: Vec<(WorkOrderId, i64)>,
    /// What the live material plan took in.
    mrp: Option<MrpTaken>,
}

/// An order's needs (material, quantity) and the purchases (material,
/// suggestion) made for them, as the live material plan took them in.
struct MrpTaken {
    order: OrderId,
    needs: Vec<(String, Decimal)>,
    /// The sub-assemblies its lines make, (assembly, units).
    assemblies: Vec<(String, Decimal)>,
    purchases: Vec<(String, SuggestionId)>,
}

impl PlanChange {
    /// Takes the order back out of the plan. Returns the bookings of other
    /// orders' operations whose setup that changed: orders planned since may
    /// already be written, so those rows must follow.
    pub fn undo(self, plan: &mut PlanState) -> Vec<BookingRow> {
        let rows = take_out(plan, &self.lines);
        for (id, allocated, ordered) in self.materials {
            let pos = plan.position(&id);
            pos.allocated -= allocated;
            pos.on_order -= ordered;
        }
        for (_, work_order) in self.planned {
            plan.close_batch(&work_order);
        }
        for (work_order, units) in self.joined {
            if let Some(b) = plan.open_batch_mut(&work_order) {
                b.units -= units;
            }
        }
        if let Some(taken) = self.mrp {
            plan.mrp
                .take_back(&taken.order, &taken.needs, &taken.assemblies);
            for (material, id) in taken.purchases {
                plan.mrp.remove_purchase(&material, &id);
            }
        }
        rows
    }
}

/// The sub-assemblies `lines` make, (assembly, units).
fn assemblies_of(lines: &[PricedLine<'_>]) -> Vec<(String, Decimal)> {
    lines
        .iter()
        .flat_map(|l| {
            crate::planning::live_mrp::sub_assemblies(
                l.configurator,
                &l.outcome.configuration,
                Decimal::from(l.quantity),
            )
        })
        .collect()
}

/// Takes order lines off the live schedule (none of them started). Returns
/// the bookings of other lines whose setup changed with them gone: the
/// store's rows must follow.
pub fn take_out(plan: &mut PlanState, lines: &[LineRef]) -> Vec<BookingRow> {
    let mut around = Vec::new();
    for id in lines {
        if let Some(placed) = plan.schedule.order(id) {
            let bookings: Vec<_> = placed.bookings.into_iter().flatten().collect();
            neighbours(&plan.schedule, &bookings, &mut around);
        }
    }
    for id in lines {
        // Nothing of these lines has started: removal cannot fail but for
        // a line a replan already lost.
        let _ = plan.schedule.remove(id);
    }
    neighbour_rows(plan, around, lines)
}

/// The order as it will be written, minus what the caller fills in.
pub struct Plotted {
    pub lines: Vec<OrderLine>,
    /// Each line's delivery date, in line order.
    pub line_promised: Vec<Date>,
    pub work_orders: Vec<WorkOrderWrite>,
    /// Empty for an order with batches of its own: a bulk order writes its
    /// bookings ahead, and gets `rebooked` from [`Plotting::claim`].
    pub bookings: Vec<BookingRow>,
    pub rebooked: Vec<BookingRow>,
    pub requirements: Vec<Requirement>,
    pub suggestions: Vec<PurchaseSuggestion>,
    pub promised: Date,
    pub total: Decimal,
    /// What the carriers charge for the lines shipped; `None` for a brand
    /// without carriers (its flat `[sales] shipping` applies).
    pub carrier_shipping: Option<Decimal>,
}

/// Plans an order into `plan` (mutating it; see [`PlanChange::undo`]).
pub fn plan_order(
    rt: &BrandRuntime,
    plan: &mut PlanState,
    order_id: &OrderId,
    lines: &[PricedLine<'_>],
    ship_to: ShipTo<'_>,
    today: Date,
) -> Result<(Plotted, PlanChange)> {
    plan_lines(rt, plan, order_id, 1, lines, ship_to, today)
}

/// Plans `lines` of an order, numbered from `first_line` (a changed line
/// joins its order after the lines it has), into `plan`.
pub fn plan_lines(
    rt: &BrandRuntime,
    plan: &mut PlanState,
    order_id: &OrderId,
    first_line: i64,
    lines: &[PricedLine<'_>],
    ship_to: ShipTo<'_>,
    today: Date,
) -> Result<(Plotted, PlanChange)> {
    let mut plotting = Plotting::start(rt, plan, order_id, first_line, lines, today, false)?;
    let placed = plotting.place(rt, plan, lines, ship_to);
    match placed.and_then(|()| plotting.finish(rt, plan)) {
        Ok(plotted) => Ok((plotted, plotting.change)),
        Err(e) => {
            let _ = plotting.change.undo(plan);
            Err(e)
        }
    }
}

/// An order part-way plotted: its materials taken, some of its lines
/// placed. Whatever fails, [`Plotting::change`] takes back out what was
/// done.
pub struct Plotting {
    order_id: OrderId,
    first_line: i64,
    today: Date,
    /// When the order's material is there: no operation starts before.
    release: Minute,
    /// Its new work orders stay its own until it is written (a bulk order
    /// plotted in steps): an order placed meanwhile must not join a batch
    /// the store does not have yet.
    own_batches: bool,
    /// Set for a quote (see [`Plotting::quoting`]): the lines the factory
    /// cannot plan, (index in the lines, why); a quote goes on without
    /// them, an order fails on the first.
    pub(super) unplanned: Option<Vec<(usize, Error)>>,
    requirements: Vec<Requirement>,
    /// The sub-assemblies the lines make, (assembly, units): the live
    /// material plan's level above `requirements`.
    assemblies: Vec<(String, Decimal)>,
    suggestions: Vec<PurchaseSuggestion>,
    lines: Vec<OrderLine>,
    pub(super) line_promised: Vec<Date>,
    work_orders: Vec<WorkOrderWrite>,
    /// SKU -> index in `work_orders` of the batch this order opened.
    new_in_order: HashMap<String, usize>,
    /// The batches an order with batches of its own opened, (SKU, work
    /// order), kept by [`Plotting::finish`] for [`Plotting::claim`].
    opened: Vec<(String, OpenBatch)>,
    /// Operations next to this order's (line, operation): their setups
    /// may change.
    around: Vec<(LineRef, usize)>,
    pub(super) promised: Date,
    total: Decimal,
    shipped: Vec<(
        Option<logistics::Recipient>,
        kiln_plan::logistics::Units,
        jiff::civil::DateTime,
    )>,
    pub change: PlanChange,
}

impl Plotting {
    /// Takes the material of all `lines` (a shortage delays the start of
    /// production): allocated from stock, or bought. On failure nothing
    /// has changed.
    pub fn start(
        rt: &BrandRuntime,
        plan: &mut PlanState,
        order_id: &OrderId,
        first_line: i64,
        lines: &[PricedLine<'_>],
        today: Date,
        own_batches: bool,
    ) -> Result<Plotting> {
        let change = PlanChange::default();
        let pairs: Vec<(&Outcome, u32)> = lines.iter().map(|l| (&l.outcome, l.quantity)).collect();
        plan.tick();
        let (net, release) = release(rt, plan, &pairs, today)?;
        let mut p = Plotting {
            order_id: order_id.clone(),
            first_line,
            today,
            release,
            own_batches,
            unplanned: None,
            requirements: Vec::new(),
            assemblies: assemblies_of(lines),
            suggestions: Vec::new(),
            lines: Vec::with_capacity(lines.len()),
            line_promised: Vec::with_capacity(lines.len()),
            work_orders: Vec::new(),
            new_in_order: HashMap::new(),
            opened: Vec::new(),
            around: Vec::new(),
            promised: today,
            total: Decimal::ZERO,
            shipped: Vec::new(),
            change,
        };
        for n in &net {
            let ordered = n.suggestion.as_ref().map(|s| s.qty).unwrap_or_default();
            p.change
                .materials
                .push((n.material.clone(), n.gross, ordered));
            let pos = plan.position(&n.material);
            pos.allocated += n.gross;
            pos.on_order += ordered;
            if let Some(s) = &n.suggestion {
                p.suggestions.push(PurchaseSuggestion {
                    id: SuggestionId::new(),
                    order_id: order_id.to_string(),
                    material: s.material.clone(),
                    qty: s.qty.normalize(),
                    order_by: s.order_by,
                    arrives: s.arrives,
                    need_by: s.need_by,
                });
            }
            p.requirements.push(Requirement {
                material: n.material.clone(),
                gross: n.gross.normalize(),
                allocated: n.allocated_now.normalize(),
                shortage: n.shortage.normalize(),
            });
        }
        Ok(p)
    }

    /// Places the next `lines` of the order on the machines, each shipped
    /// by the cheapest carrier service to where it goes.
    pub fn place(
        &mut self,
        rt: &BrandRuntime,
        plan: &mut PlanState,
        lines: &[PricedLine<'_>],
        ship_to: ShipTo<'_>,
    ) -> Result<()> {
        let factory = &rt.catalog.factory;
        let by_carrier = logistics::by_carrier(factory);
        plan.tick();
        for (k, line) in lines.iter().enumerate() {
            if let Err(e) = self.place_line(rt, plan, line, ship_to, by_carrier) {
                match &mut self.unplanned {
                    Some(unplanned) => unplanned.push((k, e)),
                    None => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Whether this plots a quote: it keeps only each line's date and the
    /// total (no rows to write: lines, bookings, neighbours), and goes on
    /// without the lines the factory cannot plan.
    fn quoting(&self) -> bool {
        self.unplanned.is_some()
    }

    /// How many lines are placed so far.
    pub fn placed(&self) -> usize {
        self.line_promised.len()
    }

    /// Places one line; on an error its bars are off the machines (its
    /// batch's quantity may stay: a quote's plan is a copy).
    fn place_line(
        &mut self,
        rt: &BrandRuntime,
        plan: &mut PlanState,
        line: &PricedLine<'_>,
        ship_to: ShipTo<'_>,
        by_carrier: bool,
    ) -> Result<()> {
        let factory = &rt.catalog.factory;
        let i = self.line_promised.len();
        let sku = line.sku().to_string();
        let quantity = i64::from(line.quantity);
        let work_order_id = self.batch(rt, plan, line, &sku, quantity);
        let line_no = self.first_line + i as i64;
        let id = LineRef::new(self.order_id.clone(), line_no);
        let ship_days = line.configurator.product().ship_days;
        let order = line_order(
            id.clone(),
            &line.outcome,
            line.quantity,
            self.release,
            ship_days,
        );
        let mut p = plan.schedule.place(&order).map_err(|e| {
            let what = if self.quoting() {
                "this row"
            } else {
                "this order"
            };
            schedule_error(e, &line.outcome, what)
        })?;
        self.change.lines.push(id.clone());
        if by_carrier
            && let Some(units) = logistics::units(
                line_no,
                line.configurator,
                &line.outcome.configuration,
                &sku,
                line.quantity,
            )
        {
            // Delivered by the cheapest carrier service to where it goes:
            // the schedule ships it that many days after its finish.
            let to = logistics::recipient(line.recipient.as_ref(), ship_to, factory);
            let ready = logistics::ready(factory, &plan.clock, p.finish);
            if let Some(to) = &to {
                let field = if line.recipient.is_some() {
                    format!("/lines/{i}/recipient")
                } else {
                    "/ship_to".to_string()
                };
                let planned = match logistics::plan(
                    factory,
                    std::slice::from_ref(&units),
                    &to.dest,
                    ready,
                    None,
                    &field,
                    None,
                ) {
                    Ok(planned) => planned,
                    // A quote goes on without the line: it comes off now.
                    // An order's undo takes it off with the rest.
                    Err(e) if self.quoting() => {
                        let _ = plan.schedule.remove(&id);
                        self.change.lines.pop();
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                };
                let finished = day_of(&plan.clock, p.finish - 1);
                let days = (planned.choice.delivery - finished).get_days().max(0);
                if let Some(d) = plan.schedule.set_ship_days(&id, days.unsigned_abs()) {
                    p.delivery = d;
                }
            }
            self.shipped.push((to, units, ready));
        }
        self.promised = self.promised.max(p.delivery);
        self.line_promised.push(p.delivery);
        let unit_price = line.unit_price();
        self.total += unit_price * Decimal::from(line.quantity);
        if self.quoting() {
            return Ok(());
        }
        // A line placed right before another one's operation may change
        // that operation's setup: its stored booking must follow.
        neighbours(&plan.schedule, &p.bookings, &mut self.around);
        self.lines.push(OrderLine {
            line_no,
            product_id: line.configurator.product().id.clone(),
            selections: line.outcome.configuration.clone(),
            sku,
            quantity,
            unit_price,
            work_order_id,
            catalog_version: rt.catalog.version,
            promised_date: Some(p.delivery),
            recipient: line.recipient.clone(),
            cancelled_at: None,
        });
        Ok(())
    }

    /// The order as it will be written: its bookings and its neighbours'
    /// from the schedule as it now stands (a later line, or an order placed
    /// between steps, may have moved a setup), its needs in the live
    /// material plan, its shipping charged.
    ///
    /// An order with batches of its own (a bulk order) is finished under
    /// the plan lock with only what needs the plan: its bookings are
    /// written ahead and its shipping is charged by the caller once the
    /// lock is let go ([`Plotting::charge`]; 66 ms for 10,000 lines).
    pub fn finish(&mut self, rt: &BrandRuntime, plan: &mut PlanState) -> Result<Plotted> {
        let mut bookings = Vec::new();
        // When the order's first operation runs (a machine may be set up
        // before its material is there), read from the schedule; only an
        // order without batches of its own builds its rows here.
        let mut first_run = None;
        for id in &self.change.lines {
            if let Some(placed) = plan.schedule.order(id) {
                first_run = placed.first_run().into_iter().chain(first_run).min();
                if !self.own_batches {
                    bookings.extend(plan.rows_of(&placed));
                }
            }
        }
        let first_day = first_run.map(|first| crate::live::day_of(&plan.clock, first));
        // An order with batches of its own is written later, ahead in
        // chunks: [`Plotting::claim`] reads its neighbours' rows then.
        let rebooked = if self.own_batches {
            self.opened = self
                .new_in_order
                .iter()
                .filter_map(|(sku, &at)| match &self.work_orders[at] {
                    WorkOrderWrite::Create { id, quantity, .. } => Some((
                        sku.clone(),
                        OpenBatch {
                            id: id.clone(),
                            units: *quantity,
                        },
                    )),
                    WorkOrderWrite::AddQuantity { .. } => None,
                })
                .collect();
            Vec::new()
        } else {
            neighbour_rows(plan, std::mem::take(&mut self.around), &self.change.lines)
        };
        // The live material plan: the order's materials are needed the day
        // its production starts, and its purchases arrive on theirs.
        let start = first_day.unwrap_or(self.today).max(self.today);
        let needs: Vec<(String, Decimal)> = self
            .requirements
            .iter()
            .map(|r| (r.material.clone(), r.gross))
            .collect();
        plan.mrp
            .add_order(&self.order_id, &needs, &self.assemblies, start);
        for s in &self.suggestions {
            plan.mrp.add_purchase(s);
        }
        self.change.mrp = Some(MrpTaken {
            order: self.order_id.clone(),
            needs,
            assemblies: self.assemblies.clone(),
            purchases: self
                .suggestions
                .iter()
                .map(|s| (s.material.clone(), s.id.clone()))
                .collect(),
        });
        let carrier_shipping = if self.own_batches {
            None
        } else {
            self.charge(rt)?
        };
        Ok(Plotted {
            carrier_shipping,
            lines: std::mem::take(&mut self.lines),
            line_promised: std::mem::take(&mut self.line_promised),
            work_orders: std::mem::take(&mut self.work_orders),
            bookings,
            rebooked,
            requirements: std::mem::take(&mut self.requirements),
            suggestions: std::mem::take(&mut self.suggestions),
            promised: self.promised,
            total: self.total,
        })
    }

    /// The last step of an order with batches of its own, as it is queued
    /// for the store: its batches become the plan's (later orders may join
    /// them), and the rows of the operations around its own, as they now
    /// stand, are returned to be written with it.
    pub fn claim(&mut self, plan: &mut PlanState) -> Vec<BookingRow> {
        for (sku, batch) in std::mem::take(&mut self.opened) {
            if let Entry::Vacant(e) = plan.planned.entry(sku) {
                self.change
                    .planned
                    .push((e.key().clone(), batch.id.clone()));
                e.insert(batch);
            }
        }
        neighbour_rows(plan, std::mem::take(&mut self.around), &self.change.lines)
    }

    /// What the carriers charge for the lines placed; `None` for a brand
    /// without carriers. Needs no plan: only where and when lines ship.
    pub fn charge(&self, rt: &BrandRuntime) -> Result<Option<Decimal>> {
        let factory = &rt.catalog.factory;
        Ok(if logistics::by_carrier(factory) {
            Some(logistics::charge(factory, &self.shipped)?)
        } else {
            None
        })
    }
}
