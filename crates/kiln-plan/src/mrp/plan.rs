//! Multi-level, time-phased MRP with low-level codes and net change.
//!
//! Items are planned one low-level code at a time, so every parent is final before its
//! components. For each item: gross requirements per day (its own demand lines plus the
//! exploded planned orders of its parents, needed on their start day) are netted in date
//! order against on-hand stock less reservations and the open purchase orders due by that
//! day; each day still short gets a planned order, lot-sized (at least the MOQ, then up to
//! a multiple of the lot size) and offset by the lead time. The excess of a lot carries to
//! later days.
//!
//! Net change replans only the items a change reaches: the changed item, then each
//! component of an item whose planned orders changed, level by level, netting each from
//! the first changed day on and passing down only the difference of the exploded orders.
//! A proptest holds it equal to a full regeneration of the same inputs.

use std::collections::HashMap;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use super::MrpError;

mod model;
mod net;
mod read;
mod supply;

use super::units::{Per, date_of, day_number, from_micro, to_micro};
use model::*;
use net::*;

/// How an item is supplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Bought from a supplier: planned orders are purchase suggestions.
    Buy,
    /// Made in the factory from its BOM components: planned manufacturing orders.
    Make,
}

/// A material, sub-assembly or product and its stock position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub source: Source,
    /// Supplier lead time (bought) or manufacturing lead time (made), in calendar days.
    pub lead_days: u32,
    /// Minimum order quantity; 0 for none.
    pub moq: Decimal,
    /// Orders are placed in multiples of this; 0 for any quantity.
    pub lot_size: Decimal,
    pub on_hand: Decimal,
    /// Stock already reserved or allocated to other orders.
    pub reserved: Decimal,
}

/// One BOM edge: `qty_per` of `component` goes into each unit of `parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BomLine {
    pub parent: String,
    pub component: String,
    pub qty_per: Decimal,
}

/// A purchase order placed and not yet received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPurchaseOrder {
    pub item: String,
    pub qty: Decimal,
    /// Expected arrival; it covers needs on or after this day only.
    pub due: Date,
}

/// A gross requirement: an order line (or, later, a forecast) for an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandLine {
    /// Unique within the plan; shortages are reported against it.
    pub id: u64,
    pub item: String,
    pub qty: Decimal,
    pub need_by: Date,
}

/// Everything a full regeneration starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrpInput {
    pub today: Date,
    pub items: Vec<Item>,
    pub bom: Vec<BomLine>,
    pub purchase_orders: Vec<OpenPurchaseOrder>,
    pub demand: Vec<DemandLine>,
}

/// A purchase suggestion (bought item) or planned manufacturing order (made item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedSupply {
    pub item: String,
    pub source: Source,
    pub qty: Decimal,
    /// The day to order or start: `need_by - lead_days`, never before today.
    pub order_by: Date,
    pub need_by: Date,
    /// Even ordered today it would arrive after `need_by`.
    pub late: bool,
}

/// One day of an item's time-phased record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodRecord {
    pub date: Date,
    /// Demand lines and parents' planned orders needing the item this day (and, on today,
    /// reservations beyond stock).
    pub gross: Decimal,
    /// Open purchase orders due this day.
    pub scheduled_receipts: Decimal,
    /// Planned orders due this day.
    pub planned_receipts: Decimal,
    /// Stock at the end of the day, never negative.
    pub projected: Decimal,
}

/// Requirements of an item that stock and open purchase orders do not cover and that a new
/// order placed today cannot deliver in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortage {
    pub item: String,
    pub need_by: Date,
    pub qty: Decimal,
    /// When an order placed today arrives: today + lead time.
    pub earliest: Date,
}

/// Counts over the whole plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PlanSummary {
    pub items: usize,
    pub levels: usize,
    pub demand_lines: usize,
    pub purchase_suggestions: usize,
    pub late_purchases: usize,
    pub manufacturing_orders: usize,
    pub late_manufacturing: usize,
}

/// What one net change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NetChange {
    /// Items whose requirements were netted again.
    pub items_replanned: usize,
    /// Of those, items whose planned orders changed.
    pub items_changed: usize,
    /// (item, day) gross requirement changes passed down, before merging.
    pub requirement_changes: usize,
}

/// Plans longer than this (about 2,870 years) are refused: the day-indexed scratch space
/// would be too large, and no real plan needs them.
const MAX_SPAN_DAYS: i64 = 1 << 20;

/// What the plan holds per item; both lists side by side, so that net change finds them
/// with one memory access.
#[derive(Debug, Clone, Default)]
struct ItemState {
    /// Gross requirements as (day, qty), by day: the item's own demand, reservations beyond
    /// stock, and its parents' exploded planned orders.
    gross: Vec<(i32, i64)>,
    /// Planned orders as (due day, qty), by day.
    planned: Vec<(i32, i64)>,
}

