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

mod supply;
use super::units::{Per, date_of, day_number, from_micro, to_micro};

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

/// The items, BOM and open purchase orders, which net changes of demand leave alone.
#[derive(Debug, Clone)]
struct Model {
    today: i32,
    names: Vec<String>,
    index: HashMap<String, u32>,
    source: Vec<Source>,
    lead: Vec<i32>,
    moq: Vec<i64>,
    lot: Vec<i64>,
    /// On hand less reserved; negative when reservations exceed stock.
    avail: Vec<i64>,
    llc: Vec<u32>,
    /// Items by low-level code.
    levels: Vec<Vec<u32>>,
    /// Components of each item with the quantity per (CSR).
    comp_start: Vec<u32>,
    comps: Vec<(u32, Per)>,
    /// Parents of each item with the quantity per (CSR, "where used").
    par_start: Vec<u32>,
    pars: Vec<(u32, Per)>,
    /// Open purchase orders of each item, by due day (CSR).
    po_start: Vec<u32>,
    pos: Vec<(i32, i64)>,
    rows: Vec<Row>,
}

impl Model {
    fn components(&self, i: usize) -> &[(u32, Per)] {
        let (a, b) = self.rows[i].comps;
        &self.comps[a as usize..b as usize]
    }
    fn parents(&self, i: usize) -> &[(u32, Per)] {
        &self.pars[self.par_start[i] as usize..self.par_start[i + 1] as usize]
    }
    fn receipts(&self, i: usize) -> &[(i32, i64)] {
        let (a, b) = self.rows[i].pos;
        &self.pos[a as usize..b as usize]
    }
    /// The day a planned order due on `due` must start, never before today.
    fn start(&self, i: usize, due: i32) -> i32 {
        (due - self.rows[i].lead).max(self.today)
    }
    fn item(&self, id: &str, context: &'static str) -> Result<usize, MrpError> {
        self.index
            .get(id)
            .map(|&i| i as usize)
            .ok_or_else(|| MrpError::UnknownItem {
                item: id.to_owned(),
                context,
            })
    }
    fn overflow(&self, i: usize) -> MrpError {
        MrpError::Overflow {
            item: self.names[i].clone(),
        }
    }
}

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

/// The figures netting reads for one item, in one cache line.
#[derive(Debug, Clone, Copy, Default)]
struct Row {
    avail: i64,
    moq: i64,
    lot: i64,
    lead: i32,
    llc: u32,
    /// Ranges in `comps` and `pos`.
    comps: (u32, u32),
    pos: (u32, u32),
}

/// Reused buffers: a day-indexed accumulator for gross requirements and the netting output.
#[derive(Debug, Clone, Default)]
struct Work {
    lo: i32,
    vals: Vec<i64>,
    mark: Vec<u32>,
    epoch: u32,
    touched: Vec<i32>,
    gross: Vec<(i32, i64)>,
    out: Vec<(i32, i64)>,
}

impl Work {
    fn new(lo: i32, hi: i32) -> Work {
        let len = (hi - lo + 1) as usize;
        Work {
            lo,
            vals: vec![0; len],
            mark: vec![0; len],
            ..Work::default()
        }
    }

