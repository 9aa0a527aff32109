//! The brand's live material plan: one multi-level MRP plan
//! (`kiln_plan::mrp::MrpPlan`) kept current by net change on every order,
//! change, cancellation, receipt, issue and forecast, instead of being
//! regenerated on request.
//!
//! Demand is every open order's material requirement, needed on the day its
//! production starts on the live schedule, plus the demand forecast per
//! material and week that orders have not consumed: a week's forecast line is
//! `max(forecast - orders needing the material that week, 0)`, so an order
//! inside the forecast replaces it rather than adding to it. Supply is stock
//! and the purchases on order, by the day they arrive.
//!
//! It lives in the brand's [`crate::runtime::PlanState`], under the plan lock
//! the order path already holds. A failed net change (only an overflow can
//! fail one) marks the plan stale, and the next read rebuilds it from the
//! store; so does a new day.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::civil::Date;
use kiln_domain::{OrderId, PurchaseSuggestion, SuggestionId};
use kiln_model::Factory;
use kiln_plan::mrp::{DemandLine, Item, MrpError, MrpInput, MrpPlan, Source};
use rust_decimal::Decimal;

/// One open order's need of one material.
#[derive(Debug, Clone)]
struct OrderNeed {
    line: u64,
    material: String,
    qty: Decimal,
    need_by: Date,
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
    orders: HashMap<OrderId, Vec<OrderNeed>>,
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
    /// Open orders' requirements: (order, material, quantity, production start).
    pub demand: Vec<(OrderId, String, Decimal, Date)>,
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
        } = start;
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
        let mut orders: HashMap<OrderId, Vec<OrderNeed>> = HashMap::new();
        let mut lines = Vec::new();
        for (order, material, qty, need_by) in demand {
            if !known(&material) || qty <= Decimal::ZERO {
                continue;
            }
            let line = lines.len() as u64 + 1;
            lines.push(DemandLine {
                id: line,
                item: material.clone(),
                qty,
                need_by,
            });
            orders.entry(order).or_default().push(OrderNeed {
                line,
                material,
                qty,
                need_by,
            });
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
            .collect();
        let next_line = lines.len() as u64;
        // One regeneration with everything, rather than one net change each.
        let plan = MrpPlan::new(&MrpInput {
            today,
            items,
            bom: Vec::new(),
            purchase_orders,
            demand: lines,
        })?;
        Ok(LiveMrp {
            plan,
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
        self.orders
            .iter()
            .flat_map(|(order, needs)| needs.iter().map(move |n| (order, n.line)))
    }

    /// How long each order's net change took, most recent last.
    pub fn net_change_times(&self) -> &[Duration] {
        &self.times
    }

    /// An order's requirements join the plan, needed on `need_by`.
    pub fn add_order(&mut self, order: &OrderId, needs: &[(String, Decimal)], need_by: Date) {
        let began = Instant::now();
        for (material, qty) in needs {
            if *qty <= Decimal::ZERO || self.plan.low_level_code(material).is_none() {
                continue;
            }
            let line = self.new_line();
            let added = self.plan.add_demand(&DemandLine {
                id: line,
                item: material.clone(),
                qty: *qty,
                need_by,
            });
            if self.ok(added) {
                self.orders
                    .entry(order.clone())
                    .or_default()
                    .push(OrderNeed {
                        line,
                        material: material.clone(),
                        qty: *qty,
                        need_by,
                    });
                self.consume(material, need_by, *qty);
            }
        }
        self.timed(began);
    }

    /// Takes all of an order's requirements out (cancelled, or undone).
    pub fn remove_order(&mut self, order: &OrderId) {
        let began = Instant::now();
        for need in self.orders.remove(order).unwrap_or_default() {
            let removed = self.plan.remove_demand(need.line);
            if self.ok(removed) {
                self.consume(&need.material, need.need_by, -need.qty);
            }
        }
        self.timed(began);
    }

    /// An order needs `qty` less of `material` (a line cancelled or
    /// changed, or material issued to its production).
    pub fn reduce(&mut self, order: &OrderId, material: &str, qty: Decimal) {
        let Some(needs) = self.orders.get_mut(order) else {
            return;
        };
        let mut left = qty;
        let mut changed = Vec::new();
        for need in needs.iter_mut().filter(|n| n.material == material) {
            if left <= Decimal::ZERO {
                break;
            }
            let take = left.min(need.qty);
            left -= take;
            changed.push((need.line, need.need_by, need.qty, need.qty - take));
            need.qty -= take;
        }
        needs.retain(|n| n.qty > Decimal::ZERO);
        if needs.is_empty() {
            self.orders.remove(order);
        }
        for (line, need_by, before, after) in changed {
            let removed = self.plan.remove_demand(line);
            if !self.ok(removed) {
                continue;
            }
            self.consume(material, need_by, after - before);
            if after > Decimal::ZERO {
                let added = self.plan.add_demand(&DemandLine {
                    id: line,
                    item: material.to_string(),
                    qty: after,
                    need_by,
                });
                self.ok(added);
            }
        }
    }

    /// Material issued to production: it leaves stock and the requirements
    /// of the orders being made, earliest need first.
    pub fn issue(&mut self, material: &str, qty: Decimal, orders: &[OrderId]) {
        let mut left = qty;
        for order in orders {
            if left <= Decimal::ZERO {
                break;
            }
            let has: Decimal = self
                .orders
                .get(order)
                .map(|n| {
                    n.iter()
                        .filter(|n| n.material == material)
                        .map(|n| n.qty)
                        .sum()
                })
                .unwrap_or_default();
            let take = has.min(left);
            if take > Decimal::ZERO {
                self.reduce(order, material, take);
                left -= take;
            }
        }
        let stock = self.on_hand.get(material).copied().unwrap_or_default() - qty;
        self.set_on_hand(material, stock);
    }

    /// Stock counted, received or seeded.
    pub fn set_on_hand(&mut self, material: &str, on_hand: Decimal) {
        self.on_hand.insert(material.to_string(), on_hand);
        self.resupply(material);
    }

    /// A purchase placed: it arrives on its day.
    pub fn add_purchase(&mut self, p: &PurchaseSuggestion) {
        if self.plan.low_level_code(&p.material).is_none() {
            return;
        }
        self.on_order
            .entry(p.material.clone())
            .or_default()
            .push(OnOrder {
                id: p.id.clone(),
                arrives: p.arrives,
                qty: p.qty,
            });
        self.resupply(&p.material);
    }

    /// A purchase taken back (the order that asked for it was undone).
    pub fn remove_purchase(&mut self, material: &str, id: &SuggestionId) {
        if let Some(list) = self.on_order.get_mut(material) {
            list.retain(|p| &p.id != id);
        }
        self.resupply(material);
    }

    /// A purchase on order arrives on another day.
    pub fn move_purchase(&mut self, material: &str, id: &SuggestionId, arrives: Date) {
        if let Some(p) = self
            .on_order
            .get_mut(material)
            .and_then(|l| l.iter_mut().find(|p| &p.id == id))
        {
            p.arrives = arrives;
        }
        self.resupply(material);
    }

    /// Moves every order whose need day is not its day in `starts`.
    pub fn follow(&mut self, starts: &HashMap<OrderId, Date>) {
        let moved: Vec<(OrderId, Date)> = self
            .orders
            .iter()
            .filter_map(|(order, needs)| {
                let day = *starts.get(order)?;
                needs
                    .iter()
                    .any(|n| n.need_by != day)
                    .then(|| (order.clone(), day))
            })
            .collect();
        for (order, day) in moved {
            self.move_order(&order, day);
        }
    }

    /// An order's production moved: its materials are needed on `need_by`.
    pub fn move_order(&mut self, order: &OrderId, need_by: Date) {
        let needs: Vec<(String, Decimal)> = self
            .orders
            .get(order)
            .map(|n| n.iter().map(|n| (n.material.clone(), n.qty)).collect())
            .unwrap_or_default();
        self.remove_order(order);
        self.add_order(order, &needs, need_by);
    }

    /// When each open order's need of `material` is there, first come first
    /// served by need day: stock first, then the purchases on order by
    /// arrival, with purchase `moved` arriving on its new day if given.
    /// (order, needed on, there on); there on is `None` when nothing on order
    /// covers it.
    pub fn coverage(
        &self,
        material: &str,
        moved: Option<(&SuggestionId, Date)>,
    ) -> Vec<(OrderId, Date, Option<Date>)> {
        let mut needs: Vec<(Date, u64, &OrderId, Decimal)> = self
            .orders
            .iter()
            .flat_map(|(order, n)| {
                n.iter()
                    .filter(|n| n.material == material)
                    .map(move |n| (n.need_by, n.line, order, n.qty))
            })
            .collect();
        needs.sort_by_key(|n| (n.0, n.1));
        let mut supply: Vec<(Date, Decimal)> = self
            .on_order
            .get(material)
            .map(|l| {
                l.iter()
                    .map(|p| match moved {
                        Some((id, day)) if id == &p.id => (day, p.qty),
                        _ => (p.arrives, p.qty),
                    })
                    .collect()
            })
            .unwrap_or_default();
        supply.sort_by_key(|s| s.0);
        let mut have = self.stock(material);
        let mut next = supply.iter().peekable();
        let mut there = Date::MIN;
        let mut wanted = Decimal::ZERO;
        let mut out = Vec::with_capacity(needs.len());
        for (need_by, _, order, qty) in needs {
            wanted += qty;
            let mut covered = have >= wanted;
            while !covered && let Some((day, q)) = next.next() {
                have += *q;
                there = there.max(*day);
                covered = have >= wanted;
            }
            out.push((
                order.clone(),
                need_by,
                covered.then_some(there.max(need_by)),
            ));
        }
        out
    }

    /// A purchase received: its quantity moves from on order into stock.
    pub fn receive(&mut self, material: &str, id: &SuggestionId, qty: Decimal) {
        if let Some(list) = self.on_order.get_mut(material) {
            list.retain(|p| &p.id != id);
        }
        let stock = self.on_hand.get(material).copied().unwrap_or_default() + qty;
        self.set_on_hand(material, stock);
    }

    /// A new demand forecast: per material, units per week from `weeks`'
    /// first days. Orders consume it week by week.
    pub fn set_forecast(&mut self, weeks: Vec<Date>, materials: &[(String, Vec<Decimal>)]) {
        let old: Vec<u64> = self.forecast.values().filter_map(|w| w.line).collect();
        for line in old {
            let removed = self.plan.remove_demand(line);
            self.ok(removed);
        }
        self.forecast.clear();
        self.weeks = weeks;
        for (material, weekly) in materials {
            if self.plan.low_level_code(material).is_none() {
                continue;
            }
            for (k, qty) in weekly.iter().enumerate() {
                let Some(&week) = self.weeks.get(k) else {
                    break;
                };
                if *qty > Decimal::ZERO {
                    self.forecast.insert(
                        (material.clone(), week),
                        ForecastWeek {
                            forecast: *qty,
                            ..ForecastWeek::default()
                        },
                    );
                }
            }
        }
        let booked: Vec<(String, Date, Decimal)> = self
            .orders
            .values()
            .flatten()
            .map(|n| (n.material.clone(), n.need_by, n.qty))
            .collect();
        for (material, day, qty) in booked {
            if let Some(week) = self.week_of(day)
                && let Some(w) = self.forecast.get_mut(&(material, week))
            {
                w.booked += qty;
            }
        }
        let keys: Vec<(String, Date)> = self.forecast.keys().cloned().collect();
        for key in keys {
            self.refresh_forecast(&key);
        }
    }

    /// The forecast still standing for a material, per week (for the view).
    pub fn forecast_left(&self, material: &str) -> Vec<(Date, Decimal)> {
        self.forecast
            .iter()
            .filter(|((m, _), _)| m == material)
            .map(|((_, week), w)| (*week, w.left()))
            .collect()
    }

    /// The forecast as last set, to carry it into a rebuilt plan.
    pub fn forecast_input(&self) -> (Vec<Date>, Vec<(String, Vec<Decimal>)>) {
        let mut by_material: BTreeMap<&str, Vec<Decimal>> = BTreeMap::new();
        for ((material, week), w) in &self.forecast {
            let weekly = by_material
                .entry(material)
                .or_insert_with(|| vec![Decimal::ZERO; self.weeks.len()]);
            if let Ok(k) = self.weeks.binary_search(week) {
                weekly[k] = w.forecast;
            }
        }
        let materials = by_material
            .into_iter()
            .map(|(m, w)| (m.to_string(), w))
            .collect();
        (self.weeks.clone(), materials)
    }

    fn new_line(&mut self) -> u64 {
        self.next_line += 1;
        self.next_line
    }

    fn stock(&self, material: &str) -> Decimal {
        stock_in(&self.on_hand, material)
    }

    fn resupply(&mut self, material: &str) {
        if self.plan.low_level_code(material).is_none() {
            return;
        }
        let orders: Vec<(Date, Decimal)> = self
            .on_order
            .get(material)
            .map(|l| l.iter().map(|p| (p.arrives, p.qty)).collect())
            .unwrap_or_default();
        let changed = self
            .plan
            .set_supply(material, self.stock(material), Decimal::ZERO, &orders);
        self.ok(changed);
    }

    /// Orders needing `material` on `day` consume its forecast that week by
    /// `qty` (negative: give it back).
    fn consume(&mut self, material: &str, day: Date, qty: Decimal) {
        let Some(week) = self.week_of(day) else {
            return;
        };
        let key = (material.to_string(), week);
        let Some(w) = self.forecast.get_mut(&key) else {
            return;
        };
        w.booked += qty;
        self.refresh_forecast(&key);
    }

    /// Makes the week's forecast line stand for what orders left of it.
    fn refresh_forecast(&mut self, key: &(String, Date)) {
        let Some(w) = self.forecast.get(key) else {
            return;
        };
        let left = w.left();
        let old = w.line;
        if let Some(line) = old {
            let removed = self.plan.remove_demand(line);
            self.ok(removed);
        }
        let mut line = None;
        if left > Decimal::ZERO {
            let id = self.new_line();
            let need_by = key.1.max(self.plan.today());
            let added = self.plan.add_demand(&DemandLine {
                id,
                item: key.0.clone(),
                qty: left,
                need_by,
            });
            if self.ok(added) {
                line = Some(id);
            }
        }
        if let Some(w) = self.forecast.get_mut(key) {
            w.line = line;
        }
    }

    /// The forecast week `day` falls in, if any.
    fn week_of(&self, day: Date) -> Option<Date> {
        let k = self.weeks.partition_point(|w| *w <= day);
        let week = *self.weeks.get(k.checked_sub(1)?)?;
        (day.since(week).ok()?.get_days() < 7).then_some(week)
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
        })
        .expect("an empty plan has nothing to fail on")
    }
}

