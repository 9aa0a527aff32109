//! Net change of supply: an item's stock or its open purchase orders change (a receipt,
//! a purchase placed or moved, material issued to production), and the plan follows.

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::{MrpError, MrpPlan, NetChange};
use crate::mrp::units::{day_number, to_micro};

impl MrpPlan {
    /// The day the plan was made for: nothing is ordered before it.
    pub fn today(&self) -> Date {
        crate::mrp::units::date_of(self.model.today)
    }

    /// Sets an item's stock (`on_hand` less `reserved`) and its open purchase orders as
    /// (due, quantity), then nets the item again from its first day and passes the
    /// difference of its planned orders down its BOM, as a change of demand does.
    /// On error the plan is left as it was.
    pub fn set_supply(
        &mut self,
        item: &str,
        on_hand: Decimal,
        reserved: Decimal,
        purchase_orders: &[(Date, Decimal)],
    ) -> Result<NetChange, MrpError> {
        let i = self.model.item(item, "supply")?;
        let avail = to_micro(on_hand, item, "on-hand quantity")?
            .checked_sub(to_micro(reserved, item, "reserved quantity")?)
            .ok_or_else(|| self.model.overflow(i))?;
        let mut receipts = Vec::with_capacity(purchase_orders.len());
        for &(due, qty) in purchase_orders {
            receipts.push((
                day_number(due),
                to_micro(qty, item, "purchase order quantity")?,
            ));
        }
        receipts.sort_by_key(|r| r.0);
        let old_avail = self.model.avail[i];
        // Reservations beyond stock are a requirement on today: it moves by the difference.
        let today = self.model.today;
        let excess = |avail: i64| avail.min(0).checked_neg();
        let delta = excess(avail)
            .zip(excess(old_avail))
            .and_then(|(new, old)| new.checked_sub(old))
            .ok_or_else(|| self.model.overflow(i))?;
        let old_receipts = self.model.receipts(i).to_vec();
        self.replace_supply(i, avail, &receipts);
        // With a zero change on the plan's first day, the whole item is netted again.
        let first = self.span.0.min(today);
        self.pending[self.model.rows[i].llc as usize].push((i as u32, first, 0));
        let change = self.propagate(i, today, delta);
        if change.is_err() {
            self.replace_supply(i, old_avail, &old_receipts);
        }
        change
    }

    /// Rewrites item `i`'s stock and receipts in the model (receipts are stored for all
    /// items in one array, item by item, so the ranges after `i` move).
    fn replace_supply(&mut self, i: usize, avail: i64, receipts: &[(i32, i64)]) {
        let m = &mut self.model;
        let (a, b) = m.rows[i].pos;
        let (a, b) = (a as usize, b as usize);
        m.pos.splice(a..b, receipts.iter().copied());
        let shift = receipts.len() as i64 - (b - a) as i64;
        if shift != 0 {
            for k in i + 1..m.po_start.len() {
                m.po_start[k] = (i64::from(m.po_start[k]) + shift) as u32;
            }
            for (k, row) in m.rows.iter_mut().enumerate() {
                row.pos = (m.po_start[k], m.po_start[k + 1]);
            }
        }
        m.avail[i] = avail;
        m.rows[i].avail = avail;
    }
}
