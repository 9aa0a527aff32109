//! Putting stored orders back on a rebuilt schedule exactly where they were,
//! and taking an order off it.

use std::borrow::Borrow;
use std::hash::Hash;

use super::*;

impl<K: OrderKey> Schedule<K> {
    /// Puts a persisted order back exactly where it was, without moving anything.
    ///
    /// Checks the order as [`Schedule::insert`] does (ids, routing, work centres), that
    /// there is one booking and one status per operation, that each booking names its
    /// operation, one of the operation's work centres and an existing machine, that
    /// `0 <= setup_start <= start < end`, that only a suffix of the routing is unplaced and
    /// only a prefix started or done (started operations must be placed; a done one may be
    /// off the machines, done ahead of plan), and that no bar overlaps another on its
    /// machine. Errors leave the schedule unchanged.
    ///
    /// Calendars are not checked: the placement was valid when made, and downtime recorded
    /// since may overlap started work. Started and done operations become fixed. Bookings
    /// keep their setup minutes as stored (so restore every persisted order: a missing one
    /// leaves its neighbours set up as they were next to it). The order's finish is the
    /// latest end of its operations (`None` if one is unplaced).
    pub fn restore(&mut self, restored: RestoredOrder<K>) -> Result<(), LiveError<K>> {
        let RestoredOrder {
            order,
            bookings,
            status,
            promised,
            due,
        } = restored;
        let alts = self.resolve(&order)?;
        let bad = |reason: String| LiveError::BadRestore {
            order: order.id.clone(),
            reason,
        };
        let n = order.operations.len();
        if bookings.len() != n || status.len() != n {
            return Err(bad(format!(
                "{n} operations, but {} bookings and {} statuses",
                bookings.len(),
                status.len()
            )));
        }
        let sku = self
            .sku_ix
            .get(&order.sku)
            .copied()
            .unwrap_or(self.skus.len() as u32);
        let o = self.orders.len() as u32;
        let mut bars: Vec<(u16, u16, Bar)> = Vec::with_capacity(n);
        for (k, (booking, &st)) in bookings.iter().zip(&status).enumerate() {
            if k > 0 && st != OperationStatus::Planned && status[k - 1] == OperationStatus::Planned
            {
                return Err(bad(format!(
                    "operation {k} is {st:?} but operation {} is not started",
                    k - 1
                )));
            }
            let Some(b) = booking else {
                // Done ahead of plan, it left its machine; started work is on one.
                if st == OperationStatus::Started {
                    return Err(bad(format!("operation {k} is {st:?} but not placed")));
                }
                continue;
            };
            if k > 0 && bookings[k - 1].is_none() && status[k - 1] != OperationStatus::Done {
                return Err(bad(format!(
                    "operation {k} is placed but operation {} is not",
                    k - 1
                )));
            }
            if b.operation != k {
                return Err(bad(format!("booking {k} is for operation {}", b.operation)));
            }
            let wc = self.centre(&b.work_centre)?;
            if !alts[k].contains(&wc) {
                return Err(bad(format!(
                    "operation {k} is booked on `{}`, not one of its work centres",
                    b.work_centre
                )));
            }
            let c = &self.centres[usize::from(wc)];
            if b.machine >= c.def.machines {
                return Err(LiveError::UnknownMachine {
                    work_centre: b.work_centre.clone(),
                    machine: b.machine,
                });
            }
            if !(0 <= b.setup_start && b.setup_start <= b.start && b.start < b.end) {
                return Err(bad(format!(
                    "operation {k}: setup start {}, start {}, end {} are not \
                     0 <= setup start <= start < end",
                    b.setup_start, b.start, b.end
                )));
            }
            // Bars on a machine are disjoint, so only the last one keyed before this end
            // can reach into it.
            let overlaps_committed = c.machines[usize::from(b.machine)]
                .range(..b.end)
                .next_back()
                .is_some_and(|(_, p)| p.end > b.setup_start);
            let overlaps_own = bars.iter().any(|(w, m, p)| {
                (*w, *m) == (wc, b.machine) && p.setup_start < b.end && b.setup_start < p.end
            });
            if overlaps_committed || overlaps_own {
                return Err(LiveError::Overlap {
                    order: order.id.clone(),
                    operation: k,
                });
            }
            bars.push((
                wc,
                b.machine,
                Bar {
                    order: o,
                    op: k as u16,
                    sku,
                    setup_start: b.setup_start,
                    start: b.start,
                    end: b.end,
                    setup: b.setup_minutes,
                    changeover: order.operations[k]
                        .setup_minutes
                        .unwrap_or(c.def.setup_minutes),
                    fixed: st != OperationStatus::Planned,
                },
            ));
        }

        // Valid: nothing below fails.
        self.intern_sku(&order.sku);
        let mut ops: Vec<OpState> = alts
            .into_iter()
            .zip(status)
            .map(|(alts, status)| OpState {
                alts,
                at: None,
                status,
            })
            .collect();
        for (wc, m, bar) in bars {
            ops[usize::from(bar.op)].at = Some((wc, m, bar.setup_start));
            self.centres[usize::from(wc)].machines[usize::from(m)].insert(bar.setup_start, bar);
        }
        self.push_order(OrderState {
            order: Arc::new(order),
            sku,
            ops,
            finish: None,
            promised,
            due,
        });
        self.orders[o as usize].finish = self.order_finish(o);
        self.version += 1;
        Ok(())
    }

    /// Takes an order off the schedule and frees its bars; refused with
    /// [`LiveError::OrderInProduction`] once any of its operations started or is done.
    ///
    /// The operation after each freed bar on its machine is set up again for its new
    /// predecessor, in place, if that setup fits before its start; if not (possible when
    /// operations have different setups, or when the setup would now have to run before
    /// `now`) it is left with its old setup: nothing else moves. Later orders keep their
    /// relative order (indices shift down), so ties break as if the order never was.
    pub fn remove<Q>(&mut self, order: &Q) -> Result<(), LiveError<K>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let o = self.index_of(order)?;
        let ou = o as usize;
        if self.orders[ou]
            .ops
            .iter()
            .any(|op| op.status != OperationStatus::Planned)
        {
            return Err(LiveError::OrderInProduction {
                order: order.to_owned(),
            });
        }
        let now = self.now;
        let Self {
            centres,
            orders,
            order_ix,
            ..
        } = self;
        for k in 0..orders[ou].ops.len() {
            // Read afresh: freeing an earlier bar may have re-keyed this one.
            let Some((wc, m, key)) = orders[ou].ops[k].at else {
                continue;
            };
            // A next operation whose new setup does not fit stays as it was (see above).
            let _misfit =
                disrupt::remove_bar(&mut centres[usize::from(wc)], orders, wc, m, key, now);
            orders[ou].ops[k].at = None;
        }
        for (j, later) in orders.iter().enumerate().skip(ou + 1) {
            for &(wc, m, key) in later.ops.iter().filter_map(|op| op.at.as_ref()) {
                if let Some(bar) = centres[usize::from(wc)].machines[usize::from(m)].get_mut(&key) {
                    bar.order = (j - 1) as u32;
                }
            }
            if let Some(ix) = order_ix.get_mut::<K>(&later.order.id) {
                *ix = (j - 1) as u32;
            }
        }
        orders.remove(ou);
        order_ix.remove(order);
        self.version += 1;
        Ok(())
    }
}
