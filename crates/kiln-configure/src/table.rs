//! The table engine: every constraint is extensional (a list of allowed or of
//! forbidden tuples), propagated to generalized arc consistency (simple
//! tabular reduction for supports, tuple counting for conflicts) inside a
//! depth-first search. Imported models (XCSP tables, DIMACS clauses) run here;
//! native rules are turned into tables of their allowed abstract tuples when
//! a product mixes both. It answers the same questions as the expression
//! search in `search.rs`, so everything above `Engine` is shared.

use kiln_model::{Product, TableKind, Truth};

use crate::compile::{CExpr, Csp};
use crate::search::Fixed;

pub(crate) struct TCon {
    pub scope: Vec<usize>,
    positive: bool,
    /// Flat tuples, `scope.len()` values each.
    tuples: Vec<u32>,
}

impl TCon {
    pub(crate) fn is_positive(&self) -> bool {
        self.positive
    }
    pub(crate) fn tuples(&self) -> &[u32] {
        &self.tuples
    }
}

pub(crate) struct TableEngine {
    /// Domain size per variable.
    pub sizes: Vec<usize>,
    off: Vec<usize>,
    words: Vec<usize>,
    total_words: usize,
    /// Indexed like the constraint space: `Product::rules`, then `Product::tables`.
    pub cons: Vec<TCon>,
    watch: Vec<Vec<usize>>,
}

