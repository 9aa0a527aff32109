//! What the schedule shows: an order's plan with its bookings, the Gantt chart of every
//! machine, and a work centre's queue.

use std::borrow::Borrow;
use std::hash::Hash;

use super::*;

impl<K: OrderKey> Schedule<K> {
    /// An order with its bookings and dates. Looked up by anything its key borrows as (a
    /// `&str` for `String` keys).
    pub fn order<Q>(&self, id: &Q) -> Option<OrderPlan<K>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let o = &self.orders[*self.order_ix.get(id)? as usize];
        let bookings = o
            .ops
            .iter()
            .enumerate()
            .map(|(k, op)| {
                let (wc, m, key) = op.at?;
                let bar = &self.centres[usize::from(wc)].machines[usize::from(m)][&key];
                Some(self.booking(k, wc, m, bar))
            })
            .collect();
        Some(OrderPlan {
            order: Order::clone(&o.order),
            bookings,
            status: o.ops.iter().map(|op| op.status).collect(),
            finish: o.finish,
            promised: o.promised,
            due: o.due,
        })
    }

    pub(super) fn booking(&self, op: usize, wc: u16, m: u16, bar: &Bar) -> Booking {
        Booking {
            operation: op,
            work_centre: self.centres[usize::from(wc)].def.id.clone(),
            machine: m,
            setup_start: bar.setup_start,
            start: bar.start,
            end: bar.end,
            setup_minutes: bar.setup,
        }
    }

    fn gantt_bar(&self, bar: &Bar) -> GanttBar<K> {
        let o = &self.orders[bar.order as usize];
        let op = usize::from(bar.op);
        GanttBar {
            order: o.order.id.clone(),
            operation: op,
            operation_name: o.order.operations[op].name.clone(),
            sku: o.order.sku.clone(),
            setup_start: bar.setup_start,
            start: bar.start,
            end: bar.end,
            setup_minutes: bar.setup,
            status: o.ops[op].status,
        }
    }

    /// Gantt data: per work centre and machine, the operations in time order.
    pub fn gantt(&self) -> Vec<GanttWorkCentre<K>> {
        self.centres
            .iter()
            .map(|c| GanttWorkCentre {
                work_centre: c.def.id.clone(),
                machines: c
                    .machines
                    .iter()
                    .map(|tl| tl.values().map(|b| self.gantt_bar(b)).collect())
                    .collect(),
            })
            .collect()
    }

    /// The operation after the one whose setup starts at `setup_start` on a machine, as
    /// `(order, operation)`: the one whose setup an insertion may have changed.
    pub fn next_on_machine(
        &self,
        work_centre: &str,
        machine: u16,
        setup_start: Minute,
    ) -> Option<(K, usize)> {
        let c = &self.centres[usize::from(self.centre(work_centre).ok()?)];
        let (_, bar) = c
            .machines
            .get(usize::from(machine))?
            .range(setup_start.checked_add(1)?..)
            .next()?;
        let o = &self.orders[bar.order as usize];
        Some((o.order.id.clone(), usize::from(bar.op)))
    }

    /// The queue at a work centre: operations not yet started, in planned start order.
    pub fn queue(&self, work_centre: &str) -> Result<Vec<GanttBar<K>>, LiveError<K>> {
        let c = &self.centres[usize::from(self.centre(work_centre)?)];
        let mut bars: Vec<&Bar> = c
            .machines
            .iter()
            .flat_map(|tl| tl.values())
            .filter(|b| !b.fixed)
            .collect();
        bars.sort_by_key(|b| (b.start, b.order, b.op));
        Ok(bars.into_iter().map(|b| self.gantt_bar(b)).collect())
    }
}
