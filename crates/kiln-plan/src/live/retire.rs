//! Finished orders leaving the schedule.
//!
//! A server restores only open orders after a restart, so an order that has shipped is
//! planned around by a running server but not by a restarted one. Retiring it makes the
//! running schedule what a restart would build, and gives back its memory: without it a
//! long-running server holds every order it ever made.

use super::*;

impl<K: OrderKey> Schedule<K> {
    /// Takes orders whose every operation is done off the schedule, bars and all, as a
    /// restart that no longer restores them would. The work after a retired bar keeps its
    /// times and setup, so a bar stays while planned work after it on its machine is set
    /// up from it: the order then stays until that work starts. New work after the last
    /// bar of a machine is set up as after an unknown SKU.
    ///
    /// Returns the orders that stay (work not done, or a bar that planned work follows);
    /// unknown keys are ignored (retired already). It makes one pass over the whole
    /// schedule however many orders go, so retire them in batches.
    pub fn retire(&mut self, ids: &[K]) -> Vec<K> {
        let mut gone = vec![false; self.orders.len()];
        let mut left = Vec::new();
        let mut staying = std::collections::HashSet::new();
        for id in ids {
            let Some(&o) = self.order_ix.get(id) else {
                continue;
            };
            let ops = &self.orders[o as usize].ops;
            let done = ops.iter().all(|op| op.status == OperationStatus::Done);
            if done && !ops.iter().any(|op| self.sets_up_planned_work(op)) {
                gone[o as usize] = true;
            } else if staying.insert(o) {
                left.push(id.clone());
            }
        }
        if !gone.contains(&true) {
            return left;
        }
        let Self {
            centres,
            orders,
            order_ix,
            ..
        } = self;
        for (state, _) in orders.iter_mut().zip(&gone).filter(|(_, g)| **g) {
            for op in &mut state.ops {
                if let Some((wc, m, key)) = op.at.take() {
                    centres[usize::from(wc)].machines[usize::from(m)].remove(&key);
                }
            }
        }
        // Indices close up: every bar and key learns its order's new one.
        let mut renumbered = vec![u32::MAX; gone.len()];
        let staying = gone.iter().enumerate().filter(|(_, g)| !**g);
        for (next, (o, _)) in staying.enumerate() {
            renumbered[o] = next as u32;
        }
        for c in centres.iter_mut() {
            for tl in &mut c.machines {
                for bar in tl.bars_mut() {
                    bar.order = renumbered[bar.order as usize];
                }
            }
        }
        let mut o = 0;
        orders.retain(|_| {
            o += 1;
            !gone[o - 1]
        });
        order_ix.retain(|_, ix| {
            *ix = renumbered[*ix as usize];
            *ix != u32::MAX
        });
        self.version += 1;
        left
    }

    /// Whether the bar after this operation's on its machine is planned work, whose
    /// setup was measured from this one's SKU.
    fn sets_up_planned_work(&self, op: &OpState) -> bool {
        let Some((wc, m, key)) = op.at else {
            return false;
        };
        let tl = &self.centres[usize::from(wc)].machines[usize::from(m)];
        tl.range(key + 1..)
            .next()
            .is_some_and(|(_, next)| !next.fixed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre(id: &str) -> WorkCentre {
        WorkCentre {
            id: id.into(),
            machines: 1,
            setup_minutes: 10,
            calendar: Calendar::weekdays(&[Shift { from: 0, to: 1440 }]),
        }
    }

    fn order(id: &str, sku: &str) -> Order {
        Order {
            id: id.into(),
            sku: sku.into(),
            release: 0,
            due: None,
            weight: 1,
            ship_days: 0,
            operations: vec![Operation {
                name: "cut".into(),
                minutes: 30,
                work_centres: vec!["cut".into()],
                setup_minutes: None,
            }],
        }
    }

    #[test]
    fn done_orders_go_and_the_rest_keep_their_place() {
        let origin = Date::constant(2025, 6, 2);
        let mut s = Schedule::new(origin, 7, vec![centre("cut")]).unwrap();
        for (id, sku) in [("a", "X"), ("b", "Y"), ("c", "X")] {
            let q = s.insert(&order(id, sku)).unwrap();
            s.commit(q).unwrap();
        }
        let (b, c) = (s.order("b").unwrap(), s.order("c").unwrap());
        s.start_operation("a", 0).unwrap();
        s.complete_operation("a", 0).unwrap();
        // b's setup was measured from a: a stays until b starts.
        let ids = ["a".to_string(), "b".to_string(), "gone".to_string()];
        assert_eq!(s.retire(&ids), ["a", "b"]);
        s.start_operation("b", 0).unwrap();
        assert_eq!(s.retire(&ids), ["b"]);
        assert!(s.order("a").is_none());
        assert_eq!(s.order_ids().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(s.order("b").unwrap().bookings, b.bookings);
        assert_eq!(s.order("c"), Some(c));
        assert_eq!(s.gantt()[0].machines[0].len(), 2);
        // The schedule goes on working: b is retired in turn once c, after it, starts.
        s.complete_operation("b", 0).unwrap();
        assert_eq!(s.retire(&["b".to_string()]), ["b"]);
        s.start_operation("c", 0).unwrap();
        assert!(s.retire(&["b".to_string()]).is_empty());
        assert_eq!(s.gantt()[0].machines[0][0].order, "c");
    }
}