/// Value preference of the search.
pub(crate) enum Order<'a> {
    FailFirst,
    Lex(&'a [Vec<usize>]),
    Prefer(&'a [Vec<bool>]),
}

impl TableEngine {
    pub(crate) fn new(product: &Product, csp: &Csp) -> TableEngine {
        let sizes: Vec<usize> = csp.vars.iter().map(|v| v.size()).collect();
        let mut off = Vec::with_capacity(sizes.len());
        let mut words = Vec::with_capacity(sizes.len());
        let mut total = 0;
        for &s in &sizes {
            off.push(total);
            let w = s.div_ceil(64).max(1);
            words.push(w);
            total += w;
        }
        let mut cons = Vec::new();
        for r in &csp.rules {
            cons.push(rule_table(csp, &r.expr, &r.vars));
        }
        for t in &product.tables {
            // Table value indexes are declared-value indexes, which are the
            // first abstract values of a choice/colour variable.
            cons.push(TCon {
                scope: t.scope.clone(),
                positive: t.kind == TableKind::Supports,
                tuples: t.tuples.clone(),
            });
        }
        let mut watch = vec![Vec::new(); sizes.len()];
        for (c, con) in cons.iter().enumerate() {
            for &v in &con.scope {
                watch[v].push(c);
            }
        }
        TableEngine {
            sizes,
            off,
            words,
            total_words: total,
            cons,
            watch,
        }
    }

    fn dom<'d>(&self, d: &'d [u64], v: usize) -> &'d [u64] {
        &d[self.off[v]..self.off[v] + self.words[v]]
    }

    fn has(&self, d: &[u64], v: usize, a: usize) -> bool {
        d[self.off[v] + a / 64] >> (a % 64) & 1 == 1
    }

    fn count(&self, d: &[u64], v: usize) -> u32 {
        self.dom(d, v).iter().map(|w| w.count_ones()).sum()
    }

    fn fix(&self, d: &mut [u64], v: usize, a: usize) {
        d[self.off[v]..self.off[v] + self.words[v]].fill(0);
        d[self.off[v] + a / 64] |= 1 << (a % 64);
    }

    /// Domains of the restriction after propagation; `None` on a wipe-out.
    pub(crate) fn root(
        &self,
        fixed: &Fixed,
        active: &[bool],
        used: &mut [bool],
    ) -> Option<Vec<u64>> {
        let mut d = vec![0u64; self.total_words];
        for (v, &s) in self.sizes.iter().enumerate() {
            match fixed[v] {
                Some(a) => d[self.off[v] + a / 64] |= 1 << (a % 64),
                None => (0..s).for_each(|a| d[self.off[v] + a / 64] |= 1 << (a % 64)),
            }
        }
        let all: Vec<usize> = (0..self.cons.len()).collect();
        self.propagate(&mut d, all, active, used).then_some(d)
    }

    /// Generalized arc consistency on the queued constraints and whatever
    /// their prunings wake up. `used` marks every constraint that pruned or
    /// failed: those alone yield the same propagation.
    pub(crate) fn propagate(
        &self,
        d: &mut [u64],
        mut queue: Vec<usize>,
        active: &[bool],
        used: &mut [bool],
    ) -> bool {
        let mut queued = vec![false; self.cons.len()];
        queue.retain(|&c| active[c]);
        queue.iter().for_each(|&c| queued[c] = true);
        let mut keep: Vec<Vec<u64>> = Vec::new();
        while let Some(c) = queue.pop() {
            queued[c] = false;
            let con = &self.cons[c];
            let a = con.scope.len();
            if a == 0 {
                // A constant rule: `positive` means it can never hold.
                if con.positive {
                    used[c] = true;
                    return false;
                }
                continue;
            }
            keep.clear();
            keep.extend(con.scope.iter().map(|&v| vec![0u64; self.words[v]]));
            if con.positive {
                let mut any = false;
                for t in con.tuples.chunks_exact(a) {
                    if con
                        .scope
                        .iter()
                        .zip(t)
                        .all(|(&v, &x)| self.has(d, v, x as usize))
                    {
                        any = true;
                        for (k, &x) in t.iter().enumerate() {
                            keep[k][x as usize / 64] |= 1 << (x % 64);
                        }
                    }
                }
                if !any {
                    used[c] = true;
                    return false;
                }
            } else {
                // A value is unsupported when every combination of the other
                // variables' values is forbidden together with it.
                let sizes: Vec<u64> = con.scope.iter().map(|&v| self.count(d, v) as u64).collect();
                let mut hits: Vec<std::collections::HashMap<u32, u64>> =
                    vec![Default::default(); a];
                for t in con.tuples.chunks_exact(a) {
                    if con
                        .scope
                        .iter()
                        .zip(t)
                        .all(|(&v, &x)| self.has(d, v, x as usize))
                    {
                        for (k, &x) in t.iter().enumerate() {
                            *hits[k].entry(x).or_default() += 1;
                        }
                    }
                }
                for k in 0..a {
                    let others = sizes
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != k)
                        .fold(1u64, |p, (_, &s)| p.saturating_mul(s));
                    let v = con.scope[k];
                    keep[k].copy_from_slice(self.dom(d, v));
                    for (&x, &n) in &hits[k] {
                        if n >= others {
                            keep[k][x as usize / 64] &= !(1 << (x % 64));
                        }
                    }
                }
            }
            for (k, &v) in con.scope.iter().enumerate() {
                let range = self.off[v]..self.off[v] + self.words[v];
                let mut changed = false;
                for (w, &kw) in d[range.clone()].iter_mut().zip(&keep[k]) {
                    let n = *w & kw;
                    changed |= n != *w;
                    *w = n;
                }
                if changed {
                    used[c] = true;
                    if d[range].iter().all(|&w| w == 0) {
                        return false;
                    }
                    for &o in &self.watch[v] {
                        if o != c && active[o] && !queued[o] {
                            queued[o] = true;
                            queue.push(o);
                        }
                    }
                }
            }
        }
        true
    }

    /// Depth-first search from propagated domains.
    pub(crate) fn dfs(
        &self,
        d: Vec<u64>,
        order: &Order,
        active: &[bool],
        used: &mut [bool],
    ) -> Option<Vec<u64>> {
        let open = (0..self.sizes.len()).filter(|&v| self.count(&d, v) > 1);
        let pick = match order {
            Order::Lex(_) => open.min(),
            _ => open.min_by_key(|&v| self.count(&d, v)),
        };
        let Some(v) = pick else {
            return Some(d);
        };
        let values: Vec<usize> = match order {
            Order::Lex(p) => p[v].clone(),
            Order::FailFirst => (0..self.sizes[v]).collect(),
            Order::Prefer(sup) => {
                let (new, old): (Vec<usize>, Vec<usize>) =
                    (0..self.sizes[v]).partition(|&a| !sup[v][a]);
                new.into_iter().chain(old).collect()
            }
        };
        for a in values {
            if !self.has(&d, v, a) {
                continue;
            }
            let mut next = d.clone();
            self.fix(&mut next, v, a);
            if self.propagate(&mut next, self.watch[v].clone(), active, used)
                && let Some(found) = self.dfs(next, order, active, used)
            {
                return Some(found);
            }
        }
        None
    }

    pub(crate) fn solution(&self, d: &[u64]) -> Vec<usize> {
        (0..self.sizes.len())
            .map(|v| {
                let w = self.dom(d, v);
                w.iter()
                    .enumerate()
                    .find(|(_, x)| **x != 0)
                    .map(|(k, x)| k * 64 + x.trailing_zeros() as usize)
                    .unwrap_or(0)
            })
            .collect()
    }

    pub(crate) fn solve(&self, fixed: &Fixed, active: &[bool]) -> Result<Vec<usize>, Vec<usize>> {
        let mut used = vec![false; self.cons.len()];
        let found = self
            .root(fixed, active, &mut used)
            .and_then(|d| self.dfs(d, &Order::FailFirst, active, &mut used));
        match found {
            Some(d) => Ok(self.solution(&d)),
            None => Err((0..self.cons.len()).filter(|&c| used[c]).collect()),
        }
    }

    pub(crate) fn first(&self, fixed: &Fixed, prefer: &[Vec<usize>]) -> Option<Vec<usize>> {
        let active = vec![true; self.cons.len()];
        let mut used = vec![false; self.cons.len()];
        let d = self.root(fixed, &active, &mut used)?;
        let d = self.dfs(d, &Order::Lex(prefer), &active, &mut used)?;
        Some(self.solution(&d))
    }

    /// `sup[var][value]`. With `own = false` a selected variable's values are
    /// judged against the *other* selections (what a shopper may switch to);
    /// with `own = true` every selection holds, so a selected variable
    /// supports only its own value. `None` when the selections conflict
    /// (only with `own = true`).
    pub(crate) fn supports(&self, base: &Fixed, own: bool) -> Option<Vec<Vec<bool>>> {
        let active = vec![true; self.cons.len()];
        let mut used = vec![false; self.cons.len()];
        let mut sup: Vec<Vec<bool>> = self.sizes.iter().map(|&s| vec![false; s]).collect();
        let root = self.root(base, &active, &mut used);
        if own && root.is_none() {
            return None;
        }
        for v in 0..self.sizes.len() {
            let start = match (base[v], &root) {
                (None, Some(r)) => r.clone(),
                (None, None) => continue,
                (Some(a), Some(_)) if own => {
                    sup[v][a] = true;
                    continue;
                }
                (Some(_), _) => {
                    let mut q = base.to_vec();
                    q[v] = None;
                    match self.root(&q, &active, &mut used) {
                        Some(d) => d,
                        None => continue,
                    }
                }
            };
            for a in 0..self.sizes[v] {
                if sup[v][a] || !self.has(&start, v, a) {
                    continue;
                }
                let mut d = start.clone();
                self.fix(&mut d, v, a);
                if !self.propagate(&mut d, self.watch[v].clone(), &active, &mut used) {
                    continue;
                }
                let Some(found) = self.dfs(d, &Order::Prefer(&sup), &active, &mut used) else {
                    continue;
                };
                let sol = self.solution(&found);
                let off: Vec<usize> = (0..sol.len())
                    .filter(|&j| base[j].is_some_and(|b| b != sol[j]))
                    .collect();
                match off[..] {
                    [] => (0..sol.len()).for_each(|j| sup[j][sol[j]] = true),
                    [k] => sup[k][sol[k]] = true,
                    _ => {}
                }
            }
        }
        Some(sup)
    }
}

