//! The table engine: every constraint is extensional (a list of allowed or of
//! forbidden tuples), propagated to generalized arc consistency (simple
//! tabular reduction for supports, tuple counting for conflicts) inside a
//! depth-first search. Imported models (XCSP tables, DIMACS clauses) run here;
//! native rules are turned into tables of their allowed abstract tuples when
//! a product mixes both. It answers the same questions as the expression
//! search in `search.rs`, so everything above `Engine` is shared.
//!
//! `propagate` holds the propagation, `refute` the refutations that name
//! their reasons (for explanations) and `why` how those reasons are traced.

use kiln_model::{Product, TableKind, Truth};

use crate::compile::{CExpr, Csp};
use crate::search::Fixed;

mod propagate;
mod refute;
mod why;
use propagate::ConSet;
pub(crate) use refute::Refuter;
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
    /// Per variable, its constraints that are not clauses.
    tables_on: Vec<Vec<u32>>,
    /// Per (variable, value) (at `lit[v] + a`), the clauses that forbid
    /// that value there: the only ones a change of the variable can wake,
    /// once the variable has that value alone.
    clause_at: Vec<Vec<u32>>,
    /// The same for clauses of two variables, held apart with the other
    /// position's `(variable, forbidden value)`: once `v` has that value
    /// alone, the other value goes, decided without reading the clause (as
    /// SAT solvers keep binary clauses in implication lists).
    binary_at: Vec<Vec<(u32, u32, u32)>>,
    lit: Vec<usize>,
    /// Per constraint, its range in `clause_lits` when it is a clause (else
    /// `NOT_CLAUSE`): unit propagation reads a clause from one flat array
    /// instead of the constraint's own vectors.
    clause_span: Vec<(u32, u32)>,
    clause_lits: Vec<(u32, u32)>,
    /// Every value of every variable.
    top: Vec<u64>,
    /// The propagated domains with no selection, and why each variable
    /// lost values: explanations start from here instead of from scratch.
    /// `None` when the model has no configuration.
    base: Option<(Vec<u64>, Vec<Vec<u32>>)>,
}

/// `TableEngine::clause_span` of a constraint that is not a clause.
pub(crate) const NOT_CLAUSE: u32 = u32::MAX;

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
        let mut tables_on = vec![Vec::new(); sizes.len()];
        let lit: Vec<usize> = sizes
            .iter()
            .scan(0, |acc, &s| {
                let at = *acc;
                *acc += s;
                Some(at)
            })
            .collect();
        let mut clause_at = vec![Vec::new(); sizes.iter().sum()];
        let mut binary_at = vec![Vec::new(); sizes.iter().sum()];
        let mut clause_span = Vec::with_capacity(cons.len());
        let mut clause_lits = Vec::new();
        for (c, con) in cons.iter().enumerate() {
            let clause = con.is_clause();
            clause_span.push(if clause {
                let start = clause_lits.len() as u32;
                clause_lits.extend(
                    con.scope
                        .iter()
                        .zip(&con.tuples)
                        .map(|(&v, &x)| (v as u32, x)),
                );
                (start, clause_lits.len() as u32)
            } else {
                (NOT_CLAUSE, NOT_CLAUSE)
            });
            let binary = clause && con.scope.len() == 2 && con.scope[0] != con.scope[1];
            for (k, &v) in con.scope.iter().enumerate() {
                watch[v].push(c);
                let at = lit[v] + con.tuples.get(k).map_or(0, |&x| x as usize);
                if binary {
                    let (w, y) = (con.scope[1 - k], con.tuples[1 - k]);
                    binary_at[at].push((w as u32, y, c as u32));
                } else if clause {
                    clause_at[at].push(c as u32);
                } else {
                    tables_on[v].push(c as u32);
                }
            }
        }
        let mut t = TableEngine {
            sizes,
            off,
            words,
            total_words: total,
            cons,
            watch,
            tables_on,
            clause_at,
            binary_at,
            lit,
            clause_span,
            clause_lits,
            top: Vec::new(),
            base: None,
        };
        t.top = t.full(&vec![None; t.sizes.len()]);
        let mut d = t.top.clone();
        let n = t.cons.len();
        let mut why = Why::new(&t.cons, &[]);
        let (active, mut used) = (vec![true; n], ConSet::new(n));
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
        used: &mut ConSet,
    ) -> Option<Vec<u64>> {
        let mut d = self.full(fixed);
        let all: Vec<usize> = (0..self.cons.len()).collect();
        self.propagate(&mut d, all, active, used).then_some(d)
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
        used: &mut ConSet,
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
        used: &mut ConSet,
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
            if self.propagate(&mut next, self.woken(v, a).collect(), active, used)
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
        let mut used = ConSet::new(self.cons.len());
        let found = self
            .root(fixed, active, &mut used)
            .and_then(|d| self.dfs(d, &Order::FailFirst, active, &mut used));
        match found {
            Some(d) => Ok(self.solution(&d)),
            None => Err((0..self.cons.len()).filter(|&c| used.get(c)).collect()),
        }
    }

    pub(crate) fn first(&self, fixed: &Fixed, prefer: &[Vec<usize>]) -> Option<Vec<usize>> {
        let active = vec![true; self.cons.len()];
        let mut used = ConSet::new(self.cons.len());
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
        let mut used = ConSet::new(self.cons.len());
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
                if !self.propagate(&mut d, self.woken(v, a).collect(), &active, &mut used) {
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
