//! The table engine: every constraint is extensional (a list of allowed or of
//! forbidden tuples), propagated to generalized arc consistency (simple
//! tabular reduction for supports, tuple counting for conflicts) inside a
//! depth-first search. Imported models (XCSP tables, DIMACS clauses) run here;
//! native rules are turned into tables of their allowed abstract tuples when
//! a product mixes both. It answers the same questions as the expression
//! search in `search.rs`, so everything above `Engine` is shared.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use kiln_model::{Product, TableKind, Truth};

use crate::compile::{CExpr, Csp};
use crate::search::Fixed;

mod why;
use why::Why;

pub(crate) struct TCon {
    pub scope: Vec<usize>,
    positive: bool,
    /// Flat tuples, `scope.len()` values each.
    tuples: Vec<u32>,
    /// Tuples by (position, value): `ids[starts[at[k] + a]..starts[at[k] + a + 1]]`,
    /// so a position with a fixed value is scanned through its tuples only.
    at: Vec<usize>,
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl TCon {
    fn new(scope: Vec<usize>, positive: bool, tuples: Vec<u32>, sizes: &[usize]) -> TCon {
        let a = scope.len();
        let mut at = Vec::with_capacity(a);
        let mut total = 0;
        for &v in &scope {
            at.push(total);
            total += sizes[v] + 1;
        }
        let mut starts = vec![0u32; total + 1];
        if a > 0 {
            for t in tuples.chunks_exact(a) {
                for (k, &x) in t.iter().enumerate() {
                    starts[at[k] + x as usize + 1] += 1;
                }
            }
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut fill = starts.clone();
        let mut ids = vec![0u32; tuples.len()];
        if a > 0 {
            for (i, t) in tuples.chunks_exact(a).enumerate() {
                for (k, &x) in t.iter().enumerate() {
                    let slot = &mut fill[at[k] + x as usize];
                    ids[*slot as usize] = i as u32;
                    *slot += 1;
                }
            }
        }
        TCon {
            scope,
            positive,
            tuples,
            at,
            starts,
            ids,
        }
    }

    /// The tuples with value `x` at position `k`.
    fn with(&self, k: usize, x: usize) -> &[u32] {
        let i = self.at[k] + x;
        &self.ids[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    /// The tuples worth scanning given `value(v)` (a variable's only value,
    /// if it has one): those of the most selective fixed position, or all.
    fn candidates(&self, value: impl Fn(usize) -> Option<usize>) -> Option<&[u32]> {
        self.scope
            .iter()
            .enumerate()
            .filter_map(|(k, &v)| value(v).map(|x| self.with(k, x)))
            .min_by_key(|l| l.len())
    }

    pub(crate) fn is_positive(&self) -> bool {
        self.positive
    }

    /// Forbids exactly one tuple: a clause (a DIMACS clause is one).
    pub(crate) fn is_clause(&self) -> bool {
        !self.positive && !self.scope.is_empty() && self.tuples.len() == self.scope.len()
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
    /// The propagated domains with no selection, and why each variable
    /// lost values: explanations start from here instead of from scratch.
    /// `None` when the model has no configuration.
    base: Option<(Vec<u64>, Vec<Vec<u32>>)>,
}

/// Search nodes an explanation may spend before it settles for every
/// constraint (far more than real models need).
const SEARCH_BUDGET: usize = 200_000;

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
            let (scope, positive, tuples) = rule_table(csp, &r.expr, &r.vars);
            cons.push(TCon::new(scope, positive, tuples, &sizes));
        }
        for t in &product.tables {
            // Table value indexes are declared-value indexes, which are the
            // first abstract values of a choice/colour variable.
            cons.push(TCon::new(
                t.scope.clone(),
                t.kind == TableKind::Supports,
                t.tuples.clone(),
                &sizes,
            ));
        }
        let mut watch = vec![Vec::new(); sizes.len()];
        for (c, con) in cons.iter().enumerate() {
            for &v in &con.scope {
                watch[v].push(c);
            }
        }
        let mut t = TableEngine {
            sizes,
            off,
            words,
            total_words: total,
            cons,
            watch,
            base: None,
        };
        let mut d = t.full(&vec![None; t.sizes.len()]);
        let n = t.cons.len();
        let mut why = Why::new(n, &[]);
        let (active, mut used) = (vec![true; n], vec![false; n]);
        if t.propagate_why(&mut d, (0..n).collect(), &active, &mut used, Some(&mut why)) {
            let rows = why.into_rows(t.sizes.len());
            t.base = Some((d, rows));
        }
        t
    }

    /// Domains with the fixed variables fixed and the others full.
    fn full(&self, fixed: &Fixed) -> Vec<u64> {
        let mut d = vec![0u64; self.total_words];
        for (v, &s) in self.sizes.iter().enumerate() {
            match fixed[v] {
                Some(a) => d[self.off[v] + a / 64] |= 1 << (a % 64),
                None => (0..s).for_each(|a| d[self.off[v] + a / 64] |= 1 << (a % 64)),
            }
        }
        d
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
        let mut d = self.full(fixed);
        let all: Vec<usize> = (0..self.cons.len()).collect();
        self.propagate(&mut d, all, active, used).then_some(d)
    }

    /// Generalized arc consistency on the queued constraints and whatever
    /// their prunings wake up. `used` marks every constraint that pruned or
    /// failed: those alone yield the same propagation.
    pub(crate) fn propagate(
        &self,
        d: &mut [u64],
        queue: Vec<usize>,
        active: &[bool],
        used: &mut [bool],
    ) -> bool {
        self.propagate_why(d, queue, active, used, None)
    }

    /// How many tuples a revision of `c` would scan now.
    fn scan_cost(&self, d: &[u64], c: usize) -> usize {
        let con = &self.cons[c];
        if con.is_clause() {
            return 1; // a clause: see the unit propagation in `propagate_why`
        }
        match con.candidates(|v| self.single(d, v)) {
            Some(ids) => ids.len(),
            None => con.tuples.len() / con.scope.len().max(1),
        }
    }

    /// The only value of `v`, if it has one.
    fn single(&self, d: &[u64], v: usize) -> Option<usize> {
        let w = self.dom(d, v);
        let mut found = None;
        for (k, &x) in w.iter().enumerate() {
            if x != 0 {
                if found.is_some() || x & (x - 1) != 0 {
                    return None;
                }
                found = Some(k * 64 + x.trailing_zeros() as usize);
            }
        }
        found
    }

    /// [`TableEngine::propagate`], optionally recording why: `why.rows[v]`
    /// is the set of constraints whose prunings led to `v`'s domain, and on
    /// a wipe-out `why.core` the constraints that together refute the query.
    fn propagate_why(
        &self,
        d: &mut [u64],
        mut queue: Vec<usize>,
        active: &[bool],
        used: &mut [bool],
        mut why: Option<&mut Why<'_>>,
    ) -> bool {
        // Cheapest revision first (fewest tuples to scan): conflicts are
        // usually local to the fixed variables, whose tuples are indexed, so
        // a wipe-out is met before the expensive tables are scanned at all.
        let mut queued = vec![false; self.cons.len()];
        queue.retain(|&c| active[c]);
        queue.iter().for_each(|&c| queued[c] = true);
        let mut heap: BinaryHeap<Reverse<(usize, usize)>> = queue
            .iter()
            .map(|&c| Reverse((self.scan_cost(d, c), c)))
            .collect();
        let mut keep: Vec<Vec<u64>> = Vec::new();
        while let Some(Reverse((_, c))) = heap.pop() {
            queued[c] = false;
            let con = &self.cons[c];
            let a = con.scope.len();
            if a == 0 {
                // A constant rule: `positive` means it can never hold.
                if con.positive {
                    used[c] = true;
                    if let Some(w) = why.as_deref_mut() {
                        w.fail(c, &[]);
                    }
                    return false;
                }
                continue;
            }
            if con.is_clause() {
                // One forbidden tuple (a clause): unit propagation, with no
                // allocation. Nothing to do while it is already satisfied
                // (a position lost its tuple value) or two positions are
                // still open.
                let mut open = None;
                let mut idle = false;
                for (k, (&v, &x)) in con.scope.iter().zip(&con.tuples).enumerate() {
                    let x = x as usize;
                    if !self.has(d, v, x) {
                        idle = true; // satisfied
                        break;
                    }
                    if self.single(d, v) != Some(x) {
                        if open.is_some() {
                            idle = true; // two positions still open
                            break;
                        }
                        open = Some(k);
                    }
                }
                if idle {
                    continue;
                }
                used[c] = true;
                let Some(k) = open else {
                    if let Some(w) = why.as_deref_mut() {
                        w.fail(c, &con.scope);
                    }
                    return false;
                };
                let (v, x) = (con.scope[k], con.tuples[k] as usize);
                d[self.off[v] + x / 64] &= !(1 << (x % 64));
                if let Some(w) = why.as_deref_mut() {
                    w.pruned(c, v, &con.scope);
                }
                // An open position has another value: no wipe-out here.
                for &o in &self.watch[v] {
                    if o != c && active[o] && !queued[o] {
                        queued[o] = true;
                        heap.push(Reverse((self.scan_cost(d, o), o)));
                    }
                }
                continue;
            }
            keep.clear();
            keep.extend(con.scope.iter().map(|&v| vec![0u64; self.words[v]]));
            if con.positive {
                let mut any = false;
                let mut take = |t: &[u32]| {
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
                };
                match con.candidates(|v| self.single(d, v)) {
                    Some(ids) => ids
                        .iter()
                        .for_each(|&i| take(&con.tuples[i as usize * a..][..a])),
                    None => con.tuples.chunks_exact(a).for_each(take),
                }
                if !any {
                    used[c] = true;
                    if let Some(w) = why.as_deref_mut() {
                        w.fail(c, &con.scope);
                    }
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
                    if let Some(w) = why.as_deref_mut() {
                        w.pruned(c, v, &con.scope);
                    }
                    if d[range].iter().all(|&w| w == 0) {
                        if let Some(w) = why.as_deref_mut() {
                            w.fail(c, &con.scope);
                        }
                        return false;
                    }
                    for &o in &self.watch[v] {
                        if o != c && active[o] && !queued[o] {
                            queued[o] = true;
                            heap.push(Reverse((self.scan_cost(d, o), o)));
                        }
                    }
                }
            }
        }
        true
    }

    /// When propagation alone refutes the restriction: the constraints and
    /// the fixed variables its refutation went through (a small core, not
    /// necessarily minimal).
    pub(crate) fn refute_core(&self, fixed: &Fixed) -> Option<(Vec<usize>, Vec<usize>)> {
        let n = self.cons.len();
        let Some((base, rows)) = &self.base else {
            // Nothing is possible: every constraint together refutes it.
            return Some(((0..n).collect(), Vec::new()));
        };
        let mut d = base.clone();
        let mut why = Why::new(n, rows);
        let mut queue = Vec::new();
        let mut queued = vec![false; n];
        for (v, f) in fixed.iter().enumerate() {
            let Some(a) = *f else { continue };
            if !self.has(&d, v, a) {
                // Gone with no selection at all: why it went is the refutation.
                why.fail_on(v);
                return Some(why.core);
            }
            self.fix(&mut d, v, a);
            why.selected(v);
            for &c in &self.watch[v] {
                if !queued[c] {
                    queued[c] = true;
                    queue.push(c);
                }
            }
        }
        let (active, mut used) = (vec![true; n], vec![false; n]);
        if !self.propagate_why(&mut d, queue, &active, &mut used, Some(&mut why)) {
            return Some(why.core);
        }
        // Propagation alone does not refute it: search, explaining every
        // failure and jumping back over decisions a failure does not need.
        let mut budget = SEARCH_BUDGET;
        why.trailing = true;
        match self.cbj(d, &mut why, &mut budget) {
            Ok(()) => None,
            Err(Some(core)) => Some(core),
            // Too hard to explain by search: every constraint, every selection.
            Err(None) => Some((
                (0..n).collect(),
                (0..fixed.len()).filter(|&v| fixed[v].is_some()).collect(),
            )),
        }
    }

    /// Conflict-directed backjumping from propagated domains: `Ok` when a
    /// solution exists, else the constraints and selections that refute
    /// (decisions are recorded as selections of their variable and
    /// discharged on the way back). `Err(None)` when out of budget.
    #[allow(clippy::type_complexity)]
    fn cbj(
        &self,
        d: Vec<u64>,
        why: &mut Why<'_>,
        budget: &mut usize,
    ) -> Result<(), Option<(Vec<usize>, Vec<usize>)>> {
        let open = (0..self.sizes.len())
            .filter(|&v| !self.watch[v].is_empty() && self.count(&d, v) > 1)
            .min_by_key(|&v| self.count(&d, v));
        let Some(y) = open else {
            return Ok(());
        };
        let n = self.cons.len();
        let (active, mut used) = (vec![true; n], vec![false; n]);
        let (mut cons, mut vars): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        for a in 0..self.sizes[y] {
            if !self.has(&d, y, a) {
                continue;
            }
            if *budget == 0 {
                return Err(None);
            }
            *budget -= 1;
            let mut d2 = d.clone();
            // The reasons are undone on the way back (a trail, not a copy
            // per level).
            let mark = why.mark();
            self.fix(&mut d2, y, a);
            why.selected(y);
            let core = if self.propagate_why(
                &mut d2,
                self.watch[y].clone(),
                &active,
                &mut used,
                Some(&mut *why),
            ) {
                match self.cbj(d2, why, budget) {
                    Ok(()) => return Ok(()),
                    Err(None) => return Err(None),
                    Err(Some(core)) => core,
                }
            } else {
                std::mem::take(&mut why.core)
            };
            why.undo(mark);
            if !core.1.contains(&y) {
                // This failure does not depend on the decision: it refutes
                // the node itself.
                return Err(Some(core));
            }
            cons.extend(core.0);
            vars.extend(core.1.into_iter().filter(|&v| v != y));
        }
        // Every value of `y` failed; its other values were removed for the
        // reasons recorded on it.
        why.fail_on_domain(y);
        let (c, v) = std::mem::take(&mut why.core);
        cons.extend(c);
        vars.extend(v);
        cons.sort_unstable();
        cons.dedup();
        vars.sort_unstable();
        vars.dedup();
        Err(Some((cons, vars)))
    }

    /// Constraints on variable `v`.
    pub(crate) fn watching(&self, v: usize) -> &[usize] {
        &self.watch[v]
    }

    /// Constraint `c` alone rules out the fixed values: no allowed tuple
    /// agrees with them (or every combination left is forbidden).
    pub(crate) fn forbids(&self, c: usize, fixed: &Fixed) -> bool {
        let con = &self.cons[c];
        let a = con.scope.len();
        if a == 0 {
            return con.positive;
        }
        if con.scope.iter().all(|&v| fixed[v].is_none()) {
            return false;
        }
        let agrees = |t: &[u32]| {
            con.scope
                .iter()
                .zip(t)
                .all(|(&v, &x)| fixed[v].is_none_or(|f| f == x as usize))
        };
        let matching = match con.candidates(|v| fixed[v]) {
            Some(ids) => ids
                .iter()
                .filter(|&&i| agrees(&con.tuples[i as usize * a..][..a]))
                .count(),
            None => con.tuples.chunks_exact(a).filter(|t| agrees(t)).count(),
        };
        if con.positive {
            matching == 0
        } else {
            let free: usize = con
                .scope
                .iter()
                .filter(|&&v| fixed[v].is_none())
                .map(|&v| self.sizes[v])
                .product();
            matching == free
        }
    }

    /// Depth-first search from propagated domains. Only variables that an
    /// active constraint mentions are decided: once those are fixed, every
    /// active constraint holds (propagation keeps them consistent), and
    /// branching on the others would only multiply failures.
    pub(crate) fn dfs(
        &self,
        d: Vec<u64>,
        order: &Order,
        active: &[bool],
        used: &mut [bool],
    ) -> Option<Vec<u64>> {
        let relevant = self.relevant(active);
        self.dfs_on(d, order, active, &relevant, used)
    }

    /// Variables mentioned by an active constraint.
    fn relevant(&self, active: &[bool]) -> Vec<bool> {
        let mut r = vec![false; self.sizes.len()];
        for (c, con) in self.cons.iter().enumerate() {
            if active[c] {
                con.scope.iter().for_each(|&v| r[v] = true);
            }
        }
        r
    }

    fn dfs_on(
        &self,
        d: Vec<u64>,
        order: &Order,
        active: &[bool],
        relevant: &[bool],
        used: &mut [bool],
    ) -> Option<Vec<u64>> {
        let lex = matches!(order, Order::Lex(_));
        let open = (0..self.sizes.len()).filter(|&v| (lex || relevant[v]) && self.count(&d, v) > 1);
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
                && let Some(found) = self.dfs_on(next, order, active, relevant, used)
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

    /// No solution with only the constraints `set` (flagged in `active`):
    /// [`TableEngine::solve`] for a few constraints of a large model, paying
    /// for those alone rather than for every constraint.
    pub(crate) fn refuted_by(&self, fixed: &Fixed, set: &[usize], active: &[bool]) -> bool {
        let mut d = self.full(fixed);
        let mut used = vec![false; self.cons.len()];
        if !self.propagate(&mut d, set.to_vec(), active, &mut used) {
            return true;
        }
        let mut vars: Vec<usize> = set
            .iter()
            .flat_map(|&c| self.cons[c].scope.iter().copied())
            .collect();
        vars.sort_unstable();
        vars.dedup();
        !self.dfs_among(&mut d, &vars, active, &mut used)
    }

    /// Depth-first search for a solution of the active constraints, which
    /// mention only `vars`: propagation changes nothing else, so a failed
    /// branch restores those variables' words instead of copying every
    /// domain (a large model has thousands of variables, a test a few).
    fn dfs_among(&self, d: &mut [u64], vars: &[usize], active: &[bool], used: &mut [bool]) -> bool {
        let Some(v) = vars
            .iter()
            .copied()
            .filter(|&v| self.count(d, v) > 1)
            .min_by_key(|&v| self.count(d, v))
        else {
            return true;
        };
        let saved: Vec<u64> = vars
            .iter()
            .flat_map(|&u| self.dom(d, u).iter().copied())
            .collect();
        for a in 0..self.sizes[v] {
            if !self.has(d, v, a) {
                continue;
            }
            self.fix(d, v, a);
            if self.propagate(d, self.watch[v].clone(), active, used)
                && self.dfs_among(d, vars, active, used)
            {
                return true;
            }
            let mut k = 0;
            for &u in vars {
                let w = self.words[u];
                d[self.off[u]..self.off[u] + w].copy_from_slice(&saved[k..k + w]);
                k += w;
            }
        }
        false
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

/// A native rule as the table of its allowed abstract tuples: scope,
/// supports (true), tuples.
fn rule_table(csp: &Csp, expr: &CExpr, vars: &[usize]) -> (Vec<usize>, bool, Vec<u32>) {
    if vars.is_empty() {
        let holds = crate::search::eval_on(expr, &vec![0u64; csp.total_words], csp) == Truth::True;
        return (Vec::new(), !holds, Vec::new());
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
                return (vars.to_vec(), true, tuples);
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
