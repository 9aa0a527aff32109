//! What a plan says: counts, low-level codes, planned supply, time-phased records, and
//! shortages, pegged through the levels to the demand line they come from.

use super::*;

impl MrpPlan {
    pub fn summary(&self) -> PlanSummary {
        self.summary
    }

    /// The item's low-level code: 0 for items no BOM uses, else one more than the deepest
    /// parent.
    pub fn low_level_code(&self, item: &str) -> Option<u32> {
        self.model
            .index
            .get(item)
            .map(|&i| self.model.llc[i as usize])
    }

    /// The planned orders of one item, by need-by date.
    pub fn planned_supply(&self, item: &str) -> Result<Vec<PlannedSupply>, MrpError> {
        let i = self.model.item(item, "query")?;
        Ok(self.supply_of(i).collect())
    }

    /// Every purchase suggestion, by item in input order, then need-by date.
    pub fn purchase_suggestions(&self) -> Vec<PlannedSupply> {
        self.all_supply(Source::Buy)
    }

    /// Every planned manufacturing order, by item in input order, then need-by date.
    pub fn manufacturing_orders(&self) -> Vec<PlannedSupply> {
        self.all_supply(Source::Make)
    }

    /// The item's time-phased record: one row per day with a requirement or a receipt.
    pub fn time_phased(&self, item: &str) -> Result<Vec<PeriodRecord>, MrpError> {
        let i = self.model.item(item, "query")?;
        // (day, gross, scheduled receipts, planned receipts)
        let mut entries: Vec<(i32, i64, i64, i64)> = Vec::new();
        entries.extend(self.state[i].gross.iter().map(|&(d, q)| (d, q, 0, 0)));
        entries.extend(self.model.receipts(i).iter().map(|&(d, q)| (d, 0, q, 0)));
        entries.extend(self.state[i].planned.iter().map(|&(d, q)| (d, 0, 0, q)));
        entries.sort_by_key(|e| e.0);
        let mut rows: Vec<(i32, i64, i64, i64)> = Vec::new();
        for (d, g, s, p) in entries {
            match rows.last_mut() {
                Some(r) if r.0 == d => {
                    r.1 = r.1.saturating_add(g);
                    r.2 = r.2.saturating_add(s);
                    r.3 = r.3.saturating_add(p);
                }
                _ => rows.push((d, g, s, p)),
            }
        }
        let mut projected = self.model.avail[i].max(0);
        Ok(rows
            .into_iter()
            .map(|(d, g, s, p)| {
                projected = projected.saturating_add(s).saturating_add(p) - g;
                PeriodRecord {
                    date: date_of(d),
                    gross: from_micro(g),
                    scheduled_receipts: from_micro(s),
                    planned_receipts: from_micro(p),
                    projected: from_micro(projected),
                }
            })
            .collect())
    }

    /// Every item's shortages, by item in input order, then date.
    pub fn shortages(&self) -> Vec<Shortage> {
        let mut out = Vec::new();
        for i in 0..self.model.names.len() {
            let Ok(rec) = self.records(i) else {
                continue;
            };
            let earliest = self.model.today + self.model.lead[i];
            for b in rec.buckets {
                if b.uncovered > 0 && b.day < earliest {
                    out.push(Shortage {
                        item: self.model.names[i].clone(),
                        need_by: date_of(b.day),
                        qty: from_micro(b.uncovered),
                        earliest: date_of(earliest),
                    });
                }
            }
        }
        out
    }

