//! The brand's live material plan: one multi-level MRP plan
//! (`kiln_plan::mrp::MrpPlan`) kept current by net change on every order,
//! change, cancellation, receipt, issue and forecast, instead of being
//! regenerated on request.
//!
//! Demand is every open order's needs on the day its production starts on
//! the live schedule: the sub-assemblies its lines make, a level above the
//! materials they are made from ([`levels`]), and its other materials; plus
//! the demand forecast per material and week that orders have not consumed
//! ([`forecast`]). Supply is stock and the purchases on order, by the day
//! they arrive.
//!
//! It lives in the brand's [`crate::runtime::PlanState`], under the plan lock
//! the order path already holds. A failed net change (only an overflow can
//! fail one) marks the plan stale, and the next read rebuilds it from the
//! store ([`rebuild`]); so does a new day.

mod forecast;
mod levels;
mod rebuild;
mod supply;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::civil::Date;
use kiln_domain::{OrderId, PurchaseSuggestion, SuggestionId};
use kiln_model::Factory;
use kiln_plan::mrp::{DemandLine, Item, MrpError, MrpInput, MrpPlan, Source};
use rust_decimal::Decimal;

use levels::Levels;
pub use rebuild::{follow_schedule, line_assemblies, production_starts, rebuild, sub_assemblies};

/// One open order's needs from one day of production.
#[derive(Debug, Clone)]
struct Needs {
    /// First come, first served among needs of one day.
    seq: u64,
    need_by: Date,
    /// Each material, every sub-assembly's exploded: what stock, purchases
    /// and the forecast are counted against.
    materials: BTreeMap<String, Decimal>,
    /// The sub-assemblies its lines make, in units.
    assemblies: BTreeMap<String, Decimal>,
    /// The demand lines standing for it in the plan: item -> (line, qty),
    /// as [`Levels::level`] makes them of the two above.
    lines: BTreeMap<String, (u64, Decimal)>,
}

impl Needs {
    /// The needs of `groups` from `need_by`, new (numbered by `seq`) if
    /// there are none yet.
    fn on(groups: &mut Vec<Needs>, need_by: Date, seq: impl FnOnce() -> u64) -> &mut Needs {
        let at = match groups.iter().position(|g| g.need_by == need_by) {
            Some(at) => at,
            None => {
                groups.push(Needs {
                    seq: seq(),
                    need_by,
                    materials: BTreeMap::new(),
                    assemblies: BTreeMap::new(),
                    lines: BTreeMap::new(),
                });
                groups.len() - 1
            }
        };
        &mut groups[at]
    }

    /// Nothing left to cover: sub-assemblies are only ever made from
    /// materials still needed (as a rebuild, which starts from the open
    /// material requirements, sees it).
    fn is_empty(&self) -> bool {
        self.materials.is_empty()
    }
}

/// Adds `qty` to `item` (negative: takes it), dropping what reaches zero.
fn add_to(map: &mut BTreeMap<String, Decimal>, item: &str, qty: Decimal) {
    let v = map.entry(item.to_string()).or_default();
    *v += qty;
    if *v <= Decimal::ZERO {
        map.remove(item);
    }
}

/// Takes up to `qty` of `item` from the `totals` of `groups`, earliest
/// needs first; (need day, quantity) of what it took.
fn take_earliest(
    groups: &mut [Needs],
    totals: impl Fn(&mut Needs) -> &mut BTreeMap<String, Decimal>,
    item: &str,
    qty: Decimal,
) -> Vec<(Date, Decimal)> {
    let mut left = qty;
    let mut took = Vec::new();
    for g in groups.iter_mut() {
        if left <= Decimal::ZERO {
            break;
        }
        let day = g.need_by;
        let map = totals(g);
        let Some(&has) = map.get(item) else {
            continue;
        };
        let take = left.min(has);
        left -= take;
        add_to(map, item, -take);
        took.push((day, take));
    }
    took
}

/// The forecast of one material in one week, and the orders consuming it.
#[derive(Debug, Clone, Default)]
struct ForecastWeek {
    forecast: Decimal,
    booked: Decimal,
    /// The demand line standing for what is left, if anything is.
    line: Option<u64>,
}

