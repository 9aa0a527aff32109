//! Disruptions: a work centre goes down for a period and the plan adapts around it.
//!
//! Only what the downtime hits moves: the planned operations whose span (setup included)
//! overlaps it, the rest of their orders' routings, and any planned operation whose setup no
//! longer fits once its predecessor on the machine is gone. Everything else, and every
//! started or done operation, stays where it is (a started operation under the downtime
//! resumes after it, which pushes whatever planned work it now overlaps).
//!
//! The displaced orders are placed again into the gaps, one order at a time, in the order of
//! a priority rule. Three rules are tried — earliest promise first (earlier commitments keep
//! their claim), earliest due date first, highest weight first — and the best result is
//! kept, judged on-time first (orders that cannot be placed, then weighted days late), then
//! the latest finish, then the sum of finishes.

use std::cmp::Reverse;
use std::collections::HashMap;

use jiff::civil::Date;
use serde::Serialize;

use super::{
    Centre, LiveError, Minute, OperationStatus, OrderKey, OrderState, Period, Schedule, Timeline,
};

/// How one order's promise changed in a replan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderChange<K = String> {
    pub order: K,
    pub old_finish: Option<Minute>,
    /// `None` when the order could not be placed again within the horizon.
    pub new_finish: Option<Minute>,
    pub old_delivery: Option<Date>,
    pub new_delivery: Option<Date>,
    pub due: Date,
    /// The promised delivery date changed (or was lost): the customer must hear about it.
    pub moved: bool,
    /// The order now misses its due date, or could not be placed.
    pub late: bool,
}

/// What a disruption did to the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disruption<K = String> {
    pub work_centre: String,
    /// The one machine (0-based) down, or `None` for the whole work centre.
    pub machine: Option<u16>,
    /// The downtime as applied (`from` no earlier than `now`).
    pub from: Minute,
    pub to: Minute,
    /// The priority rule whose replan was kept.
    pub rule: &'static str,
    /// Operations that ended up somewhere else.
    pub operations_moved: usize,
    /// Orders whose finish changed, in the order they were replanned.
    pub orders: Vec<OrderChange<K>>,
}

impl<K> Disruption<K> {
    /// Orders whose promised delivery date changed.
    pub fn moved(&self) -> impl Iterator<Item = &OrderChange<K>> {
        self.orders.iter().filter(|o| o.moved)
    }

    /// Orders that can no longer meet their due date.
    pub fn late(&self) -> impl Iterator<Item = &OrderChange<K>> {
        self.orders.iter().filter(|o| o.late)
    }
}

type Place = (u16, u16, Minute, Minute);

/// Orders not placed, weighted days late, latest finish, sum of finishes: lower is better.
type Score = (usize, u64, Minute, Minute);

const RULES: [&str; 3] = [
    "earliest promise first",
    "earliest due date first",
    "highest weight first",
];

impl<K: OrderKey> Schedule<K> {
    /// Replaces `work_centre`'s downtime with `down`, when a downtime is
    /// cancelled: capacity only comes back. Every booking stays where it is
    /// (work a downtime pushed later stays later until the plan is
    /// re-sequenced), so nothing is replanned and no promise moves.
    ///
    /// `down` may only take time away from the downtime: a minute from now on
    /// that is down in `down` must be down already, or this is refused (new
    /// downtime goes through [`Schedule::mark_down`], which replans).
    pub fn set_down(&mut self, work_centre: &str, down: Vec<Period>) -> Result<(), LiveError<K>> {
        self.lift(work_centre, None, down)
    }

    /// [`Schedule::set_down`] for one machine's own downtime (0-based
    /// `machine`), when a broken machine is up again before it was expected.
    pub fn set_machine_down(
        &mut self,
        work_centre: &str,
        machine: u16,
        down: Vec<Period>,
    ) -> Result<(), LiveError<K>> {
        self.lift(work_centre, Some(machine), down)
    }