/// A multi-level material plan kept current by net change.
#[derive(Debug, Clone)]
pub struct MrpPlan {
    model: Model,
    /// Each item's own demand per day, by day.
    demand: Vec<Vec<(i32, i64)>>,
    /// Demand lines by id: (item, day, qty).
    lines: HashMap<u64, (u32, i32, i64)>,
    state: Vec<ItemState>,
    summary: PlanSummary,
    /// Days the scratch space covers: every gross requirement falls within.
    span: (i32, i32),
    work: Work,
    /// Net change: gross requirement changes (item, day, qty) waiting, per low-level code.
    pending: Vec<Vec<(u32, i32, i64)>>,
    /// Net change: the planned orders of changed items as they were, for undo.
    before: Vec<(i32, i64)>,
}

impl MrpPlan {
    /// Checks the input, computes low-level codes and regenerates the whole plan.
    pub fn new(input: &MrpInput) -> Result<MrpPlan, MrpError> {
        let model = build_model(input)?;
        let n = model.names.len();
        let mut lines = HashMap::with_capacity(input.demand.len());
        let mut flat = Vec::with_capacity(input.demand.len());
        let (mut lo, mut hi) = (model.today, model.today);
        for line in &input.demand {
            let i = model.item(&line.item, "demand line")?;
            let qty = to_micro(line.qty, &line.item, "demand quantity")?;
            let day = day_number(line.need_by);
            if lines.insert(line.id, (i as u32, day, qty)).is_some() {
                return Err(MrpError::DuplicateDemand { id: line.id });
            }
            (lo, hi) = (lo.min(day), hi.max(day));
            if qty != 0 {
                flat.push((i as u32, day, qty));
            }
        }
        check_span(lo, hi)?;
        flat.sort_unstable_by_key(|&(i, d, _)| (i, d));
        let mut demand: Vec<Vec<(i32, i64)>> = vec![Vec::new(); n];
        for (i, d, q) in flat {
            let v = &mut demand[i as usize];
            match v.last_mut() {
                Some((day, total)) if *day == d => {
                    *total = total
                        .checked_add(q)
                        .ok_or_else(|| model.overflow(i as usize))?;
                }
                _ => v.push((d, q)),
            }
        }
        let levels = model.levels.len();
        let mut plan = MrpPlan {
            model,
            demand,
            lines,
            state: vec![ItemState::default(); n],
            summary: PlanSummary::default(),
            span: (lo, hi),
            work: Work::new(lo, hi),
            pending: vec![Vec::new(); levels],
            before: Vec::new(),
        };
        plan.regenerate()?;
        Ok(plan)
    }

    /// Replans every item, level by level.
    pub fn regenerate(&mut self) -> Result<(), MrpError> {
        if self.work.lo != self.span.0
            || self.work.vals.len() != (self.span.1 - self.span.0 + 1) as usize
        {
            self.work = Work::new(self.span.0, self.span.1);
        }
        for level in 0..self.model.levels.len() {
            for k in 0..self.model.levels[level].len() {
                let i = self.model.levels[level][k] as usize;
                gross_of(&self.model, &self.demand, &self.state, i, &mut self.work)?;
                self.state[i].gross = self.work.gross.clone();
                self.net_item(i)?;
                self.state[i].planned = self.work.out.clone();
            }
        }
        self.recount();
        Ok(())
    }

    /// Adds a demand line and replans what it reaches.
    pub fn add_demand(&mut self, line: &DemandLine) -> Result<NetChange, MrpError> {
        let i = self.model.item(&line.item, "demand line")?;
        let qty = to_micro(line.qty, &line.item, "demand quantity")?;
        let day = day_number(line.need_by);
        if self.lines.contains_key(&line.id) {
            return Err(MrpError::DuplicateDemand { id: line.id });
        }
        self.cover_day(day)?;
        add_at(&mut self.demand[i], day, qty).ok_or_else(|| self.model.overflow(i))?;
        let change = self.propagate(i, day, qty);
        match change {
            Ok(_) => {
                self.lines.insert(line.id, (i as u32, day, qty));
                self.summary.demand_lines = self.lines.len();
            }
            Err(_) => {
                add_at(&mut self.demand[i], day, -qty);
            }
        }
        change
    }

    /// Removes a demand line (delivered or cancelled) and replans what it reached.
    pub fn remove_demand(&mut self, id: u64) -> Result<NetChange, MrpError> {
        let &(i, day, qty) = self.lines.get(&id).ok_or(MrpError::UnknownDemand { id })?;
        let i = i as usize;
        add_at(&mut self.demand[i], day, -qty);
        let change = self.propagate(i, day, -qty);
        match change {
            Ok(_) => {
                self.lines.remove(&id);
                self.summary.demand_lines = self.lines.len();
            }
            Err(_) => {
                add_at(&mut self.demand[i], day, qty);
            }
        }
        change
    }

    /// Nets item `i`'s stored gross requirements into `work.out`.
    fn net_item(&mut self, i: usize) -> Result<(), MrpError> {
        let m = &self.model;
        let row = &m.rows[i];
        net(
            &self.state[i].gross,
            m.receipts(i),
            row.avail.max(0),
            row.moq,
            row.lot,
            &mut self.work.out,
            None,
        )
        .ok_or_else(|| m.overflow(i))
    }