impl ForecastWeek {
    /// What orders have not consumed.
    fn left(&self) -> Decimal {
        (self.forecast - self.booked).max(Decimal::ZERO)
    }
}

/// Stock MRP nets against: what is on hand, never negative.
fn stock_in(on_hand: &HashMap<String, Decimal>, material: &str) -> Decimal {
    on_hand
        .get(material)
        .copied()
        .unwrap_or_default()
        .max(Decimal::ZERO)
}

/// A purchase on order, as MRP counts it.
#[derive(Debug, Clone)]
struct OnOrder {
    id: SuggestionId,
    arrives: Date,
    qty: Decimal,
}

/// Most net-change durations kept for [`LiveMrp::net_change_times`].
const TIMES_KEPT: usize = 100_000;

#[derive(Clone)]
pub struct LiveMrp {
    plan: MrpPlan,
    levels: Levels,
    orders: HashMap<OrderId, Vec<Needs>>,
    on_hand: HashMap<String, Decimal>,
    on_order: HashMap<String, Vec<OnOrder>>,
    /// Forecast weeks' first days, in order; a week is 7 days.
    weeks: Vec<Date>,
    forecast: BTreeMap<(String, Date), ForecastWeek>,
    next_line: u64,
    /// A net change failed: rebuild before trusting it again.
    pub stale: bool,
    /// How long each order's net change took, most recent last.
    times: Vec<Duration>,
}

/// What a live plan starts from.
pub struct Start<'a> {
    pub today: Date,
    pub factory: &'a Factory,
    /// Stock per material.
    pub on_hand: Vec<(String, Decimal)>,
    pub on_order: &'a [PurchaseSuggestion],
    /// Open orders' requirements: (order, material, quantity, production
    /// start), sub-assemblies exploded.
    pub demand: Vec<(OrderId, String, Decimal, Date)>,
    /// The sub-assemblies open orders make: (order, assembly, units).
    pub assemblies: Vec<(OrderId, String, Decimal)>,
}

impl LiveMrp {
    /// Plans everything once (full regeneration); net change from then on.
    pub fn build(start: Start<'_>) -> Result<LiveMrp, MrpError> {
        let Start {
            today,
            factory,
            on_hand,
            on_order: on_order_list,
            demand,
            assemblies,
        } = start;
        let levels = Levels::new(factory);
        let on_hand: HashMap<String, Decimal> = on_hand.into_iter().collect();
        let known = |m: &str| factory.material(m).is_some();
        let mut on_order: HashMap<String, Vec<OnOrder>> = HashMap::new();
        let mut purchase_orders = Vec::new();
        for s in on_order_list.iter().filter(|s| known(&s.material)) {
            on_order
                .entry(s.material.clone())
                .or_default()
                .push(OnOrder {
                    id: s.id.clone(),
                    arrives: s.arrives,
                    qty: s.qty,
                });
            purchase_orders.push(kiln_plan::mrp::OpenPurchaseOrder {
                item: s.material.clone(),
                qty: s.qty,
                due: s.arrives,
            });
        }
        let mut next_line = 0u64;
        let mut next = || {
            next_line += 1;
            next_line
        };
        // One day's needs per order: the day its production starts.
        let mut orders: HashMap<OrderId, Vec<Needs>> = HashMap::new();
        for (order, material, qty, need_by) in demand {
            if !known(&material) || qty <= Decimal::ZERO {
                continue;
            }
            let g = Needs::on(orders.entry(order).or_default(), need_by, &mut next);
            add_to(&mut g.materials, &material, qty);
        }
        for (order, assembly, units) in assemblies {
            if !levels.is_assembly(&assembly) || units <= Decimal::ZERO {
                continue;
            }
            // An order with nothing left to cover has nothing to make.
            if let Some(g) = orders.get_mut(&order).and_then(|g| g.first_mut()) {
                add_to(&mut g.assemblies, &assembly, units);
            }
        }
        let mut lines = Vec::new();
        let mut ordered: Vec<(&OrderId, &mut Vec<Needs>)> = orders.iter_mut().collect();
        ordered.sort_by_key(|(_, g)| g.first().map(|g| g.seq));
        for (_, groups) in ordered {
            for g in groups.iter_mut() {
                for (item, qty) in levels.level(&g.materials, &g.assemblies) {
                    let line = next();
                    lines.push(DemandLine {
                        id: line,
                        item: item.clone(),
                        qty,
                        need_by: g.need_by,
                    });
                    g.lines.insert(item, (line, qty));
                }
            }
        }
        let items = factory
            .materials
            .iter()
            .map(|m| Item {
                id: m.id.clone(),
                source: Source::Buy,
                lead_days: m.lead_days,
                moq: m.moq,
                lot_size: m.lot_size,
                on_hand: stock_in(&on_hand, &m.id),
                reserved: Decimal::ZERO,
            })
            .chain(levels.items(factory))
            .collect();
        // One regeneration with everything, rather than one net change each.
        let plan = MrpPlan::new(&MrpInput {
            today,
            items,
            bom: levels.bom(factory),
            purchase_orders,
            demand: lines,
        })?;
        Ok(LiveMrp {
            plan,
            levels,
            orders,
            on_hand,
            on_order,
            weeks: Vec::new(),
            forecast: BTreeMap::new(),
            next_line,
            stale: false,
            times: Vec::new(),
        })
    }