    fn begin(&mut self) {
        self.touched.clear();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.mark.fill(0);
            self.epoch = 1;
        }
    }

    #[inline]
    fn add(&mut self, day: i32, qty: i64) -> Option<()> {
        let k = (day - self.lo) as usize;
        if self.mark[k] != self.epoch {
            self.mark[k] = self.epoch;
            self.vals[k] = 0;
            self.touched.push(day);
        }
        self.vals[k] = self.vals[k].checked_add(qty)?;
        Some(())
    }

    /// Moves the accumulated days, in date order and without zeros, to `gross`.
    fn finish(&mut self) {
        self.gross.clear();
        let (Some(&min), Some(&max)) = (self.touched.iter().min(), self.touched.iter().max())
        else {
            return;
        };
        // Scanning the days between is cheaper than sorting when they are dense.
        if (max - min) as usize <= 4 * self.touched.len() + 64 {
            for d in min..=max {
                let k = (d - self.lo) as usize;
                if self.mark[k] == self.epoch && self.vals[k] != 0 {
                    self.gross.push((d, self.vals[k]));
                }
            }
        } else {
            self.touched.sort_unstable();
            for &d in &self.touched {
                let q = self.vals[(d - self.lo) as usize];
                if q != 0 {
                    self.gross.push((d, q));
                }
            }
        }
    }
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

    pub fn summary(&self) -> PlanSummary {
        self.summary
    }

    /// The item's low-level code: 0 for items no BOM uses, else one more than the deepest
    /// parent.
    pub fn low_level_code(&self, item: &str) -> Option<u32> {
        self.model
            .index
            .get(item)
            .map(|&i| self.model.llc[i as usize])
    }

    /// The planned orders of one item, by need-by date.
    pub fn planned_supply(&self, item: &str) -> Result<Vec<PlannedSupply>, MrpError> {
        let i = self.model.item(item, "query")?;
        Ok(self.supply_of(i).collect())
    }

    /// Every purchase suggestion, by item in input order, then need-by date.
    pub fn purchase_suggestions(&self) -> Vec<PlannedSupply> {
        self.all_supply(Source::Buy)
    }

    /// Every planned manufacturing order, by item in input order, then need-by date.
    pub fn manufacturing_orders(&self) -> Vec<PlannedSupply> {
        self.all_supply(Source::Make)
    }

    /// The item's time-phased record: one row per day with a requirement or a receipt.
    pub fn time_phased(&self, item: &str) -> Result<Vec<PeriodRecord>, MrpError> {
        let i = self.model.item(item, "query")?;
        // (day, gross, scheduled receipts, planned receipts)
        let mut entries: Vec<(i32, i64, i64, i64)> = Vec::new();
        entries.extend(self.state[i].gross.iter().map(|&(d, q)| (d, q, 0, 0)));
        entries.extend(self.model.receipts(i).iter().map(|&(d, q)| (d, 0, q, 0)));
        entries.extend(self.state[i].planned.iter().map(|&(d, q)| (d, 0, 0, q)));
        entries.sort_by_key(|e| e.0);
        let mut rows: Vec<(i32, i64, i64, i64)> = Vec::new();
        for (d, g, s, p) in entries {
            match rows.last_mut() {
                Some(r) if r.0 == d => {
                    r.1 = r.1.saturating_add(g);
                    r.2 = r.2.saturating_add(s);
                    r.3 = r.3.saturating_add(p);
                }
                _ => rows.push((d, g, s, p)),
            }
        }
        let mut projected = self.model.avail[i].max(0);
        Ok(rows
            .into_iter()
            .map(|(d, g, s, p)| {
                projected = projected.saturating_add(s).saturating_add(p) - g;
                PeriodRecord {
                    date: date_of(d),
                    gross: from_micro(g),
                    scheduled_receipts: from_micro(s),
                    planned_receipts: from_micro(p),
                    projected: from_micro(projected),
                }
            })
            .collect())
    }

    /// Every item's shortages, by item in input order, then date.
    pub fn shortages(&self) -> Vec<Shortage> {
        let mut out = Vec::new();
        for i in 0..self.model.names.len() {
            let Ok(rec) = self.records(i) else {
                continue;
            };
            let earliest = self.model.today + self.model.lead[i];
            for b in rec.buckets {
                if b.uncovered > 0 && b.day < earliest {
                    out.push(Shortage {
                        item: self.model.names[i].clone(),
                        need_by: date_of(b.day),
                        qty: from_micro(b.uncovered),
                        earliest: date_of(earliest),
                    });
                }
            }
        }
        out
    }

    /// What one demand line is short of, through every level of its BOM.
    ///
    /// Each item's stock and open purchase orders go to requirements in date order; what a
    /// day cannot cover is shared among that day's requirements in proportion to their
    /// quantities, and only the uncovered share of a made item explodes to its components
    /// (on the start day of the planned orders that cover it). A share is short where a new
    /// order placed today would arrive after it is needed. Quantities are rounded to
    /// millionths.
    pub fn demand_shortages(&self, id: u64) -> Result<Vec<Shortage>, MrpError> {
        let &(item, day, qty) = self.lines.get(&id).ok_or(MrpError::UnknownDemand { id })?;
        let m = &self.model;
        let mut cache: HashMap<u32, Records> = HashMap::new();
        // Requirement shares to trace, per low-level code, merged by (item, day).
        let mut pending: Vec<HashMap<(u32, i32), f64>> = vec![HashMap::new(); m.levels.len()];
        pending[m.llc[item as usize] as usize].insert((item, day), qty as f64);
        let mut short: Vec<(u32, u32, i32, f64)> = Vec::new();
        for level in 0..pending.len() {
            let mut nodes: Vec<_> = std::mem::take(&mut pending[level]).into_iter().collect();
            nodes.sort_unstable_by_key(|&(k, _)| k);
            for ((i, t), x) in nodes {
                let iu = i as usize;
                if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(i) {
                    e.insert(self.records(iu)?);
                }
                let rec = &cache[&i];
                let Ok(b) = rec.buckets.binary_search_by_key(&t, |b| b.day) else {
                    continue;
                };
                let b = rec.buckets[b];
                if b.uncovered == 0 || b.gross <= 0 {
                    continue;
                }
                let share = x / b.gross as f64;
                if t < m.today + m.lead[iu] {
                    short.push((m.llc[iu], i, t, share * b.uncovered as f64));
                }
                if m.components(iu).is_empty() {
                    continue;
                }
                // The planned orders covering [cum, cum + uncovered) of this item's
                // uncovered requirements, first in first out.
                let (lo, hi) = (b.cum_before, b.cum_before + b.uncovered);
                let first = rec.orders.partition_point(|o| o.2 + o.1 <= lo);
                for &(due, q, cum) in &rec.orders[first..] {
                    if cum >= hi {
                        break;
                    }
                    let overlap = (cum + q).min(hi) - cum.max(lo);
                    let start = m.start(iu, due);
                    for &(c, per) in m.components(iu) {
                        *pending[m.llc[c as usize] as usize]
                            .entry((c, start))
                            .or_insert(0.0) += share * overlap as f64 * per.as_f64();
                    }
                }
            }
        }
        short.sort_unstable_by_key(|a| (a.0, a.1, a.2));
        Ok(short
            .into_iter()
            .filter_map(|(_, i, t, q)| {
                let micro = q.round() as i64;
                (micro > 0).then(|| Shortage {
                    item: m.names[i as usize].clone(),
                    need_by: date_of(t),
                    qty: from_micro(micro),
                    earliest: date_of(m.today + m.lead[i as usize]),
                })
            })
            .collect())
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

    fn supply_of(&self, i: usize) -> impl Iterator<Item = PlannedSupply> + '_ {
        let m = &self.model;
        self.state[i]
            .planned
            .iter()
            .map(move |&(due, qty)| PlannedSupply {
                item: m.names[i].clone(),
                source: m.source[i],
                qty: from_micro(qty),
                order_by: date_of(m.start(i, due)),
                need_by: date_of(due),
                late: due - m.lead[i] < m.today,
            })
    }

    fn all_supply(&self, source: Source) -> Vec<PlannedSupply> {
        (0..self.state.len())
            .filter(|&i| self.model.source[i] == source)
            .flat_map(|i| self.supply_of(i))
            .collect()
    }

    /// Item `i`'s buckets and planned orders with the cumulative positions that peg one to
    /// the other.
    fn records(&self, i: usize) -> Result<Records, MrpError> {
        let m = &self.model;
        let mut buckets = Vec::with_capacity(self.state[i].gross.len());
        let mut out = Vec::new();
        net(
            &self.state[i].gross,
            m.receipts(i),
            m.avail[i].max(0),
            m.moq[i],
            m.lot[i],
            &mut out,
            Some(&mut buckets),
        )
        .ok_or_else(|| m.overflow(i))?;
        let mut cum = 0i64;
        let orders = out
            .iter()
            .map(|&(d, q)| {
                let o = (d, q, cum);
                cum = cum.saturating_add(q);
                o
            })
            .collect();
        Ok(Records { buckets, orders })
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    day: i32,
    gross: i64,
    /// What on-hand stock and open purchase orders leave uncovered this day.
    uncovered: i64,
    /// Uncovered quantity of earlier days.
    cum_before: i64,
}

