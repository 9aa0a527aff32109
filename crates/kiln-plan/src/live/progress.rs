//! Work on the shop floor: operations started and completed. Started and
//! done work is fixed (no insert or replan moves it); work started ahead of
//! plan moves to when it began.

use std::borrow::Borrow;
use std::hash::Hash;

use super::{LiveError, Minute, OperationStatus, OrderKey, Schedule};

impl<K: OrderKey> Schedule<K> {
    /// Records that an operation started (it keeps its planned times and becomes fixed).
    pub fn start_operation<Q>(&mut self, order: &Q, operation: usize) -> Result<(), LiveError<K>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.set_status(order, operation, OperationStatus::Started)
    }

    /// Records that an operation started at minute `at` (its setup, if it has one, begins
    /// then). Started work is fixed. Started ahead of plan, with its machine free from `at`,
    /// the operation moves there: the machine is busy from when work began, and it ends
    /// earlier. Otherwise it keeps its planned times.
    pub fn start_operation_at<Q>(
        &mut self,
        order: &Q,
        operation: usize,
        at: Minute,
    ) -> Result<(), LiveError<K>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.set_status(order, operation, OperationStatus::Started)?;
        let Some(&o) = self.order_ix.get(order) else {
            return Ok(());
        };
        let Some((wc, m, key)) = self.orders[o as usize].ops[operation].at else {
            return Ok(());
        };
        let minutes = Minute::from(self.orders[o as usize].order.operations[operation].minutes);
        let c = &mut self.centres[usize::from(wc)];
        let tl = &mut c.machines[usize::from(m)];
        let working = tl.working().clone();
        let Some(bar) = tl.get(&key) else {
            return Ok(());
        };
        // Work begun outside the calendar counts from its next working minute.
        let Some(at) = working.next_working(at) else {
            return Ok(());
        };
        let free_from = tl.range(..key).next_back().map_or(0, |(_, p)| p.end);
        if at >= bar.setup_start || at < free_from.max(0) {
            return Ok(());
        }
        let Some(start) = working
            .advance(at, Minute::from(bar.setup))
            .and_then(|t| working.next_working(t))
        else {
            return Ok(());
        };
        let Some(end) = working.advance(start, minutes).filter(|&e| e <= bar.end) else {
            return Ok(());
        };
        if let Some(mut moved) = tl.remove(&key) {
            moved.setup_start = at;
            moved.start = start;
            moved.end = end;
            tl.insert(at, moved);
            self.orders[o as usize].ops[operation].at = Some((wc, m, at));
            self.orders[o as usize].finish = self.order_finish(o);
            self.version += 1;
        }
        Ok(())
    }

    /// Records that an operation is done (fixed for good).
    pub fn complete_operation<Q>(&mut self, order: &Q, operation: usize) -> Result<(), LiveError<K>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.set_status(order, operation, OperationStatus::Done)
    }

    /// Records that an operation is done at minute `at`. If that is before its planned end,
    /// its bar ends at `at` (its setup and start stay), so the rest of its slot is free for
    /// new work; the bar keeps at least one minute of processing (ends no earlier than
    /// `start + 1`), as a bar is never empty. Done before its slot began (`at` at or before
    /// the bar's setup start), the bar leaves its machine altogether when the work after it
    /// needs no setup it lacks without it (see `may_leave`): a minute kept in the slot would
    /// leave the rest one minute short of the same operation, in pieces nothing fits. Its
    /// booking is then `None`, and its status `Done`. A completion at or after the planned
    /// end changes no times. The order's finish follows; its promised date is kept (the
    /// customer was told). Same routing-order rule as [`Schedule::complete_operation`].
    pub fn complete_operation_at<Q>(
        &mut self,
        order: &Q,
        operation: usize,
        at: Minute,
    ) -> Result<(), LiveError<K>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.set_status(order, operation, OperationStatus::Done)?;
        let Some(&o) = self.order_ix.get(order) else {
            return Ok(());
        };
        if let Some((wc, m, key)) = self.orders[o as usize].ops[operation].at {
            let tl = &mut self.centres[usize::from(wc)].machines[usize::from(m)];
            if let Some(bar) = tl.get(&key) {
                if at <= bar.setup_start && may_leave(tl, key) {
                    tl.remove(&key);
                    self.orders[o as usize].ops[operation].at = None;
                } else {
                    let end = bar.end.min(at.max(bar.start.saturating_add(1)));
                    tl.set_end(&key, end);
                }
            }
        }
        self.orders[o as usize].finish = self.order_finish(o);
        Ok(())
    }

    /// Where each operation of an order stands, in routing order.
    pub fn order_status<Q>(&self, id: &Q) -> Option<Vec<OperationStatus>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let o = &self.orders[*self.order_ix.get(id)? as usize];
        Some(o.ops.iter().map(|op| op.status).collect())
    }

    /// The index of an order, or [`LiveError::UnknownOrder`].
    pub(super) fn index_of<Q>(&self, order: &Q) -> Result<u32, LiveError<K>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.order_ix
            .get(order)
            .copied()
            .ok_or_else(|| LiveError::UnknownOrder {
                order: order.to_owned(),
            })
    }

    fn set_status<Q>(
        &mut self,
        order: &Q,
        operation: usize,
        status: OperationStatus,
    ) -> Result<(), LiveError<K>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let o = self.index_of(order)?;
        let ops = &mut self.orders[o as usize].ops;
        if operation >= ops.len() {
            return Err(LiveError::UnknownOperation {
                order: order.to_owned(),
                operation,
            });
        }
        // Operators work in routing order; a replan relies on it to keep precedence.
        if status != OperationStatus::Planned
            && operation > 0
            && ops
                .get(operation - 1)
                .is_some_and(|p| p.status == OperationStatus::Planned)
        {
            return Err(LiveError::OutOfOrder {
                order: order.to_owned(),
                operation,
            });
        }
        let op = ops
            .get_mut(operation)
            .ok_or_else(|| LiveError::UnknownOperation {
                order: order.to_owned(),
                operation,
            })?;
        let Some((wc, m, key)) = op.at else {
            // Done ahead of plan, it left its machine: done again is no change.
            if op.status == OperationStatus::Done && status == OperationStatus::Done {
                return Ok(());
            }
            return Err(LiveError::NotPlaced {
                order: order.to_owned(),
                operation,
            });
        };
        op.status = status;
        let fixed = status != OperationStatus::Planned;
        if let Some(bar) = self.centres[usize::from(wc)].machines[usize::from(m)].get_mut(&key) {
            bar.fixed = fixed;
        }
        self.version += 1;
        Ok(())
    }
}

/// Whether the bar at `key` may leave its machine without the work after it needing a
/// setup it lacks: the next bar is none, fixed, or already set up for whatever comes before
/// the one leaving (the same SKU, or a setup of its own as long as its changeover).
fn may_leave(tl: &super::timeline::Timeline, key: Minute) -> bool {
    tl.range(key + 1..)
        .next()
        .is_none_or(|(_, next)| next.is_set_up_after(tl.range(..key).next_back().map(|(_, p)| p)))
}
