//! What net changes of demand leave alone: the items, their BOM as compressed rows both
//! ways (components and where used), open purchase orders, and low-level codes.

use super::*;

/// The items, BOM and open purchase orders, which net changes of demand leave alone.
#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) today: i32,
    pub(super) names: Vec<String>,
    pub(super) index: HashMap<String, u32>,
    pub(super) source: Vec<Source>,
    pub(super) lead: Vec<i32>,
    pub(super) moq: Vec<i64>,
    pub(super) lot: Vec<i64>,
    /// On hand less reserved; negative when reservations exceed stock.
    pub(super) avail: Vec<i64>,
    pub(super) llc: Vec<u32>,
    /// Items by low-level code.
    pub(super) levels: Vec<Vec<u32>>,
    /// Components of each item with the quantity per (CSR).
    pub(super) comp_start: Vec<u32>,
    pub(super) comps: Vec<(u32, Per)>,
    /// Parents of each item with the quantity per (CSR, "where used").
    pub(super) par_start: Vec<u32>,
    pub(super) pars: Vec<(u32, Per)>,
    /// Open purchase orders of each item, by due day (CSR).
    pub(super) po_start: Vec<u32>,
    pub(super) pos: Vec<(i32, i64)>,
    pub(super) rows: Vec<Row>,
}

impl Model {
    pub(super) fn components(&self, i: usize) -> &[(u32, Per)] {
        let (a, b) = self.rows[i].comps;
        &self.comps[a as usize..b as usize]
    }
    pub(super) fn parents(&self, i: usize) -> &[(u32, Per)] {
        &self.pars[self.par_start[i] as usize..self.par_start[i + 1] as usize]
    }
    pub(super) fn receipts(&self, i: usize) -> &[(i32, i64)] {
        let (a, b) = self.rows[i].pos;
        &self.pos[a as usize..b as usize]
    }
    /// The day a planned order due on `due` must start, never before today.
    pub(super) fn start(&self, i: usize, due: i32) -> i32 {
        (due - self.rows[i].lead).max(self.today)
    }
    pub(super) fn item(&self, id: &str, context: &'static str) -> Result<usize, MrpError> {
        self.index
            .get(id)
            .map(|&i| i as usize)
            .ok_or_else(|| MrpError::UnknownItem {
                item: id.to_owned(),
                context,
            })
    }
    pub(super) fn overflow(&self, i: usize) -> MrpError {
        MrpError::Overflow {
            item: self.names[i].clone(),
        }
    }
}

/// The figures netting reads for one item, in one cache line.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Row {
    pub(super) avail: i64,
    pub(super) moq: i64,
    pub(super) lot: i64,
    pub(super) lead: i32,
    pub(super) llc: u32,
    /// Ranges in `comps` and `pos`.
    pub(super) comps: (u32, u32),
    pub(super) pos: (u32, u32),
}

pub(super) fn build_model(input: &MrpInput) -> Result<Model, MrpError> {
    let today = day_number(input.today);
    let n = input.items.len();
    let mut index = HashMap::with_capacity(n);
    let mut m = Model {
        today,
        names: Vec::with_capacity(n),
        index: HashMap::new(),
        source: Vec::with_capacity(n),
        lead: Vec::with_capacity(n),
        moq: Vec::with_capacity(n),
        lot: Vec::with_capacity(n),
        avail: Vec::with_capacity(n),
        llc: vec![0; n],
        levels: Vec::new(),
        comp_start: Vec::new(),
        comps: Vec::new(),
        par_start: Vec::new(),
        pars: Vec::new(),
        po_start: Vec::new(),
        pos: Vec::new(),
        rows: Vec::new(),
    };
    let last_day = day_number(Date::MAX);
    for (k, it) in input.items.iter().enumerate() {
        if index.insert(it.id.clone(), k as u32).is_some() {
            return Err(MrpError::DuplicateItem {
                item: it.id.clone(),
            });
        }
        let lead = i32::try_from(it.lead_days).map_err(|_| MrpError::DateOutOfRange)?;
        if i64::from(today) + i64::from(lead) > i64::from(last_day) {
            return Err(MrpError::DateOutOfRange);
        }
        let on_hand = to_micro(it.on_hand, &it.id, "on-hand quantity")?;
        let reserved = to_micro(it.reserved, &it.id, "reserved quantity")?;
        m.names.push(it.id.clone());
        m.source.push(it.source);
        m.lead.push(lead);
        m.moq
            .push(to_micro(it.moq, &it.id, "minimum order quantity")?);
        m.lot.push(to_micro(it.lot_size, &it.id, "lot size")?);
        m.avail.push(on_hand - reserved);
    }
    m.index = index;

    let mut edges = Vec::with_capacity(input.bom.len());
    for line in &input.bom {
        let p = m.item(&line.parent, "BOM line")?;
        let c = m.item(&line.component, "BOM line")?;
        if m.source[p] == Source::Buy {
            return Err(MrpError::PurchasedWithComponents {
                item: line.parent.clone(),
            });
        }
        edges.push((p as u32, c as u32, Per::new(line.qty_per, &line.component)?));
    }
    (m.comp_start, m.comps) = csr(n, edges.iter().map(|&(p, c, per)| (p, (c, per))));
    (m.par_start, m.pars) = csr(n, edges.iter().map(|&(p, c, per)| (c, (p, per))));
    levelize(&mut m)?;

    let mut pos = Vec::with_capacity(input.purchase_orders.len());
    for po in &input.purchase_orders {
        let i = m.item(&po.item, "purchase order")?;
        let qty = to_micro(po.qty, &po.item, "purchase order quantity")?;
        pos.push((i as u32, (day_number(po.due), qty)));
    }
    pos.sort_by_key(|&(i, (d, _))| (i, d));
    (m.po_start, m.pos) = csr(n, pos.into_iter());
    m.rows = (0..n)
        .map(|i| Row {
            avail: m.avail[i],
            moq: m.moq[i],
            lot: m.lot[i],
            lead: m.lead[i],
            llc: m.llc[i],
            comps: (m.comp_start[i], m.comp_start[i + 1]),
            pos: (m.po_start[i], m.po_start[i + 1]),
        })
        .collect();
    Ok(m)
}

