//! Supply in the live plan: stock, and the purchases on order by the day
//! they arrive; and which orders' needs they cover.

use jiff::civil::Date;
use kiln_domain::{OrderId, PurchaseSuggestion, SuggestionId};
use rust_decimal::Decimal;

use super::{LiveMrp, OnOrder, stock_in};

impl LiveMrp {
    /// The purchases on order of `material` as (arrival day, quantity),
    /// earliest first: the order path takes what earlier orders have not
    /// from the earliest.
    pub fn arrivals(&self, material: &str) -> Vec<(Date, Decimal)> {
        let mut out: Vec<(Date, Decimal)> = self
            .on_order
            .get(material)
            .map(|l| l.iter().map(|p| (p.arrives, p.qty)).collect())
            .unwrap_or_default();
        out.sort_by_key(|a| a.0);
        out
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
            .flat_map(|(order, groups)| {
                groups.iter().filter_map(move |g| {
                    Some((g.need_by, g.seq, order, *g.materials.get(material)?))
                })
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
        self.add_stock(material, qty);
    }

    /// Stock changed by `qty` (negative: it left).
    pub(super) fn add_stock(&mut self, material: &str, qty: Decimal) {
        let stock = self.on_hand.get(material).copied().unwrap_or_default() + qty;
        self.set_on_hand(material, stock);
    }

    pub(super) fn stock(&self, material: &str) -> Decimal {
        stock_in(&self.on_hand, material)
    }

    pub(super) fn resupply(&mut self, material: &str) {
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
}