struct Records {
    buckets: Vec<Bucket>,
    /// (due day, qty, cumulative qty of earlier orders)
    orders: Vec<(i32, i64, i64)>,
}

/// Adds (`sign` 1) or removes (-1) item `i`'s `orders` from the counts.
fn count(summary: &mut PlanSummary, m: &Model, i: usize, orders: &[(i32, i64)], sign: isize) {
    let late = orders
        .iter()
        .filter(|&&(due, _)| due - m.lead[i] < m.today)
        .count() as isize;
    let all = orders.len() as isize;
    let s = summary;
    let (n, l) = match m.source[i] {
        Source::Buy => (&mut s.purchase_suggestions, &mut s.late_purchases),
        Source::Make => (&mut s.manufacturing_orders, &mut s.late_manufacturing),
    };
    *n = n.saturating_add_signed(sign * all);
    *l = l.saturating_add_signed(sign * late);
}

fn check_span(lo: i32, hi: i32) -> Result<(), MrpError> {
    let days = i64::from(hi) - i64::from(lo) + 1;
    if days > MAX_SPAN_DAYS {
        return Err(MrpError::HorizonTooLong {
            days,
            max: MAX_SPAN_DAYS,
        });
    }
    Ok(())
}

/// Adds `qty` on `day` to a by-day list, dropping days that reach zero.
fn add_at(v: &mut Vec<(i32, i64)>, day: i32, qty: i64) -> Option<()> {
    match v.binary_search_by_key(&day, |e| e.0) {
        Ok(k) => {
            v[k].1 = v[k].1.checked_add(qty)?;
            if v[k].1 == 0 {
                v.remove(k);
            }
        }
        Err(k) if qty != 0 => v.insert(k, (day, qty)),
        Err(_) => {}
    }
    Some(())
}