    pub fn plan(&self) -> &MrpPlan {
        &self.plan
    }

    /// The day the plan was made for: a new day asks for a rebuild.
    pub fn today(&self) -> Date {
        self.plan.today()
    }

    /// Each open order's demand lines, to report its shortages.
    pub fn order_lines(&self) -> impl Iterator<Item = (&OrderId, u64)> {
        self.orders.iter().flat_map(|(order, groups)| {
            groups
                .iter()
                .flat_map(move |g| g.lines.values().map(move |(line, _)| (order, *line)))
        })
    }

    /// How long each order's net change took, most recent last.
    pub fn net_change_times(&self) -> &[Duration] {
        &self.times
    }

    /// An order's requirements join the plan, needed on `need_by`:
    /// `materials` with every sub-assembly exploded, and the sub-assemblies
    /// (assembly, units) its lines make.
    pub fn add_order(
        &mut self,
        order: &OrderId,
        materials: &[(String, Decimal)],
        assemblies: &[(String, Decimal)],
        need_by: Date,
    ) {
        let began = Instant::now();
        let materials: Vec<&(String, Decimal)> = materials
            .iter()
            .filter(|(m, q)| *q > Decimal::ZERO && self.plan.low_level_code(m).is_some())
            .collect();
        let assemblies: Vec<&(String, Decimal)> = assemblies
            .iter()
            .filter(|(a, q)| *q > Decimal::ZERO && self.levels.is_assembly(a))
            .collect();
        // Sub-assemblies come with their materials or not at all.
        if materials.is_empty() {
            return self.timed(began);
        }
        let next_line = &mut self.next_line;
        let groups = self.orders.entry(order.clone()).or_default();
        let g = Needs::on(groups, need_by, || {
            *next_line += 1;
            *next_line
        });
        for (m, q) in &materials {
            add_to(&mut g.materials, m, *q);
        }
        for (a, q) in &assemblies {
            add_to(&mut g.assemblies, a, *q);
        }
        for (m, q) in materials {
            self.consume(m, need_by, *q);
        }
        self.relevel(order);
        self.timed(began);
    }

    /// Takes all of an order's requirements out (cancelled, or undone).
    pub fn remove_order(&mut self, order: &OrderId) {
        let began = Instant::now();
        for g in self.orders.remove(order).unwrap_or_default() {
            for (line, _) in g.lines.values() {
                let removed = self.plan.remove_demand(*line);
                self.ok(removed);
            }
            for (m, q) in &g.materials {
                self.consume(m, g.need_by, -*q);
            }
        }
        self.timed(began);
    }

    /// An order needs less: `materials` (sub-assemblies exploded) and the
    /// sub-assemblies `assemblies`, from its earliest needs on (a line
    /// cancelled or changed, or an order undone).
    pub fn take_back(
        &mut self,
        order: &OrderId,
        materials: &[(String, Decimal)],
        assemblies: &[(String, Decimal)],
    ) {
        let Some(groups) = self.orders.get_mut(order) else {
            return;
        };
        let mut consumed = Vec::new();
        for (material, qty) in materials {
            for (day, took) in take_earliest(groups, |g| &mut g.materials, material, *qty) {
                consumed.push((material, day, took));
            }
        }
        for (assembly, qty) in assemblies {
            take_earliest(groups, |g| &mut g.assemblies, assembly, *qty);
        }
        for (material, day, qty) in consumed {
            self.consume(material, day, -qty);
        }
        self.relevel(order);
    }

