//! Which orders could be delivered earlier than promised, now: after a
//! cancellation or a change gives machine time back, each order not yet
//! started is quoted again as if placed now, alone, on a scratch copy.
//! Nothing moves: re-sequencing (`Schedule::optimize`) is what moves them,
//! and it never makes a promise later.

use super::{Date, OperationStatus, OrderKey, RestoredOrder, Schedule};

/// An order whose delivery could be earlier than its promise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier<K = String> {
    pub order: K,
    /// The delivery date promised now.
    pub promised: Date,
    /// The delivery date it would get if placed again now.
    pub possible: Date,
}

impl<K: OrderKey> Schedule<K> {
    /// The orders not started yet that would be delivered earlier if each
    /// were placed again now, at most `limit` of them tried, soonest
    /// promised first. Each is taken out of a scratch copy, quoted, and put
    /// back as it was, so every one is judged against the others as booked.
    pub fn earlier(&self, limit: usize) -> Vec<Earlier<K>> {
        let mut candidates: Vec<(Date, K)> = self
            .order_ids()
            .filter_map(|id| {
                let plan = self.order(id)?;
                let untouched = plan.status.iter().all(|s| *s == OperationStatus::Planned);
                Some((plan.promised?, id.clone())).filter(|_| untouched)
            })
            .collect();
        candidates.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.to_string().cmp(&b.1.to_string()))
        });
        candidates.truncate(limit);
        let mut scratch = self.clone();
        let mut out = Vec::new();
        for (promised, id) in candidates {
            let Some(plan) = scratch.order(&id) else {
                continue;
            };
            let order = plan.order.clone();
            let back = RestoredOrder::from(plan);
            if scratch.remove(&id).is_err() {
                continue;
            }
            let quote = scratch.insert(&order);
            if scratch.restore(back).is_err() {
                // The scratch copy no longer matches the schedule: stop
                // rather than judge the rest against a wrong one.
                break;
            }
            if let Ok(q) = quote
                && q.delivery < promised
            {
                out.push(Earlier {
                    order: id,
                    promised,
                    possible: q.delivery,
                });
            }
        }
        out
    }
}
