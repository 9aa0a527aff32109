//! Capable-to-promise: place a new order into the gaps of the committed plan.

use std::sync::Arc;

use jiff::civil::Date;
use serde::Serialize;

use super::{
    Bar, Booking, LiveError, Minute, OpState, OperationStatus, Order, OrderKey, OrderState,
    Schedule, Timeline, calendar::Working,
};

/// A quote: where the order's operations would go and the delivery that follows.
///
/// Nothing is booked until [`Schedule::commit`]; dropping it throws the quote away.
#[derive(Debug, Clone, Serialize)]
pub struct Promise<K = String> {
    pub order: K,
    /// In routing order.
    pub bookings: Vec<Booking>,
    /// Start of the first operation's processing.
    pub start: Minute,
    /// End of the last operation.
    pub finish: Minute,
    /// The finish's day plus the order's ship days.
    pub delivery: Date,
    /// Whether `delivery` is no later than the requested date (true without one).
    pub on_time: bool,
    #[serde(skip)]
    pub(super) draft: Draft<K>,
}

/// The quote's changes, kept as copies of the machine timelines it touched, so committing an
/// unchanged schedule is a swap and quoting never writes to the schedule.
#[derive(Debug, Clone)]
pub(super) struct Draft<K> {
    version: u64,
    order: Order<K>,
    timelines: Vec<(u16, u16, Timeline)>,
}

/// Where an operation fits on one machine.
#[derive(Debug, Clone, Copy)]
struct Slot {
    setup_start: Minute,
    start: Minute,
    end: Minute,
    setup: u32,
    /// The setup this operation needs after a different SKU on this machine's work centre.
    changeover: u32,
    /// The next operation on the machine gets a new setup: `(key, setup_start, setup)`.
    next: Option<(Minute, Minute, u32)>,
}

/// A slot on a given machine.
#[derive(Debug, Clone, Copy)]
struct Fit {
    wc: u16,
    m: u16,
    slot: Slot,
}

/// The earliest fit on machine timeline `tl` for `minutes` of processing ready at `ready`,
/// if it finishes before `bound` (`(end, setup)`, compared in that order). `changeover` is
/// the setup the new operation needs after a different SKU; the operation after it needs
/// its own (`Bar::changeover`).
#[allow(clippy::too_many_arguments)]
fn fit_on(
    tl: &Timeline,
    w: &Working,
    changeover: u32,
    sku: u32,
    minutes: Minute,
    ready: Minute,
    now: Minute,
    bound: Option<(Minute, u32)>,
) -> Option<Slot> {
    // Processing starts at or after `ready`, so every operation that starts before `ready`
    // stays before the new one: the first usable gap follows the last of them. That is the
    // last one keyed (by setup start) before `ready`, unless only its setup is before
    // `ready`: then it may still follow the new one (and even lose its setup to it).
    let mut earlier = tl.range(..ready).rev().map(|(_, b)| b);
    let mut prev = earlier.next();
    if prev.is_some_and(|p| p.start >= ready) {
        prev = earlier.next();
    }
    // The bars after `prev` (all of them when there is none).
    let mut after = match prev {
        Some(p) => tl.range(p.setup_start + 1..),
        None => tl.range(..),
    }
    .peekable();
    loop {
        let next = after.next().map(|(_, b)| b);
        let gap_start = prev.map_or(now, |b| b.end.max(now));
        if bound.is_some_and(|(e, _)| gap_start >= e) {
            return None;
        }
        let setup = if prev.is_some_and(|b| b.sku == sku) {
            0
        } else {
            changeover
        };
        // Working time never exceeds clock time: a gap whose clock length cannot hold the
        // setup, the processing and the next operation's setup needs no calendar lookup.
        let too_short = next.is_some_and(|n| {
            let limit = if n.fixed {
                n.setup_start
            } else if n.sku == sku {
                n.start
            } else {
                n.start - Minute::from(n.changeover)
            };
            ready.max(gap_start + Minute::from(setup)) + minutes > limit
        });
        if !too_short {
            let start = w.next_working(ready.max(w.advance(gap_start, Minute::from(setup))?))?;
            let end = w.advance(start, minutes)?;
            let beaten = bound.filter(|&b| (end, setup) >= b);
            if let Some(b) = beaten {
                // A later gap opens after the next operation ends and may need no setup: it
                // can still win when this gap's setup pushed the start past that operation.
                // Otherwise (no overshoot) later gaps start after this start and finish later.
                let later = next
                    .filter(|n| start > n.start)
                    .map_or(Minute::MAX, |n| n.end.max(ready).saturating_add(minutes));
                if (later, 0) >= b {
                    return None;
                }
            }
            let setup_start = w.retreat(start, Minute::from(setup))?;
            match next.filter(|_| beaten.is_none()) {
                None if beaten.is_some() => {}
                None => {
                    return Some(Slot {
                        setup_start,
                        start,
                        end,
                        setup,
                        changeover,
                        next: None,
                    });
                }
                Some(n) if n.fixed => {
                    if end <= n.setup_start {
                        return Some(Slot {
                            setup_start,
                            start,
                            end,
                            setup,
                            changeover,
                            next: None,
                        });
                    }
                }
                Some(n) => {
                    let n_setup = if n.sku == sku { 0 } else { n.changeover };
                    if let Some(n_setup_start) = w.retreat(n.start, Minute::from(n_setup))
                        && end <= n_setup_start
                    {
                        let next = (n.setup_start != n_setup_start || n.setup != n_setup)
                            .then_some((n.setup_start, n_setup_start, n_setup));
                        return Some(Slot {
                            setup_start,
                            start,
                            end,
                            setup,
                            changeover,
                            next,
                        });
                    }
                }
            }
        }
        // Skip every bar whose free stretch is shorter than the processing: no gap after
        // it can hold the operation (the index finds the next one that might).
        let n = next?;
        if tl.has_room(n, after.peek().map(|(_, b)| *b), sku, minutes, changeover) {
            prev = Some(n);
        } else {
            let (key, bar) = tl.next_with_room(n.setup_start, minutes, sku, changeover)?;
            prev = Some(bar);
            after = tl.range(key + 1..).peekable();
        }
    }
}