    /// A machine's own downtime as stored, when a schedule is rebuilt before
    /// its orders are restored: nothing is checked against bookings, so it
    /// must come first.
    pub fn load_machine_down(
        &mut self,
        work_centre: &str,
        machine: u16,
        down: Vec<Period>,
    ) -> Result<(), LiveError<K>> {
        let (wc, m) = self.machine(work_centre, machine)?;
        if let Some(p) = down.iter().find(|p| p.from >= p.to) {
            return Err(LiveError::BadPeriod {
                from: p.from,
                to: p.to,
            });
        }
        self.version += 1;
        let (origin, horizon) = (self.origin, self.horizon_days);
        let c = &mut self.centres[usize::from(wc)];
        c.machine_down[usize::from(m)] = down;
        c.rebuild_working(origin, horizon);
        Ok(())
    }

    /// Each machine's own downtime on `work_centre`, 0-based machine first.
    pub fn machine_down(&self, work_centre: &str) -> Result<&[Vec<Period>], LiveError<K>> {
        let wc = self.centre(work_centre)?;
        Ok(&self.centres[usize::from(wc)].machine_down)
    }

    fn machine(&self, work_centre: &str, machine: u16) -> Result<(u16, u16), LiveError<K>> {
        let wc = self.centre(work_centre)?;
        if machine >= self.centres[usize::from(wc)].def.machines {
            return Err(LiveError::UnknownMachine {
                work_centre: work_centre.to_owned(),
                machine,
            });
        }
        Ok((wc, machine))
    }

    fn lift(
        &mut self,
        work_centre: &str,
        machine: Option<u16>,
        down: Vec<Period>,
    ) -> Result<(), LiveError<K>> {
        let wc = match machine {
            Some(m) => self.machine(work_centre, m)?.0,
            None => self.centre(work_centre)?,
        };
        let now = self.now;
        let (origin, horizon) = (self.origin, self.horizon_days);
        let c = &mut self.centres[usize::from(wc)];
        let current = match machine {
            Some(m) => &c.machine_down[usize::from(m)],
            None => &c.def.calendar.down,
        };
        for p in &down {
            if p.from >= p.to || !covered(current, p.from.max(now), p.to) {
                return Err(LiveError::BadPeriod {
                    from: p.from,
                    to: p.to,
                });
            }
        }
        self.version += 1;
        match machine {
            Some(m) => c.machine_down[usize::from(m)] = down,
            None => c.def.calendar.down = down,
        }
        c.rebuild_working(origin, horizon);
        Ok(())
    }

    /// Takes `work_centre` down for `[from, to)` and replans what that hits.
    ///
    /// The part of the period before `now` is ignored (the past is not replanned).
    pub fn mark_down(
        &mut self,
        work_centre: &str,
        from: Minute,
        to: Minute,
    ) -> Result<Disruption<K>, LiveError<K>> {
        let wc = self.centre(work_centre)?;
        self.down(wc, None, from, to)
    }

    /// Takes one machine of `work_centre` (0-based) down for `[from, to)`, a
    /// breakdown, and replans what that hits: only operations on that machine
    /// move, to any machine that can take them.
    pub fn mark_machine_down(
        &mut self,
        work_centre: &str,
        machine: u16,
        from: Minute,
        to: Minute,
    ) -> Result<Disruption<K>, LiveError<K>> {
        let (wc, m) = self.machine(work_centre, machine)?;
        self.down(wc, Some(m), from, to)
    }