/// Adds `changes` (item, day, qty), sorted by day and none before `list[from]`, to a
/// by-day list in one pass, dropping days that reach zero. `scratch` is only a buffer.
fn merge_into(
    list: &mut Vec<(i32, i64)>,
    from: usize,
    changes: &[(u32, i32, i64)],
    scratch: &mut Vec<(i32, i64)>,
) -> Option<()> {
    scratch.clear();
    let mut k = 0;
    let push = |day: i32, qty: i64, scratch: &mut Vec<(i32, i64)>| {
        if qty != 0 {
            scratch.push((day, qty));
        }
    };
    for &(day, qty) in &list[from..] {
        while k < changes.len() && changes[k].1 < day {
            let d = changes[k].1;
            let mut q = 0i64;
            while k < changes.len() && changes[k].1 == d {
                q = q.checked_add(changes[k].2)?;
                k += 1;
            }
            push(d, q, scratch);
        }
        let mut q = qty;
        while k < changes.len() && changes[k].1 == day {
            q = q.checked_add(changes[k].2)?;
            k += 1;
        }
        push(day, q, scratch);
    }
    while k < changes.len() {
        let d = changes[k].1;
        let mut q = 0i64;
        while k < changes.len() && changes[k].1 == d {
            q = q.checked_add(changes[k].2)?;
            k += 1;
        }
        push(d, q, scratch);
    }
    list.truncate(from);
    list.extend_from_slice(scratch);
    Some(())
}