    /// Adds `qty` to `start`'s gross requirement on `day`, nets it again, and then each
    /// component of every item whose planned orders changed, level by level, moving only
    /// the difference of the parent's exploded orders into the component's gross
    /// requirements. On error everything is put back as it was.
    fn propagate(&mut self, start: usize, day: i32, qty: i64) -> Result<NetChange, MrpError> {
        // Items whose planned orders changed: (item, orders kept, where and how many of
        // the orders before after those are in `self.before`).
        let mut undo: Vec<(usize, usize, usize, usize)> = Vec::new();
        // Every change made to gross requirements: (item, day, qty added).
        let mut gross_log: Vec<(u32, i32, i64)> = Vec::new();
        self.before.clear();
        let result = self.run(start, day, qty, &mut undo, &mut gross_log);
        if result.is_err() {
            for p in &mut self.pending {
                p.clear();
            }
            for &(j, kept, a, len) in undo.iter().rev() {
                let planned = &mut self.state[j].planned;
                planned.truncate(kept);
                planned.extend_from_slice(&self.before[a..a + len]);
            }
            for (j, d, q) in gross_log.into_iter().rev() {
                // Only logged after it was applied, so the reverse cannot overflow.
                add_at(&mut self.state[j as usize].gross, d, -q);
            }
            return result;
        }
        for (i, kept, a, len) in undo {
            count(
                &mut self.summary,
                &self.model,
                i,
                &self.before[a..a + len],
                -1,
            );
            count(
                &mut self.summary,
                &self.model,
                i,
                &self.state[i].planned[kept..],
                1,
            );
        }
        result
    }

    fn run(
        &mut self,
        start: usize,
        day: i32,
        qty: i64,
        undo: &mut Vec<(usize, usize, usize, usize)>,
        gross_log: &mut Vec<(u32, i32, i64)>,
    ) -> Result<NetChange, MrpError> {
        let first = self.model.rows[start].llc as usize;
        self.pending[first].push((start as u32, day, qty));
        let (mut replanned, mut requirement_changes) = (0, 0);
        for level in first..self.pending.len() {
            let mut changes = std::mem::take(&mut self.pending[level]);
            changes.sort_unstable_by_key(|e| (e.0, e.1));
            requirement_changes += changes.len();
            // The items of a level lie anywhere in memory: start loading all of them at
            // once rather than waiting for each in turn.
            for group in changes.chunk_by(|a, b| a.0 == b.0) {
                let i = group[0].0 as usize;
                let s = &self.state[i];
                // One load per cache line (four entries), all independent.
                let mut touch = self.model.rows[i].lot;
                for v in [&s.gross, &s.planned] {
                    for k in (0..v.len()).step_by(4) {
                        touch ^= v[k].1;
                    }
                }
                std::hint::black_box(touch);
            }
            for group in changes.chunk_by(|a, b| a.0 == b.0) {
                let i = group[0].0 as usize;
                let m = &self.model;
                let overflow = || m.overflow(i);
                // Netting is causal: requirements from `from` on changed, so planned
                // orders due earlier stay; only the rest is netted again.
                let from = group[0].1;
                let state = &mut self.state[i];
                let kg = state.gross.partition_point(|e| e.0 < from);
                merge_into(&mut state.gross, kg, group, &mut self.work.gross)
                    .ok_or_else(overflow)?;
                gross_log.extend_from_slice(group);
                replanned += 1;
                let kp = state.planned.partition_point(|e| e.0 < from);
                net_from(
                    &state.gross,
                    kg,
                    &state.planned[..kp],
                    m.receipts(i),
                    &m.rows[i],
                    &mut self.work.out,
                )
                .ok_or_else(overflow)?;
                let planned = &mut state.planned;
                if self.work.out[..] == planned[kp..] {
                    continue;
                }
                // Copies rather than a new allocation per changed item.
                let a = self.before.len();
                self.before.extend_from_slice(&planned[kp..]);
                planned.truncate(kp);
                planned.extend_from_slice(&self.work.out);
                let old = &self.before[a..];
                undo.push((i, kp, a, old.len()));
                for &(c, per) in m.components(i) {
                    let pending = &mut self.pending[m.rows[c as usize].llc as usize];
                    explode_difference(m, i, per, old, &planned[kp..], |d, q| {
                        pending.push((c, d, q));
                        Some(())
                    })
                    .ok_or_else(|| m.overflow(c as usize))?;
                }
            }
            changes.clear();
            self.pending[level] = changes;
        }
        Ok(NetChange {
            items_replanned: replanned,
            items_changed: undo.len(),
            requirement_changes,
        })
    }

    /// Widens the scratch space so that `day` falls within it.
    fn cover_day(&mut self, day: i32) -> Result<(), MrpError> {
        let (lo, hi) = (self.span.0.min(day), self.span.1.max(day));
        check_span(lo, hi)?;
        self.span = (lo, hi);
        Ok(())
    }

    fn recount(&mut self) {
        self.summary = PlanSummary {
            items: self.model.names.len(),
            levels: self.model.levels.len(),
            demand_lines: self.lines.len(),
            ..PlanSummary::default()
        };
        for i in 0..self.state.len() {
            count(&mut self.summary, &self.model, i, &self.state[i].planned, 1);
        }
    }
}