    fn down(
        &mut self,
        wc: u16,
        machine: Option<u16>,
        from: Minute,
        to: Minute,
    ) -> Result<Disruption<K>, LiveError<K>> {
        if from >= to {
            return Err(LiveError::BadPeriod { from, to });
        }
        let from = from.max(self.now);
        let mut report = Disruption {
            work_centre: self.centres[usize::from(wc)].def.id.clone(),
            machine,
            from,
            to,
            rule: RULES[0],
            operations_moved: 0,
            orders: Vec::new(),
        };
        if from >= to {
            return Ok(report);
        }
        self.version += 1;
        let (origin, horizon) = (self.origin, self.horizon_days);
        let c = &mut self.centres[usize::from(wc)];
        match machine {
            Some(m) => c.machine_down[usize::from(m)].push(Period { from, to }),
            None => c.def.calendar.down.push(Period { from, to }),
        }
        c.rebuild_working(origin, horizon);

        let mut hit = Vec::new();
        let mut extended = Vec::new();
        let hit_machines = match machine {
            Some(m) => usize::from(m)..usize::from(m) + 1,
            None => 0..c.machines.len(),
        };
        for m in hit_machines {
            let keys: Vec<Minute> = c.machines[m]
                .range(..to)
                .rev()
                .take_while(|(_, b)| b.end > from)
                .map(|(k, _)| *k)
                .collect();
            for key in keys {
                let bar = &c.machines[m][&key];
                let (o, k) = (bar.order, usize::from(bar.op));
                if !bar.fixed {
                    hit.push((o, k));
                    continue;
                }
                if self.orders[o as usize].ops[k].status != OperationStatus::Started {
                    continue;
                }
                // Resumes after the downtime with the work it had left.
                let minutes = Minute::from(self.orders[o as usize].order.operations[k].minutes);
                let end = c.machines[m]
                    .working()
                    .advance(bar.start, minutes)
                    .unwrap_or(bar.end.max(to));
                c.machines[m].set_end(&key, end);
                extended.push((o, k, end));
                hit.extend(
                    c.machines[m]
                        .range(key + 1..end)
                        .filter(|(_, b)| !b.fixed)
                        .map(|(_, b)| (b.order, usize::from(b.op))),
                );
            }
        }

        // The next operation of an extended one moves if it now starts too early.
        let mut before = HashMap::new();
        for &(o, k, end) in &extended {
            let s = &self.orders[o as usize];
            before.insert(o, (s.finish, s.promised));
            if k + 1 < s.ops.len()
                && s.ops[k + 1].status == OperationStatus::Planned
                && self.op_start(o, k + 1).is_some_and(|start| start < end)
            {
                hit.push((o, k + 1));
            }
        }
        let (first, displaced_before, old_places) = self.displace(hit);
        for (o, b) in displaced_before {
            before.entry(o).or_insert(b);
        }
        let mut displaced: Vec<u32> = first.keys().copied().collect();
        displaced.sort_unstable();

        // Each rule is tried in place and undone: the machines it touched and the displaced
        // orders are restored, which is far cheaper than copying the schedule. The best
        // rule is then run again for good (placement is deterministic).
        let saved: Vec<(u32, OrderState<K>)> = displaced
            .iter()
            .map(|&o| (o, self.orders[o as usize].clone()))
            .collect();
        let mut best: Option<(Score, usize, Vec<u32>)> = None;
        let mut undo = Vec::new();
        for r in 0..RULES.len() {
            let mut seq = displaced.clone();
            let state = |o: &u32| &self.orders[*o as usize];
            match r {
                0 => seq.sort_by_key(|o| {
                    (
                        state(o).promised.is_none(),
                        state(o).promised,
                        state(o).finish,
                        *o,
                    )
                }),
                1 => seq.sort_by_key(|o| (state(o).due, Reverse(state(o).order.weight), *o)),
                _ => seq.sort_by_key(|o| (Reverse(state(o).order.weight), state(o).due, *o)),
            }
            if best.as_ref().is_some_and(|b| b.2 == seq) {
                continue;
            }
            let score = self.replace_orders(&seq, &first, Some(&mut undo))?;
            for (o, state) in &saved {
                self.orders[*o as usize] = state.clone();
            }
            for (wc, m, tl) in undo.drain(..) {
                self.centres[usize::from(wc)].machines[usize::from(m)] = tl;
                self.reindex(wc, m);
            }
            if best.as_ref().is_none_or(|b| score < b.0) {
                best = Some((score, r, seq));
            }
        }
        let Some((_, rule, seq)) = best else {
            return Ok(report);
        };
        self.replace_orders(&seq, &first, None)?;
        self.version += 1;
        report.rule = RULES[rule];

        for ((o, k), old) in old_places {
            let op = &self.orders[o as usize].ops[k];
            let new = op.at.map(|(wc, m, key)| {
                let bar = &self.centres[usize::from(wc)].machines[usize::from(m)][&key];
                (wc, m, bar.start, bar.end)
            });
            if new != Some(old) {
                report.operations_moved += 1;
            }
        }
        for &(o, _, _) in &extended {
            if !first.contains_key(&o) {
                let finish = self.order_finish(o);
                let s = &self.orders[o as usize];
                let promised = match finish {
                    Some(f) => Some(self.delivery(f, s.order.ship_days)?),
                    None => s.promised,
                };
                let s = &mut self.orders[o as usize];
                s.finish = finish;
                s.promised = promised;
            }
        }
        let mut order_seq: Vec<u32> = before.keys().copied().collect();
        order_seq.sort_unstable();
        order_seq.sort_by_key(|o| self.orders[*o as usize].finish.unwrap_or(Minute::MAX));
        for o in order_seq {
            let s = &mut self.orders[o as usize];
            let (old_finish, old_delivery) =
                before.get(&o).copied().unwrap_or((s.finish, s.promised));
            if s.finish == old_finish {
                continue;
            }
            report.orders.push(OrderChange {
                order: s.order.id.clone(),
                old_finish,
                new_finish: s.finish,
                old_delivery,
                new_delivery: s.promised,
                due: s.due,
                moved: s.promised != old_delivery,
                late: s.promised.is_none_or(|d| d > s.due),
            });
        }
        Ok(report)
    }