    /// What one demand line is short of, through every level of its BOM.
    ///
    /// Each item's stock and open purchase orders go to requirements in date order; what a
    /// day cannot cover is shared among that day's requirements in proportion to their
    /// quantities, and only the uncovered share of a made item explodes to its components
    /// (on the start day of the planned orders that cover it). A share is short where a new
    /// order placed today would arrive after it is needed. Quantities are rounded to
    /// millionths.
    pub fn demand_shortages(&self, id: u64) -> Result<Vec<Shortage>, MrpError> {
        let &(item, day, qty) = self.lines.get(&id).ok_or(MrpError::UnknownDemand { id })?;
        let m = &self.model;
        let mut cache: HashMap<u32, Records> = HashMap::new();
        // Requirement shares to trace, per low-level code, merged by (item, day).
        let mut pending: Vec<HashMap<(u32, i32), f64>> = vec![HashMap::new(); m.levels.len()];
        pending[m.llc[item as usize] as usize].insert((item, day), qty as f64);
        let mut short: Vec<(u32, u32, i32, f64)> = Vec::new();
        for level in 0..pending.len() {
            let mut nodes: Vec<_> = std::mem::take(&mut pending[level]).into_iter().collect();
            nodes.sort_unstable_by_key(|&(k, _)| k);
            for ((i, t), x) in nodes {
                let iu = i as usize;
                if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(i) {
                    e.insert(self.records(iu)?);
                }
                let rec = &cache[&i];
                let Ok(b) = rec.buckets.binary_search_by_key(&t, |b| b.day) else {
                    continue;
                };
                let b = rec.buckets[b];
                if b.uncovered == 0 || b.gross <= 0 {
                    continue;
                }
                let share = x / b.gross as f64;
                if t < m.today + m.lead[iu] {
                    short.push((m.llc[iu], i, t, share * b.uncovered as f64));
                }
                if m.components(iu).is_empty() {
                    continue;
                }
                // The planned orders covering [cum, cum + uncovered) of this item's
                // uncovered requirements, first in first out.
                let (lo, hi) = (b.cum_before, b.cum_before + b.uncovered);
                let first = rec.orders.partition_point(|o| o.2 + o.1 <= lo);
                for &(due, q, cum) in &rec.orders[first..] {
                    if cum >= hi {
                        break;
                    }
                    let overlap = (cum + q).min(hi) - cum.max(lo);
                    let start = m.start(iu, due);
                    for &(c, per) in m.components(iu) {
                        *pending[m.llc[c as usize] as usize]
                            .entry((c, start))
                            .or_insert(0.0) += share * overlap as f64 * per.as_f64();
                    }
                }
            }
        }
        short.sort_unstable_by_key(|a| (a.0, a.1, a.2));
        Ok(short
            .into_iter()
            .filter_map(|(_, i, t, q)| {
                let micro = q.round() as i64;
                (micro > 0).then(|| Shortage {
                    item: m.names[i as usize].clone(),
                    need_by: date_of(t),
                    qty: from_micro(micro),
                    earliest: date_of(m.today + m.lead[i as usize]),
                })
            })
            .collect())
    }

    pub(super) fn supply_of(&self, i: usize) -> impl Iterator<Item = PlannedSupply> + '_ {
        let m = &self.model;
        self.state[i]
            .planned
            .iter()
            .map(move |&(due, qty)| PlannedSupply {
                item: m.names[i].clone(),
                source: m.source[i],
                qty: from_micro(qty),
                order_by: date_of(m.start(i, due)),
                need_by: date_of(due),
                late: due - m.lead[i] < m.today,
            })
    }

    pub(super) fn all_supply(&self, source: Source) -> Vec<PlannedSupply> {
        (0..self.state.len())
            .filter(|&i| self.model.source[i] == source)
            .flat_map(|i| self.supply_of(i))
            .collect()
    }

    /// Item `i`'s buckets and planned orders with the cumulative positions that peg one to
    /// the other.
    pub(super) fn records(&self, i: usize) -> Result<Records, MrpError> {
        let m = &self.model;
        let mut buckets = Vec::with_capacity(self.state[i].gross.len());
        let mut out = Vec::new();
        net(
            &self.state[i].gross,
            m.receipts(i),
            m.avail[i].max(0),
            m.moq[i],
            m.lot[i],
            &mut out,
            Some(&mut buckets),
        )
        .ok_or_else(|| m.overflow(i))?;
        let mut cum = 0i64;
        let orders = out
            .iter()
            .map(|&(d, q)| {
                let o = (d, q, cum);
                cum = cum.saturating_add(q);
                o
            })
            .collect();
        Ok(Records { buckets, orders })
    }
}
