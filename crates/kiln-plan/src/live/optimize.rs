//! Whole-plan optimization: re-sequence the orders not yet on the shop floor, on-time
//! delivery first (weighted days late against due dates), then the latest finish.
//!
//! The search moves from plan to plan by ruin and recreate: take some movable orders off
//! the machines and place them again, one after the other in a priority order, exactly as a
//! replan does (routing order, each operation on the eligible machine where it finishes
//! earliest, in the gaps around the work that stays). The first moves take every movable
//! order off and place them by the current sequence, earliest due date, highest weight and
//! earliest promise; then each move takes a late (or random) order off with up to eight
//! orders just before its operations on the machines it could use, and places them by one
//! of those rules or at random, drawn from a SplitMix64 seeded by the caller. A move is kept
//! if the plan is not worse and keeps every promise, else undone by putting back the machine
//! timelines it touched. Small moves matter: a whole plan rebuilt by insertion seldom keeps
//! every promise a busy plan made, while moving a few orders often does.

use std::cmp::Reverse;

use serde::Serialize;

use super::disrupt::{OrderChange, remove_bar};
use super::{Date, LiveError, Minute, OperationStatus, OrderKey, Schedule, Timeline};

/// What an optimization did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Optimized<K = String> {
    /// Weighted days late (sum over placed orders of weight * days the delivery its finish
    /// gives is after the due date) before and after.
    pub weighted_tardiness_before: u64,
    pub weighted_tardiness_after: u64,
    /// Latest finish (minute) of any order before and after (0 without any).
    pub makespan_before: Minute,
    pub makespan_after: Minute,
    /// Orders with an operation off the plan before and after. Placing such an order counts
    /// first, so it may raise the weighted tardiness (it had none while off the plan).
    pub unplaced_before: usize,
    pub unplaced_after: usize,
    /// Re-insertion sequences evaluated (decodes), at most the budget.
    pub evaluations: u64,
    /// Orders whose bookings changed (setup-only changes included), by new finish. Here the
    /// deliveries are the dates the old and new finishes give: promises are kept (`moved`:
    /// that date changed; `late`: the new one misses the due date, or there is none).
    pub orders: Vec<OrderChange<K>>,
}

/// Orders not placed, weighted days late, latest finish, sum of finishes: lower is better.
/// Each part only grows as orders are added, so a partial score above a bound stays above.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    unplaced: usize,
    tardiness: u64,
    makespan: Minute,
    finishes: Minute,
}

impl Score {
    fn add(&mut self, finish: Option<Minute>, tardiness: u64) {
        match finish {
            Some(f) => {
                self.tardiness = self.tardiness.saturating_add(tardiness);
                self.makespan = self.makespan.max(f);
                self.finishes = self.finishes.saturating_add(f);
            }
            None => self.unplaced += 1,
        }
    }
}

/// An order the optimizer may move.
#[derive(Debug, Clone)]
struct Movable {
    o: u32,
    /// It is placed now, so a plan that leaves it off is refused.
    must_place: bool,
    /// Latest delivery allowed: its promise (or its current delivery, if later).
    by: Option<Date>,
}

/// Machine timelines as they were before a change, to put back.
type Saved = Vec<(u16, u16, Timeline)>;

/// Place of one booked operation, all that a booking change is judged on.
type Place = Option<(u16, u16, Minute, Minute, Minute, u32)>;

/// Most orders a move takes off besides the one it is for.
const MAX_RUIN: usize = 8;