/// Passes the difference between parent `p`'s `old` and `new` planned orders, times `per`,
/// to `add` as a component's gross requirement on each order's start day. Per order, as
/// [`gross_of`] sums them, so both give the same rounding.
fn explode_difference(
    m: &Model,
    p: usize,
    per: Per,
    old: &[(i32, i64)],
    new: &[(i32, i64)],
    mut add: impl FnMut(i32, i64) -> Option<()>,
) -> Option<()> {
    let (mut a, mut b) = (0, 0);
    while a < old.len() || b < new.len() {
        let day_a = old.get(a).map_or(i32::MAX, |o| o.0);
        let day_b = new.get(b).map_or(i32::MAX, |o| o.0);
        let due = day_a.min(day_b);
        let mut before = 0;
        if day_a == due {
            before = old[a].1;
            a += 1;
        }
        let mut after = 0;
        if day_b == due {
            after = new[b].1;
            b += 1;
        }
        if before != after {
            let delta = per.apply(after)?.checked_sub(per.apply(before)?)?;
            add(m.start(p, due), delta)?;
        }
    }
    Some(())
}

/// Item `i`'s gross requirements by day into `work.gross`: its own demand, reservations
/// beyond stock (due today), and each parent's planned orders times the quantity per,
/// needed on the day the parent's order starts.
fn gross_of(
    m: &Model,
    demand: &[Vec<(i32, i64)>],
    state: &[ItemState],
    i: usize,
    work: &mut Work,
) -> Result<(), MrpError> {
    let overflow = || m.overflow(i);
    work.begin();
    for &(d, q) in &demand[i] {
        work.add(d, q).ok_or_else(overflow)?;
    }
    if m.avail[i] < 0 {
        work.add(m.today, -m.avail[i]).ok_or_else(overflow)?;
    }
    for &(p, per) in m.parents(i) {
        let p = p as usize;
        for &(due, q) in &state[p].planned {
            let need = per.apply(q).ok_or_else(overflow)?;
            work.add(m.start(p, due), need).ok_or_else(overflow)?;
        }
    }
    work.finish();
    Ok(())
}

/// Nets one item: `gross` and `receipts` by day, stock `on_hand` (not negative). Planned
/// orders go to `out` as (due day, qty); `None` on overflow.
fn net(
    gross: &[(i32, i64)],
    receipts: &[(i32, i64)],
    on_hand: i64,
    moq: i64,
    lot: i64,
    out: &mut Vec<(i32, i64)>,
    mut buckets: Option<&mut Vec<Bucket>>,
) -> Option<()> {
    out.clear();
    // `projected` counts planned orders; `existing` only stock and purchase orders, with
    // each shortfall written off so that the next day's is its own.
    let (mut projected, mut existing, mut cum) = (on_hand, on_hand, 0i64);
    let mut r = 0;
    for &(day, qty) in gross {
        while r < receipts.len() && receipts[r].0 <= day {
            projected = projected.checked_add(receipts[r].1)?;
            existing = existing.checked_add(receipts[r].1)?;
            r += 1;
        }
        projected = projected.checked_sub(qty)?;
        if projected < 0 {
            let q = lot_size(-projected, moq, lot)?;
            out.push((day, q));
            projected += q;
        }
        if let Some(b) = buckets.as_deref_mut() {
            existing -= qty;
            let uncovered = (-existing).max(0);
            existing = existing.max(0);
            b.push(Bucket {
                day,
                gross: qty,
                uncovered,
                cum_before: cum,
            });
            cum = cum.checked_add(uncovered)?;
        }
    }
    Some(())
}