/// Books a fit on its timeline, moving the next operation's setup if the fit changed it.
fn apply_fit(tl: &mut Timeline, fit: &Slot, order: u32, op: u16, sku: u32) {
    if let Some((key, setup_start, setup)) = fit.next
        && let Some(mut n) = tl.remove(&key)
    {
        n.setup_start = setup_start;
        n.setup = setup;
        tl.insert(setup_start, n);
    }
    tl.insert(
        fit.setup_start,
        Bar {
            order,
            op,
            sku,
            setup_start: fit.setup_start,
            start: fit.start,
            end: fit.end,
            setup: fit.setup,
            changeover: fit.changeover,
            fixed: false,
        },
    );
}

/// The state of operations not placed yet, with their alternatives.
fn planned(alts: Vec<Vec<u16>>) -> Vec<OpState> {
    alts.into_iter()
        .map(|alts| OpState {
            alts,
            at: None,
            status: OperationStatus::Planned,
        })
        .collect()
}

/// A machine's timeline as the quote sees it: its own copy if it changed one.
fn view<'t, K>(
    base: &'t Schedule<K>,
    cow: &'t [(u16, u16, Timeline)],
    wc: u16,
    m: u16,
) -> &'t Timeline {
    cow.iter().find(|t| t.0 == wc && t.1 == m).map_or(
        &base.centres[usize::from(wc)].machines[usize::from(m)],
        |t| &t.2,
    )
}