/// After a replan moved operations (a work centre or machine down or up,
/// a re-sequencing): each order's materials are needed when its production
/// now starts. Only the orders whose day changed are moved.
pub fn follow_schedule(plan: &mut crate::runtime::PlanState, today: Date) {
    let starts = production_starts(plan, today);
    plan.mrp.follow(&starts);
}

/// The day each order's production starts on the live schedule: its
/// earliest operation, never before today.
pub fn production_starts(plan: &crate::runtime::PlanState, today: Date) -> HashMap<OrderId, Date> {
    let mut starts: HashMap<OrderId, Date> = HashMap::new();
    for id in plan.schedule.order_ids() {
        let Some(placed) = plan.schedule.order(id) else {
            continue;
        };
        if let Some(first) = placed
            .bookings
            .iter()
            .flatten()
            .map(|b| b.setup_start)
            .min()
        {
            let day = crate::live::day_of(&plan.clock, first).max(today);
            starts
                .entry(id.order.clone())
                .and_modify(|d| *d = (*d).min(day))
                .or_insert(day);
        }
    }
    starts
}

/// The live plan made again from the store and the live schedule: at a
/// brand's first use, on a new day, or after a failed net change.
pub async fn rebuild(
    store: &dyn kiln_store::Store,
    brand: &kiln_domain::BrandId,
    factory: &Factory,
    plan: &crate::runtime::PlanState,
    today: Date,
) -> crate::error::Result<LiveMrp> {
    let open = store.open_requirements(brand).await?;
    let on_order = store.suggestions(brand).await?;
    let starts = production_starts(plan, today);
    let demand = open
        .into_iter()
        .map(|(order, r)| {
            let day = starts.get(&order).copied().unwrap_or(today);
            (order, r.material, r.gross, day)
        })
        .collect();
    let on_hand = plan
        .materials
        .iter()
        .map(|(m, p)| (m.clone(), p.on_hand))
        .collect();
    LiveMrp::build(Start {
        today,
        factory,
        on_hand,
        on_order: &on_order,
        demand,
    })
    .map_err(|e| crate::error::Error::internal_from("the material plan", e))
}