/// The search state: the movable orders as the plan being improved holds them.
struct Search {
    movable: Vec<Movable>,
    /// Movable index of each order of the schedule.
    index: Vec<Option<usize>>,
    /// Per movable order: finish (`None`: not fully placed) and weighted days late.
    finish: Vec<Option<Minute>>,
    tardiness: Vec<u64>,
    /// Part of the score of the orders that stay.
    fixed: Score,
    /// Score of the plan as it stands (always one that keeps every promise).
    score: Score,
    /// Each machine's timeline before the search first kept a change to it.
    original: Saved,
    evaluations: u64,
}

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` (`n >= 1`) for choosing moves.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

impl<K: OrderKey> Schedule<K> {
    /// Re-sequences every order whose operations are all still planned, for on-time delivery
    /// first (weighted days late), then the latest finish, then the sum of finishes.
    ///
    /// What stays where it is: orders with a started or done operation, with their planned
    /// operations, and orders with a planned operation whose setup was due to begin before
    /// `now` (the floor may be on it; only a replan or the operator moves it). The planned
    /// operation after a moved one on a machine may get a different setup, as after an
    /// insertion. No order's delivery becomes later than its current promise (or its
    /// current delivery, if that is already later), no placed order is left off, and no
    /// operation that stays loses the setup it needs: a plan breaking any of these is
    /// refused.
    ///
    /// Deterministic for a given `seed`; stops after `max_evaluations` decodes. The best plan
    /// found is applied only if strictly better than the current one (lexicographic: orders
    /// off the plan, weighted tardiness, makespan, sum of finishes); otherwise the schedule is
    /// left exactly as it was. Promises are kept as told (an order that had none gets the
    /// delivery of its new finish); due dates never change.
    pub fn optimize(
        &mut self,
        max_evaluations: u64,
        seed: u64,
    ) -> Result<Optimized<K>, LiveError<K>> {
        let now = self.now;
        let n_orders = self.orders.len();
        let mut before = Score::default();
        let mut fixed = Score::default();
        // Movable orders with their current start, finish and weighted days late.
        let mut movable: Vec<(Minute, Movable, Option<Minute>, u64)> = Vec::new();
        for o in 0..n_orders as u32 {
            let finish = self.order_finish(o);
            let (delivery, tardiness) = match finish {
                Some(f) => {
                    let (d, t) = self.lateness(o, f)?;
                    (Some(d), t)
                }
                None => (None, 0),
            };
            before.add(finish, tardiness);
            let s = &self.orders[o as usize];
            let stays = s.ops.iter().any(|op| {
                op.status != OperationStatus::Planned || op.at.is_some_and(|at| at.2 < now)
            });
            if stays {
                fixed.add(finish, tardiness);
                continue;
            }
            let by = match (s.promised, delivery) {
                (Some(p), Some(d)) => Some(p.max(d)),
                (p, d) => p.or(d),
            };
            let m = Movable {
                o,
                must_place: finish.is_some(),
                by,
            };
            movable.push((self.first_start(o), m, finish, tardiness));
        }
        let mut report = Optimized {
            weighted_tardiness_before: before.tardiness,
            weighted_tardiness_after: before.tardiness,
            makespan_before: before.makespan,
            makespan_after: before.makespan,
            unplaced_before: before.unplaced,
            unplaced_after: before.unplaced,
            evaluations: 0,
            orders: Vec::new(),
        };
        if movable.is_empty() || max_evaluations == 0 {
            return Ok(report);
        }
        movable.sort_by_key(|m| (m.0, m.1.o));
        let mut index = vec![None; n_orders];
        for (i, m) in movable.iter().enumerate() {
            index[m.1.o as usize] = Some(i);
        }
        let mut st = Search {
            index,
            finish: movable.iter().map(|m| m.2).collect(),
            tardiness: movable.iter().map(|m| m.3).collect(),
            movable: movable.into_iter().map(|m| m.1).collect(),
            fixed,
            score: before,
            original: Vec::new(),
            evaluations: 0,
        };
        let old_places: Vec<Vec<Place>> = (0..n_orders as u32).map(|o| self.places(o)).collect();
        let saved_at: Vec<Vec<Option<(u16, u16, Minute)>>> = st
            .movable
            .iter()
            .map(|m| {
                self.orders[m.o as usize]
                    .ops
                    .iter()
                    .map(|op| op.at)
                    .collect()
            })
            .collect();

        // Every movable order at once, by each rule (the current sequence first).
        let n = st.movable.len();
        let mut undo = Vec::new();
        let current: Vec<usize> = (0..n).collect();
        let mut tried: Vec<Vec<usize>> = Vec::new();
        for r in 0..4 {
            let mut seq = current.clone();
            self.sort_by_rule(&st, &mut seq, r);
            if st.evaluations >= max_evaluations || tried.contains(&seq) {
                continue;
            }
            self.try_move(&mut st, &seq, &mut undo);
            tried.push(seq);
        }
        // Then a few orders at a time.
        let mut rng = SplitMix64(seed);
        while n >= 2 && st.evaluations < max_evaluations {
            let seq = self.pick_move(&st, &mut rng);
            self.try_move(&mut st, &seq, &mut undo);
        }
        report.evaluations = st.evaluations;

        if st.score >= before {
            // Not strictly better: back to the plan as it was.
            for (m, ats) in st.movable.iter().zip(saved_at) {
                for (op, at) in self.orders[m.o as usize].ops.iter_mut().zip(ats) {
                    op.at = at;
                }
            }
            for (wc, mc, tl) in st.original {
                self.centres[usize::from(wc)].machines[usize::from(mc)] = tl;
                self.reindex(wc, mc);
            }
            return Ok(report);
        }

        for m in &st.movable {
            let finish = self.order_finish(m.o);
            let promised = match (self.orders[m.o as usize].promised, finish) {
                (None, Some(f)) => self
                    .delivery(f, self.orders[m.o as usize].order.ship_days)
                    .ok(),
                (p, _) => p,
            };
            let s = &mut self.orders[m.o as usize];
            s.finish = finish;
            s.promised = promised;
        }
        self.version += 1;
        report.weighted_tardiness_after = st.score.tardiness;
        report.makespan_after = st.score.makespan;
        report.unplaced_after = st.score.unplaced;

        let mut changed: Vec<u32> = (0..n_orders as u32)
            .filter(|&o| self.places(o) != old_places[o as usize])
            .collect();
        changed.sort_by_key(|&o| (self.orders[o as usize].finish.unwrap_or(Minute::MAX), o));
        for o in changed {
            let s = &self.orders[o as usize];
            let old_finish = old_places[o as usize]
                .iter()
                .map(|p| p.map(|p| p.4))
                .try_fold(Minute::MIN, |a, e| e.map(|e| a.max(e)));
            let delivery =
                |f: Option<Minute>| f.and_then(|f| self.delivery(f, s.order.ship_days).ok());
            let (old_delivery, new_delivery) = (delivery(old_finish), delivery(s.finish));
            report.orders.push(OrderChange {
                order: s.order.id.clone(),
                old_finish,
                new_finish: s.finish,
                old_delivery,
                new_delivery,
                due: s.due,
                moved: old_delivery != new_delivery,
                late: new_delivery.is_none_or(|d| d > s.due),
            });
        }
        Ok(report)
    }

    /// Orders `seq` (movable indices) by rule `r`: 0 the current start, 1 earliest due date,
    /// 2 highest weight, 3 earliest promise, else left as is.
    fn sort_by_rule(&self, st: &Search, seq: &mut [usize], r: usize) {
        let state = |i: usize| &self.orders[st.movable[i].o as usize];
        match r {
            0 => seq.sort_by_key(|&i| (self.first_start(st.movable[i].o), i)),
            1 => seq.sort_by_key(|&i| (state(i).due, Reverse(state(i).order.weight), i)),
            2 => seq.sort_by_key(|&i| (Reverse(state(i).order.weight), state(i).due, i)),
            3 => seq.sort_by_key(|&i| (st.movable[i].by.is_none(), st.movable[i].by, i)),
            _ => {}
        }
    }

    /// A move: a late order (three times in four, if any) or a random one, with the
    /// movable orders nearest before its operations on the machines each could use, or
    /// random ones if too few, in the order of a random rule or shuffled.
    fn pick_move(&self, st: &Search, rng: &mut SplitMix64) -> Vec<usize> {
        let n = st.movable.len();
        let late: Vec<usize> = (0..n)
            .filter(|&j| st.tardiness[j] > 0 || st.finish[j].is_none())
            .collect();
        let seed = if !late.is_empty() && rng.below(4) != 0 {
            late[rng.below(late.len())]
        } else {
            rng.below(n)
        };
        let others = 1 + rng.below(MAX_RUIN.min(n - 1));
        let mut near: Vec<(Minute, usize)> = Vec::new();
        for op in &self.orders[st.movable[seed].o as usize].ops {
            let Some((wc, m, key)) = op.at else {
                break;
            };
            let start = self.bar_start(wc, m, key);
            for &c in &op.alts {
                for tl in &self.centres[usize::from(c)].machines {
                    near.extend(
                        tl.range(..start)
                            .rev()
                            .filter_map(|(_, b)| {
                                Some(((start - b.start).abs(), st.index[b.order as usize]?))
                            })
                            .filter(|&(_, j)| j != seed)
                            .take(others),
                    );
                }
            }
        }
        near.sort_unstable();
        let mut seq = vec![seed];
        for (_, j) in near {
            if seq.len() > others {
                break;
            }
            if !seq.contains(&j) {
                seq.push(j);
            }
        }
        let mut rest: Vec<usize> = (0..n).filter(|j| !seq.contains(j)).collect();
        while seq.len() <= others && !rest.is_empty() {
            seq.push(rest.swap_remove(rng.below(rest.len())));
        }
        match rng.below(5) {
            4 => {
                for i in (1..seq.len()).rev() {
                    seq.swap(i, rng.below(i + 1));
                }
            }
            r => self.sort_by_rule(st, &mut seq, r),
        }
        seq
    }

    /// Takes the movable orders `seq` off and places them again in that order. Keeps the
    /// result if it keeps every promise, leaves no placed order off, leaves every operation
    /// that stays its setup, and scores no worse; otherwise puts the plan back.
    fn try_move(&mut self, st: &mut Search, seq: &[usize], undo: &mut Saved) -> bool {
        st.evaluations += 1;
        let now = self.now;
        let mut taken = vec![false; st.movable.len()];
        let mut misfits = Vec::new();
        for &i in seq {
            taken[i] = true;
            let ou = st.movable[i].o as usize;
            for k in 0..self.orders[ou].ops.len() {
                // Read afresh: freeing an earlier bar may have re-keyed this one.
                let Some((wc, m, key)) = self.orders[ou].ops[k].at else {
                    continue;
                };
                if !undo.iter().any(|t| (t.0, t.1) == (wc, m)) {
                    let tl = self.centres[usize::from(wc)].machines[usize::from(m)].clone();
                    undo.push((wc, m, tl));
                }
                let Self {
                    centres, orders, ..
                } = self;
                let (_, misfit) =
                    remove_bar(&mut centres[usize::from(wc)], orders, wc, m, key, now);
                misfits.extend(misfit);
                orders[ou].ops[k].at = None;
            }
        }

        let mut score = st.fixed;
        for (j, _) in taken.iter().enumerate().filter(|t| !t.1) {
            score.add(st.finish[j], st.tardiness[j]);
        }
        let mut placed = Vec::with_capacity(seq.len());
        let mut ok = true;
        for &i in seq {
            let m = &st.movable[i];
            let ou = m.o as usize;
            let mut ready = self.orders[ou].order.release.max(now);
            let mut all = true;
            for k in 0..self.orders[ou].ops.len() {
                match self.place_operation(m.o, k, ready, Some(&mut *undo)) {
                    Ok(end) => ready = end,
                    Err(_) => {
                        all = false;
                        break;
                    }
                }
            }
            // Each operation ends after the one before it: `ready` is the finish.
            match all.then(|| self.lateness(m.o, ready).ok()).flatten() {
                Some((delivery, tardiness)) => {
                    score.add(Some(ready), tardiness);
                    ok &= m.by.is_none_or(|by| delivery <= by);
                    placed.push((i, Some(ready), tardiness));
                }
                None => {
                    score.add(None, 0);
                    ok &= !m.must_place;
                    placed.push((i, None, 0));
                }
            }
            // The score only grows from here.
            if !ok || score > st.score {
                ok = false;
                break;
            }
        }
        // An operation that stayed behind a freed bar must still have its setup (a moved
        // one was placed with the setup it needs).
        ok = ok
            && misfits.iter().all(|&(o, k)| {
                st.index[o as usize].is_some_and(|j| taken[j]) || self.setup_fits(o, k)
            });

        if ok {
            for (i, finish, tardiness) in placed {
                st.finish[i] = finish;
                st.tardiness[i] = tardiness;
            }
            st.score = score;
            for (wc, m, tl) in undo.drain(..) {
                if !st.original.iter().any(|t| (t.0, t.1) == (wc, m)) {
                    st.original.push((wc, m, tl));
                }
            }
        } else {
            for &i in seq {
                for op in &mut self.orders[st.movable[i].o as usize].ops {
                    op.at = None;
                }
            }
            for (wc, m, tl) in undo.drain(..) {
                self.centres[usize::from(wc)].machines[usize::from(m)] = tl;
                self.reindex(wc, m);
            }
        }
        ok
    }

    /// Whether a placed planned operation has the setup its predecessor on the machine needs.
    fn setup_fits(&self, o: u32, k: usize) -> bool {
        let Some((wc, m, key)) = self.orders[o as usize].ops[k].at else {
            return true;
        };
        let tl = &self.centres[usize::from(wc)].machines[usize::from(m)];
        let Some(bar) = tl.get(&key) else {
            return true;
        };
        bar.is_set_up_after(tl.range(..key).next_back().map(|(_, p)| p))
    }

    /// Delivery for finishing at `finish`, and the weighted days it is past the due date.
    fn lateness(&self, o: u32, finish: Minute) -> Result<(Date, u64), LiveError<K>> {
        let s = &self.orders[o as usize];
        let delivery = self.delivery(finish, s.order.ship_days)?;
        let days = s.due.until(delivery).map_or(0, |d| d.get_days().max(0));
        Ok((
            delivery,
            (days as u64).saturating_mul(u64::from(s.order.weight)),
        ))
    }

    fn bar_start(&self, wc: u16, m: u16, key: Minute) -> Minute {
        self.centres[usize::from(wc)].machines[usize::from(m)]
            .get(&key)
            .map_or(key, |b| b.start)
    }

    /// Start of an order's first operation; `Minute::MAX` if it is not placed.
    fn first_start(&self, o: u32) -> Minute {
        self.orders[o as usize].ops[0]
            .at
            .map_or(Minute::MAX, |(wc, m, key)| self.bar_start(wc, m, key))
    }

    /// Where each operation of an order is booked.
    fn places(&self, o: u32) -> Vec<Place> {
        self.orders[o as usize]
            .ops
            .iter()
            .map(|op| {
                let (wc, m, key) = op.at?;
                let b = self.centres[usize::from(wc)].machines[usize::from(m)].get(&key)?;
                Some((wc, m, b.setup_start, b.start, b.end, b.setup))
            })
            .collect()
    }
}