/// Nets `gross[from..]` into `out`, given the planned orders `kept` for the days before
/// (as [`net`] made them): the state at that point is rebuilt from sums of the prefix.
fn net_from(
    gross: &[(i32, i64)],
    from: usize,
    kept: &[(i32, i64)],
    receipts: &[(i32, i64)],
    row: &Row,
    out: &mut Vec<(i32, i64)>,
) -> Option<()> {
    out.clear();
    let mut projected = row.avail.max(0);
    let mut r = 0;
    if from > 0 {
        // `net` applies receipts due by each requirement's day before netting it.
        let last = gross[from - 1].0;
        r = receipts.partition_point(|e| e.0 <= last);
        for e in &receipts[..r] {
            projected = projected.checked_add(e.1)?;
        }
        for e in kept {
            projected = projected.checked_add(e.1)?;
        }
        for e in &gross[..from] {
            projected = projected.checked_sub(e.1)?;
        }
    }
    for &(day, qty) in &gross[from..] {
        while r < receipts.len() && receipts[r].0 <= day {
            projected = projected.checked_add(receipts[r].1)?;
            r += 1;
        }
        projected = projected.checked_sub(qty)?;
        if projected < 0 {
            let q = lot_size(-projected, row.moq, row.lot)?;
            out.push((day, q));
            projected += q;
        }
    }
    Some(())
}

/// The order quantity for a net requirement `need` (> 0): at least the MOQ, rounded up to
/// a multiple of the lot size.
fn lot_size(need: i64, moq: i64, lot: i64) -> Option<i64> {
    let q = need.max(moq);
    if lot > 0 {
        ((q - 1) / lot + 1).checked_mul(lot)
    } else {
        Some(q)
    }
}

fn build_model(input: &MrpInput) -> Result<Model, MrpError> {
    let today = day_number(input.today);
    let n = input.items.len();
    let mut index = HashMap::with_capacity(n);
    let mut m = Model {
        today,
        names: Vec::with_capacity(n),
        index: HashMap::new(),
        source: Vec::with_capacity(n),
        lead: Vec::with_capacity(n),
        moq: Vec::with_capacity(n),
        lot: Vec::with_capacity(n),
        avail: Vec::with_capacity(n),
        llc: vec![0; n],
        levels: Vec::new(),
        comp_start: Vec::new(),
        comps: Vec::new(),
        par_start: Vec::new(),
        pars: Vec::new(),
        po_start: Vec::new(),
        pos: Vec::new(),
        rows: Vec::new(),
    };
    let last_day = day_number(Date::MAX);
    for (k, it) in input.items.iter().enumerate() {
        if index.insert(it.id.clone(), k as u32).is_some() {
            return Err(MrpError::DuplicateItem {
                item: it.id.clone(),
            });
        }
        let lead = i32::try_from(it.lead_days).map_err(|_| MrpError::DateOutOfRange)?;
        if i64::from(today) + i64::from(lead) > i64::from(last_day) {
            return Err(MrpError::DateOutOfRange);
        }
        let on_hand = to_micro(it.on_hand, &it.id, "on-hand quantity")?;
        let reserved = to_micro(it.reserved, &it.id, "reserved quantity")?;
        m.names.push(it.id.clone());
        m.source.push(it.source);
        m.lead.push(lead);
        m.moq
            .push(to_micro(it.moq, &it.id, "minimum order quantity")?);
        m.lot.push(to_micro(it.lot_size, &it.id, "lot size")?);
        m.avail.push(on_hand - reserved);
    }
    m.index = index;

    let mut edges = Vec::with_capacity(input.bom.len());
    for line in &input.bom {
        let p = m.item(&line.parent, "BOM line")?;
        let c = m.item(&line.component, "BOM line")?;
        if m.source[p] == Source::Buy {
            return Err(MrpError::PurchasedWithComponents {
                item: line.parent.clone(),
            });
        }
        edges.push((p as u32, c as u32, Per::new(line.qty_per, &line.component)?));
    }
    (m.comp_start, m.comps) = csr(n, edges.iter().map(|&(p, c, per)| (p, (c, per))));
    (m.par_start, m.pars) = csr(n, edges.iter().map(|&(p, c, per)| (c, (p, per))));
    levelize(&mut m)?;

    let mut pos = Vec::with_capacity(input.purchase_orders.len());
    for po in &input.purchase_orders {
        let i = m.item(&po.item, "purchase order")?;
        let qty = to_micro(po.qty, &po.item, "purchase order quantity")?;
        pos.push((i as u32, (day_number(po.due), qty)));
    }
    pos.sort_by_key(|&(i, (d, _))| (i, d));
    (m.po_start, m.pos) = csr(n, pos.into_iter());
    m.rows = (0..n)
        .map(|i| Row {
            avail: m.avail[i],
            moq: m.moq[i],
            lot: m.lot[i],
            lead: m.lead[i],
            llc: m.llc[i],
            comps: (m.comp_start[i], m.comp_start[i + 1]),
            pos: (m.po_start[i], m.po_start[i + 1]),
        })
        .collect();
    Ok(m)
}