/// A native rule as the table of its allowed abstract tuples.
fn rule_table(csp: &Csp, expr: &CExpr, vars: &[usize]) -> TCon {
    if vars.is_empty() {
        let holds = crate::search::eval_on(expr, &vec![0u64; csp.total_words], csp) == Truth::True;
        return TCon {
            scope: Vec::new(),
            positive: !holds,
            tuples: Vec::new(),
        };
    }
    let sizes: Vec<usize> = vars.iter().map(|&v| csp.vars[v].size()).collect();
    let mut tuples = Vec::new();
    let mut t = vec![0usize; vars.len()];
    let mut doms = vec![0u64; csp.total_words];
    loop {
        doms.fill(0);
        for (k, &v) in vars.iter().enumerate() {
            let var = &csp.vars[v];
            doms[var.off + t[k] / 64] |= 1 << (t[k] % 64);
        }
        if crate::search::eval_on(expr, &doms, csp) == Truth::True {
            tuples.extend(t.iter().map(|&x| x as u32));
        }
        // Next tuple, odometer style.
        let mut k = 0;
        loop {
            if k == t.len() {
                return TCon {
                    scope: vars.to_vec(),
                    positive: true,
                    tuples,
                };
            }
            t[k] += 1;
            if t[k] < sizes[k] {
                break;
            }
            t[k] = 0;
            k += 1;
        }
    }
}