    /// Takes the hit operations off the plan with the rest of their orders' routings, and
    /// whatever planned operation then lacks room for its setup. Returns the first displaced
    /// operation per order, each displaced order's old finish and promise, and where each
    /// displaced operation was.
    #[allow(clippy::type_complexity)]
    fn displace(
        &mut self,
        hit: Vec<(u32, usize)>,
    ) -> (
        HashMap<u32, usize>,
        HashMap<u32, (Option<Minute>, Option<Date>)>,
        Vec<((u32, usize), Place)>,
    ) {
        let mut first: HashMap<u32, usize> = HashMap::new();
        let mut before = HashMap::new();
        let mut old = Vec::new();
        let mut stack = hit;
        let now = self.now;
        while let Some((o, k)) = stack.pop() {
            let upto = match first.get(&o) {
                Some(&f) if f <= k => continue,
                Some(&f) => f,
                None => self.orders[o as usize].ops.len(),
            };
            first.insert(o, k);
            let s = &self.orders[o as usize];
            before.entry(o).or_insert((s.finish, s.promised));
            for j in k..upto {
                let op = &self.orders[o as usize].ops[j];
                if op.status != OperationStatus::Planned {
                    continue;
                }
                let Some((wc, m, key)) = op.at else { continue };
                let Self {
                    centres, orders, ..
                } = self;
                let (place, misfit) =
                    remove_bar(&mut centres[usize::from(wc)], orders, wc, m, key, now);
                stack.extend(misfit);
                orders[o as usize].ops[j].at = None;
                old.push(((o, j), (wc, m, place.0, place.1)));
            }
            let s = &mut self.orders[o as usize];
            s.finish = None;
        }
        (first, before, old)
    }

    /// Places the displaced orders again in the order of `seq` and scores the result.
    fn replace_orders(
        &mut self,
        seq: &[u32],
        first: &HashMap<u32, usize>,
        mut undo: Option<&mut Vec<(u16, u16, Timeline)>>,
    ) -> Result<Score, LiveError<K>> {
        let mut score = (0usize, 0u64, Minute::MIN, 0);
        for &o in seq {
            match self.replace_order(o, first[&o], undo.as_deref_mut()) {
                Some(finish) => {
                    let s = &self.orders[o as usize];
                    let delivery = self.delivery(finish, s.order.ship_days)?;
                    let late = s.due.until(delivery).map_or(0, |d| d.get_days().max(0));
                    score.1 += late as u64 * u64::from(s.order.weight);
                    score.2 = score.2.max(finish);
                    score.3 += finish;
                }
                None => score.0 += 1,
            }
        }
        Ok(score)
    }