    /// Makes each of the order's demand lines stand for its needs as they
    /// are now, changing only the lines that differ; needs with nothing
    /// left go.
    fn relevel(&mut self, order: &OrderId) {
        let Some(mut groups) = self.orders.remove(order) else {
            return;
        };
        for g in groups.iter_mut() {
            let want = if g.is_empty() {
                BTreeMap::new()
            } else {
                self.levels.level(&g.materials, &g.assemblies)
            };
            let old = std::mem::take(&mut g.lines);
            for (item, (line, qty)) in old {
                if want.get(&item) == Some(&qty) {
                    g.lines.insert(item, (line, qty));
                } else {
                    let removed = self.plan.remove_demand(line);
                    self.ok(removed);
                }
            }
            for (item, qty) in want {
                if g.lines.contains_key(&item) {
                    continue;
                }
                let id = self.new_line();
                let added = self.plan.add_demand(&DemandLine {
                    id,
                    item: item.clone(),
                    qty,
                    need_by: g.need_by,
                });
                if self.ok(added) {
                    g.lines.insert(item, (id, qty));
                }
            }
        }
        groups.retain(|g| !g.is_empty());
        if !groups.is_empty() {
            self.orders.insert(order.clone(), groups);
        }
    }

    /// Orders made: their materials were issued to production, so they
    /// leave stock (`consumed`, per material) and the orders' needs leave
    /// the plan, as the store consumes their requirements.
    pub fn made(&mut self, orders: &[OrderId], consumed: &[(String, Decimal)]) {
        for order in orders {
            self.remove_order(order);
        }
        for (material, qty) in consumed {
            self.add_stock(material, -*qty);
        }
    }

    /// Moves every order whose need day is not its day in `starts`.
    pub fn follow(&mut self, starts: &HashMap<OrderId, Date>) {
        let moved: Vec<(OrderId, Date)> = self
            .orders
            .iter()
            .filter_map(|(order, groups)| {
                let day = *starts.get(order)?;
                groups
                    .iter()
                    .any(|g| g.need_by != day)
                    .then(|| (order.clone(), day))
            })
            .collect();
        for (order, day) in moved {
            self.move_order(&order, day);
        }
    }

    /// An order's production moved: all its needs are needed on `need_by`.
    pub fn move_order(&mut self, order: &OrderId, need_by: Date) {
        let mut materials: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut assemblies: BTreeMap<String, Decimal> = BTreeMap::new();
        for g in self.orders.get(order).into_iter().flatten() {
            for (m, q) in &g.materials {
                *materials.entry(m.clone()).or_default() += *q;
            }
            for (a, q) in &g.assemblies {
                *assemblies.entry(a.clone()).or_default() += *q;
            }
        }
        self.remove_order(order);
        let materials: Vec<(String, Decimal)> = materials.into_iter().collect();
        let assemblies: Vec<(String, Decimal)> = assemblies.into_iter().collect();
        self.add_order(order, &materials, &assemblies, need_by);
    }

    fn new_line(&mut self) -> u64 {
        self.next_line += 1;
        self.next_line
    }

    fn ok<T>(&mut self, r: Result<T, MrpError>) -> bool {
        match r {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "the live material plan failed a net change; it will be rebuilt");
                self.stale = true;
                false
            }
        }
    }

    fn timed(&mut self, began: Instant) {
        if self.times.len() >= TIMES_KEPT {
            self.times.drain(..TIMES_KEPT / 2);
        }
        self.times.push(began.elapsed());
    }
}

impl LiveMrp {
    /// A plan with no materials, until [`rebuild`] fills it.
    pub fn empty(today: Date) -> LiveMrp {
        LiveMrp::build(Start {
            today,
            factory: &Factory::default(),
            on_hand: Vec::new(),
            on_order: &[],
            demand: Vec::new(),
            assemblies: Vec::new(),
        })
        .expect("an empty plan has nothing to fail on")
    }
}