impl<K: OrderKey> Schedule<K> {
    /// Best fit over the eligible machines; `tl` gives the timeline to search for each.
    /// `setup` is the operation's own setup, if it has one (else each work centre's).
    #[allow(clippy::too_many_arguments)]
    fn best_fit<'t>(
        &self,
        alts: &[u16],
        sku: u32,
        minutes: Minute,
        setup: Option<u32>,
        ready: Minute,
        tl: impl Fn(u16, u16) -> &'t Timeline,
    ) -> Option<Fit> {
        let mut best: Option<Fit> = None;
        for &wc in alts {
            let c = &self.centres[usize::from(wc)];
            for m in 0..c.def.machines {
                let bound = best.map(|b| (b.slot.end, b.slot.setup));
                let tl = tl(wc, m);
                if let Some(slot) = fit_on(
                    tl,
                    tl.working(),
                    setup.unwrap_or(c.def.setup_minutes),
                    sku,
                    minutes,
                    ready,
                    self.now,
                    bound,
                ) {
                    best = Some(Fit { wc, m, slot });
                }
            }
        }
        best
    }

    /// Checks an order and resolves its work centres.
    pub(super) fn resolve(&self, order: &Order<K>) -> Result<Vec<Vec<u16>>, LiveError<K>> {
        if self.order_ix.contains_key(&order.id) {
            return Err(LiveError::DuplicateOrder {
                order: order.id.clone(),
            });
        }
        if order.operations.is_empty() {
            return Err(LiveError::EmptyRouting {
                order: order.id.clone(),
            });
        }
        if order.operations.len() > usize::from(u16::MAX) {
            return Err(LiveError::TooManyOperations {
                order: order.id.clone(),
                count: order.operations.len(),
            });
        }
        if order.release < 0 {
            return Err(LiveError::NegativeRelease {
                release: order.release,
            });
        }
        order
            .operations
            .iter()
            .enumerate()
            .map(|(k, op)| {
                if op.minutes == 0 {
                    return Err(LiveError::ZeroMinutes {
                        order: order.id.clone(),
                        operation: k,
                    });
                }
                if op.work_centres.is_empty() {
                    return Err(LiveError::NoEligibleWorkCentre {
                        order: order.id.clone(),
                        operation: k,
                    });
                }
                op.work_centres.iter().map(|wc| self.centre(wc)).collect()
            })
            .collect()
    }

    /// Capable-to-promise: the earliest this order can be made and delivered without moving
    /// any committed operation. Books nothing; see [`Schedule::commit`].
    ///
    /// Operations go in routing order, each on the eligible machine where it finishes
    /// earliest (ties: the one needing less setup, then the first listed), no earlier than
    /// the release, `now` and the end of the previous operation.
    pub fn insert(&self, order: &Order<K>) -> Result<Promise<K>, LiveError<K>> {
        let alts = self.resolve(order)?;
        let sku = self
            .sku_ix
            .get(&order.sku)
            .copied()
            .unwrap_or(self.skus.len() as u32);
        let order_ix = self.orders.len() as u32;
        let mut timelines: Vec<(u16, u16, Timeline)> = Vec::new();
        let mut bookings = Vec::with_capacity(order.operations.len());
        let mut ready = order.release.max(self.now);
        for (k, (op, alts)) in order.operations.iter().zip(&alts).enumerate() {
            let fit = self
                .best_fit(
                    alts,
                    sku,
                    Minute::from(op.minutes),
                    op.setup_minutes,
                    ready,
                    |wc, m| view(self, &timelines, wc, m),
                )
                .ok_or_else(|| LiveError::NoCapacity {
                    order: order.id.clone(),
                    operation: k,
                })?;
            let i = match timelines.iter().position(|t| t.0 == fit.wc && t.1 == fit.m) {
                Some(i) => i,
                None => {
                    let copy =
                        self.centres[usize::from(fit.wc)].machines[usize::from(fit.m)].clone();
                    timelines.push((fit.wc, fit.m, copy));
                    timelines.len() - 1
                }
            };
            apply_fit(&mut timelines[i].2, &fit.slot, order_ix, k as u16, sku);
            bookings.push(Booking {
                operation: k,
                work_centre: self.centres[usize::from(fit.wc)].def.id.clone(),
                machine: fit.m,
                setup_start: fit.slot.setup_start,
                start: fit.slot.start,
                end: fit.slot.end,
                setup_minutes: fit.slot.setup,
            });
            ready = fit.slot.end;
        }
        let start = bookings.first().map_or(ready, |b| b.start);
        let delivery = self.delivery(ready, order.ship_days)?;
        Ok(Promise {
            order: order.id.clone(),
            bookings,
            start,
            finish: ready,
            delivery,
            on_time: order.due.is_none_or(|due| delivery <= due),
            draft: Draft {
                version: self.version,
                order: order.clone(),
                timelines,
            },
        })
    }

    /// Books a quote. Fails with [`LiveError::Stale`] if anything changed since the quote
    /// (another commit, a disruption, a status change): quote again then.
    pub fn commit(&mut self, promise: Promise<K>) -> Result<(), LiveError<K>> {
        let Draft {
            version,
            order,
            timelines,
        } = promise.draft;
        if version != self.version {
            return Err(LiveError::Stale);
        }
        let alts = self.resolve(&order)?;
        let sku = self.intern_sku(&order.sku);
        self.push_order(OrderState {
            sku,
            ops: planned(alts),
            finish: Some(promise.finish),
            promised: Some(promise.delivery),
            due: order.due.unwrap_or(promise.delivery),
            order: Arc::new(order),
        });
        for (wc, m, tl) in timelines {
            self.centres[usize::from(wc)].machines[usize::from(m)] = tl;
            self.reindex(wc, m);
        }
        self.version += 1;
        Ok(())
    }

    /// [`Schedule::insert`] and [`Schedule::commit`] in one step, placing straight into the
    /// timelines instead of copies of them: what a server taking orders under a lock wants,
    /// since copying a machine's whole timeline costs as much as the queue on it. Same
    /// placements and promise as `insert` would give; on an error nothing is booked. (A
    /// quote stays `insert`: taking a placed order off again may not give every setup back
    /// exactly.)
    pub fn place(&mut self, order: &Order<K>) -> Result<Promise<K>, LiveError<K>> {
        let alts = self.resolve(order)?;
        let sku = self.intern_sku(&order.sku);
        let o = self.push_order(OrderState {
            sku,
            ops: planned(alts),
            finish: None,
            promised: None,
            // Set below, once the delivery is known.
            due: self.origin,
            order: Arc::new(order.clone()),
        });
        match self.place_all(o, order) {
            Ok(promise) => Ok(promise),
            Err(e) => {
                // Only this order's bars changed: taking them off is exact.
                let _ = self.remove(&order.id);
                Err(e)
            }
        }
    }

    fn place_all(&mut self, o: u32, order: &Order<K>) -> Result<Promise<K>, LiveError<K>> {
        let mut ready = order.release.max(self.now);
        for k in 0..order.operations.len() {
            ready = self.place_operation(o, k, ready, None)?;
        }
        let delivery = self.delivery(ready, order.ship_days)?;
        let bookings: Vec<Booking> = (0..order.operations.len())
            .filter_map(|k| {
                let (wc, m, key) = self.orders[o as usize].ops[k].at?;
                let bar = &self.centres[usize::from(wc)].machines[usize::from(m)][&key];
                Some(self.booking(k, wc, m, bar))
            })
            .collect();
        let state = &mut self.orders[o as usize];
        state.finish = Some(ready);
        state.promised = Some(delivery);
        state.due = order.due.unwrap_or(delivery);
        self.version += 1;
        Ok(Promise {
            order: order.id.clone(),
            start: bookings.first().map_or(ready, |b| b.start),
            bookings,
            finish: ready,
            delivery,
            on_time: order.due.is_none_or(|due| delivery <= due),
            draft: Draft {
                version: self.version,
                order: order.clone(),
                timelines: Vec::new(),
            },
        })
    }

    /// Places one planned operation of a committed order directly (used by replans). With
    /// `undo`, the timeline it changes is saved there first (once per machine).
    pub(super) fn place_operation(
        &mut self,
        o: u32,
        k: usize,
        ready: Minute,
        undo: Option<&mut Vec<(u16, u16, Timeline)>>,
    ) -> Result<Minute, LiveError<K>> {
        let state = &self.orders[o as usize];
        let op = &state.order.operations[k];
        let fit = self
            .best_fit(
                &state.ops[k].alts,
                state.sku,
                Minute::from(op.minutes),
                op.setup_minutes,
                ready,
                |wc, m| &self.centres[usize::from(wc)].machines[usize::from(m)],
            )
            .ok_or_else(|| LiveError::NoCapacity {
                order: state.order.id.clone(),
                operation: k,
            })?;
        let sku = state.sku;
        if let Some(undo) = undo
            && !undo.iter().any(|t| t.0 == fit.wc && t.1 == fit.m)
        {
            let tl = self.centres[usize::from(fit.wc)].machines[usize::from(fit.m)].clone();
            undo.push((fit.wc, fit.m, tl));
        }
        apply_fit(
            &mut self.centres[usize::from(fit.wc)].machines[usize::from(fit.m)],
            &fit.slot,
            o,
            k as u16,
            sku,
        );
        if let Some((_, key, _)) = fit.slot.next
            && let Some(bar) =
                self.centres[usize::from(fit.wc)].machines[usize::from(fit.m)].get(&key)
        {
            self.orders[bar.order as usize].ops[usize::from(bar.op)].at =
                Some((fit.wc, fit.m, key));
        }
        self.orders[o as usize].ops[k].at = Some((fit.wc, fit.m, fit.slot.setup_start));
        Ok(fit.slot.end)
    }
}