    /// Places a displaced order's operations from `k` on; its finish, or `None` if some
    /// operation found no capacity (the rest then stays off the plan).
    fn replace_order(
        &mut self,
        o: u32,
        k: usize,
        mut undo: Option<&mut Vec<(u16, u16, Timeline)>>,
    ) -> Option<Minute> {
        let state = &self.orders[o as usize];
        let mut ready = state.order.release.max(self.now);
        if k > 0 {
            match self.op_end(o, k - 1) {
                Some(end) => ready = ready.max(end),
                // Done ahead of plan, off its machine: nothing to wait for.
                None if state.ops[k - 1].status == OperationStatus::Done => {}
                None => return None,
            }
        }
        for j in k..self.orders[o as usize].ops.len() {
            let op = &self.orders[o as usize].ops[j];
            if op.status != OperationStatus::Planned && op.at.is_some() {
                ready = ready.max(self.op_end(o, j)?);
                continue;
            }
            // Done ahead of plan, off its machine: nothing to place or wait for.
            if op.status == OperationStatus::Done {
                continue;
            }
            match self.place_operation(o, j, ready, undo.as_deref_mut()) {
                Ok(end) => ready = end,
                Err(_) => {
                    let s = &mut self.orders[o as usize];
                    s.finish = None;
                    s.promised = None;
                    return None;
                }
            }
        }
        let finish = self.order_finish(o)?;
        let promised = self
            .delivery(finish, self.orders[o as usize].order.ship_days)
            .ok();
        let s = &mut self.orders[o as usize];
        s.finish = Some(finish);
        s.promised = promised;
        Some(finish)
    }

    fn op_start(&self, o: u32, k: usize) -> Option<Minute> {
        let (wc, m, key) = self.orders[o as usize].ops[k].at?;
        Some(self.centres[usize::from(wc)].machines[usize::from(m)][&key].start)
    }

    fn op_end(&self, o: u32, k: usize) -> Option<Minute> {
        let (wc, m, key) = self.orders[o as usize].ops[k].at?;
        Some(self.centres[usize::from(wc)].machines[usize::from(m)][&key].end)
    }
}

/// Removes one bar and re-fits the setup of the planned operation after it (its predecessor
/// changed). Returns the removed bar's `(start, end)` and, if that setup no longer fits
/// before the next operation's start, that operation (`(order, operation)`), left as it was.
pub(super) fn remove_bar<K>(
    c: &mut Centre,
    orders: &mut [OrderState<K>],
    wc: u16,
    m: u16,
    key: Minute,
    now: Minute,
) -> ((Minute, Minute), Option<(u32, usize)>) {
    let tl = &mut c.machines[usize::from(m)];
    let Some(bar) = tl.remove(&key) else {
        return ((key, key), None);
    };
    let removed = (bar.start, bar.end);
    let Some((&nkey, n)) = tl.range(key..).next() else {
        return (removed, None);
    };
    if n.fixed {
        return (removed, None);
    }
    let prev = tl.range(..nkey).next_back().map(|(_, p)| p);
    let setup = n.setup_after(prev);
    let lower = prev.map_or(now.min(nkey), |p| p.end);
    match tl.working().retreat(n.start, Minute::from(setup)) {
        Some(ns) if ns >= lower && (ns >= now || ns >= nkey) => {
            if (ns != nkey || setup != n.setup)
                && let Some(mut n) = tl.remove(&nkey)
            {
                n.setup_start = ns;
                n.setup = setup;
                orders[n.order as usize].ops[usize::from(n.op)].at = Some((wc, m, ns));
                tl.insert(ns, n);
            }
            (removed, None)
        }
        _ => (removed, Some((n.order, usize::from(n.op)))),
    }
}

/// Whether `[from, to)` lies within the union of `periods` (empty: yes).
fn covered(periods: &[Period], from: Minute, to: Minute) -> bool {
    let mut sorted: Vec<&Period> = periods.iter().collect();
    sorted.sort_by_key(|p| p.from);
    let mut reached = from;
    for p in sorted {
        if reached >= to {
            break;
        }
        if p.from > reached {
            return false;
        }
        reached = reached.max(p.to);
    }
    reached >= to
}

#[cfg(test)]
mod covered_tests {
    use super::*;

    #[test]
    fn a_span_is_covered_by_overlapping_or_adjacent_periods_only() {
        let p = |from, to| Period { from, to };
        let down = [p(10, 20), p(30, 40), p(18, 31)];
        assert!(covered(&down, 10, 40));
        assert!(covered(&down, 12, 12));
        assert!(!covered(&down, 5, 15));
        assert!(!covered(&down, 35, 41));
        assert!(!covered(&[], 1, 2));
    }
}
