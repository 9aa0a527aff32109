//! Netting one item and passing differences down: the kernels net change and full
//! regeneration share, over whole millionths and day numbers.

use super::*;

/// Reused buffers: a day-indexed accumulator for gross requirements and the netting output.
#[derive(Debug, Clone, Default)]
pub(super) struct Work {
    pub(super) lo: i32,
    pub(super) vals: Vec<i64>,
    pub(super) mark: Vec<u32>,
    pub(super) epoch: u32,
    pub(super) touched: Vec<i32>,
    pub(super) gross: Vec<(i32, i64)>,
    pub(super) out: Vec<(i32, i64)>,
}

impl Work {
    pub(super) fn new(lo: i32, hi: i32) -> Work {
        let len = (hi - lo + 1) as usize;
        Work {
            lo,
            vals: vec![0; len],
            mark: vec![0; len],
            ..Work::default()
        }
    }

    pub(super) fn begin(&mut self) {
        self.touched.clear();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.mark.fill(0);
            self.epoch = 1;
        }
    }

    #[inline]
    pub(super) fn add(&mut self, day: i32, qty: i64) -> Option<()> {
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
    pub(super) fn finish(&mut self) {
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

#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    pub(super) day: i32,
    pub(super) gross: i64,
    /// What on-hand stock and open purchase orders leave uncovered this day.
    pub(super) uncovered: i64,
    /// Uncovered quantity of earlier days.
    pub(super) cum_before: i64,
}

pub(super) struct Records {
    pub(super) buckets: Vec<Bucket>,
    /// (due day, qty, cumulative qty of earlier orders)
    pub(super) orders: Vec<(i32, i64, i64)>,
}

/// Adds (`sign` 1) or removes (-1) item `i`'s `orders` from the counts.
pub(super) fn count(
    summary: &mut PlanSummary,
    m: &Model,
    i: usize,
    orders: &[(i32, i64)],
    sign: isize,
) {
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

pub(super) fn check_span(lo: i32, hi: i32) -> Result<(), MrpError> {
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
pub(super) fn add_at(v: &mut Vec<(i32, i64)>, day: i32, qty: i64) -> Option<()> {
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
pub(super) fn merge_into(
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
pub(super) fn explode_difference(
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
pub(super) fn gross_of(
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
pub(super) fn net(
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
pub(super) fn net_from(
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
pub(super) fn lot_size(need: i64, moq: i64, lot: i64) -> Option<i64> {
    let q = need.max(moq);
    if lot > 0 {
        ((q - 1) / lot + 1).checked_mul(lot)
    } else {
        Some(q)
    }
}