/// Compressed rows: `start[i]..start[i + 1]` indexes the values of row `i`, kept in input
/// order.
fn csr<T: Copy>(n: usize, pairs: impl Iterator<Item = (u32, T)> + Clone) -> (Vec<u32>, Vec<T>) {
    let mut start = vec![0u32; n + 1];
    for (r, _) in pairs.clone() {
        start[r as usize + 1] += 1;
    }
    for k in 0..n {
        start[k + 1] += start[k];
    }
    let mut fill = start.clone();
    let mut values: Vec<Option<T>> = vec![None; start[n] as usize];
    for (r, v) in pairs {
        values[fill[r as usize] as usize] = Some(v);
        fill[r as usize] += 1;
    }
    (start, values.into_iter().flatten().collect())
}

/// Low-level codes by topological levelling (Kahn): an item's code is one more than its
/// deepest parent's, so it is planned after every item that uses it.
fn levelize(m: &mut Model) -> Result<(), MrpError> {
    let n = m.names.len();
    let mut indegree: Vec<u32> = (0..n).map(|i| m.parents(i).len() as u32).collect();
    let mut stack: Vec<u32> = (0..n as u32)
        .filter(|&i| indegree[i as usize] == 0)
        .collect();
    let mut done = 0;
    while let Some(p) = stack.pop() {
        done += 1;
        let next = m.llc[p as usize] + 1;
        for k in m.comp_start[p as usize]..m.comp_start[p as usize + 1] {
            let c = m.comps[k as usize].0 as usize;
            m.llc[c] = m.llc[c].max(next);
            indegree[c] -= 1;
            if indegree[c] == 0 {
                stack.push(c as u32);
            }
        }
    }
    if done < n {
        return Err(MrpError::BomCycle {
            items: find_cycle(m, &indegree),
        });
    }
    let levels = m.llc.iter().max().map_or(0, |&l| l as usize + 1);
    m.levels = vec![Vec::new(); levels];
    for i in 0..n {
        m.levels[m.llc[i] as usize].push(i as u32);
    }
    Ok(())
}

/// After Kahn's pass every item left has a parent left, so walking up through such parents
/// must come back to an item already seen.
fn find_cycle(m: &Model, indegree: &[u32]) -> Vec<String> {
    let Some(start) = (0..m.names.len()).find(|&i| indegree[i] > 0) else {
        return Vec::new();
    };
    let mut seen = vec![usize::MAX; m.names.len()];
    let mut path = Vec::new();
    let mut i = start;
    while seen[i] == usize::MAX {
        seen[i] = path.len();
        path.push(i);
        match m
            .parents(i)
            .iter()
            .find(|&&(p, _)| indegree[p as usize] > 0)
        {
            Some(&(p, _)) => i = p as usize,
            None => break,
        }
    }
    let from = seen[i].min(path.len());
    // The walk went from component to parent; report parent → component.
    let mut cycle: Vec<String> = path[from..]
        .iter()
        .rev()
        .map(|&k| m.names[k].clone())
        .collect();
    if let Some(first) = cycle.first().cloned() {
        cycle.push(first);
    }
    cycle
}