/// Compressed rows: `start[i]..start[i + 1]` indexes the values of row `i`, kept in input
/// order.
pub(super) fn csr<T: Copy>(
    n: usize,
    pairs: impl Iterator<Item = (u32, T)> + Clone,
) -> (Vec<u32>, Vec<T>) {
    let mut start = vec![0u32; n + 1];
    for (r, _) in pairs.clone() {
        start[r as usize + 1] += 1;
    }
    for k in 0..n {
        start[k + 1] += start[k];
    }
    let mut fill = start.clone();
    let mut values: Vec<Option<T>> = vec![None; start[n] as usize];
    for (r, v) in pairs {
        values[fill[r as usize] as usize] = Some(v);
        fill[r as usize] += 1;
    }
    (start, values.into_iter().flatten().collect())
}

/// Low-level codes by topological levelling (Kahn): an item's code is one more than its
/// deepest parent's, so it is planned after every item that uses it.
pub(super) fn levelize(m: &mut Model) -> Result<(), MrpError> {
    let n = m.names.len();
    let mut indegree: Vec<u32> = (0..n).map(|i| m.parents(i).len() as u32).collect();
    let mut stack: Vec<u32> = (0..n as u32)
        .filter(|&i| indegree[i as usize] == 0)
        .collect();
    let mut done = 0;
    while let Some(p) = stack.pop() {
        done += 1;
        let next = m.llc[p as usize] + 1;
        for k in m.comp_start[p as usize]..m.comp_start[p as usize + 1] {
            let c = m.comps[k as usize].0 as usize;
            m.llc[c] = m.llc[c].max(next);
            indegree[c] -= 1;
            if indegree[c] == 0 {
                stack.push(c as u32);
            }
        }
    }
    if done < n {
        return Err(MrpError::BomCycle {
            items: find_cycle(m, &indegree),
        });
    }
    let levels = m.llc.iter().max().map_or(0, |&l| l as usize + 1);
    m.levels = vec![Vec::new(); levels];
    for i in 0..n {
        m.levels[m.llc[i] as usize].push(i as u32);
    }
    Ok(())
}

/// After Kahn's pass every item left has a parent left, so walking up through such parents
/// must come back to an item already seen.
pub(super) fn find_cycle(m: &Model, indegree: &[u32]) -> Vec<String> {
    let Some(start) = (0..m.names.len()).find(|&i| indegree[i] > 0) else {
        return Vec::new();
    };
    let mut seen = vec![usize::MAX; m.names.len()];
    let mut path = Vec::new();
    let mut i = start;
    while seen[i] == usize::MAX {
        seen[i] = path.len();
        path.push(i);
        match m
            .parents(i)
            .iter()
            .find(|&&(p, _)| indegree[p as usize] > 0)
        {
            Some(&(p, _)) => i = p as usize,
            None => break,
        }
    }
    let from = seen[i].min(path.len());
    // The walk went from component to parent; report parent → component.
    let mut cycle: Vec<String> = path[from..]
        .iter()
        .rev()
        .map(|&k| m.names[k].clone())
        .collect();
    if let Some(first) = cycle.first().cloned() {
        cycle.push(first);
    }
    cycle
}
