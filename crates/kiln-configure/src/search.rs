//! Satisfiability over the compiled CSP: depth-first search with propagation.
//!
//! This is the only module that searches. Everything above it asks three
//! questions: "is this restriction satisfiable (and with which solution, or
//! which rules refute it)?", "what is the first solution in this value
//! order?" and "which values of each variable have support?". A compiled
//! decision diagram can later answer the same questions behind `Engine`.

use kiln_model::Truth;

use crate::compile::{CExpr, Csp};
use crate::compiled::{Compiled, Mode, TooBig};

/// Diagram elements (nodes, edges, children, carried values) past which
/// compilation gives up and the engine searches instead: 8 to 16 bytes each.
/// Real car models need under 100,000.
const COMPILE_LIMIT: usize = 10_000_000;
use crate::compiled::saved::{self, Saved};
use crate::table::TableEngine;

/// A restriction: per variable, `Some(value)` to fix it, `None` to leave it free.
pub(crate) type Fixed = [Option<usize>];

pub(crate) struct Engine {
    pub csp: Csp,
    /// Set for products with tables: the table engine answers instead.
    pub table: Option<TableEngine>,
    /// The table engine's network compiled into a decision diagram, when it
    /// fits: then supports and satisfiability need no search.
    pub compiled: Option<Compiled>,
    /// The product has no valid configuration (known at compilation).
    pub empty: bool,
}

/// How the search picks the next variable and value.
enum Branch<'a> {
    /// Smallest domain first: fastest to find a solution or a refutation.
    FailFirst,
    /// Declaration order, values in the given preference order: gives the
    /// lexicographically first solution, i.e. a greedy backtrack-free completion.
    Lex(&'a [Vec<usize>]),
    /// Smallest domain first, values not yet marked supported first.
    Prefer(&'a [Vec<bool>]),
}

impl Engine {
    pub(crate) fn new(csp: Csp) -> Engine {
        Engine {
            csp,
            table: None,
            compiled: None,
            empty: false,
        }
    }

    /// The engine for a product with extensional constraints, their
    /// network compiled.
    pub(crate) fn with_tables(product: &kiln_model::Product, csp: Csp) -> Engine {
        let table = TableEngine::new(product, &csp);
        let compiled = match Compiled::build(&table, COMPILE_LIMIT) {
            Ok(Some(c)) => Saved::Diagram(Box::new(c)),
            Ok(None) => Saved::Empty,
            Err(TooBig) => Saved::TooBig,
        };
        Engine::tabled(csp, table, compiled)
    }

    /// [`Engine::with_tables`] from the bytes [`Engine::saved`] gave;
    /// `None` when they do not fit the product.
    pub(crate) fn from_saved(
        product: &kiln_model::Product,
        csp: Csp,
        bytes: &[u8],
    ) -> Option<Engine> {
        let table = TableEngine::new(product, &csp);
        let compiled = saved::from_bytes(bytes, &table.sizes)?;
        Some(Engine::tabled(csp, table, compiled))
    }

    fn tabled(csp: Csp, table: TableEngine, compiled: Saved) -> Engine {
        let (compiled, empty) = match compiled {
            Saved::Diagram(c) => (Some(*c), false),
            Saved::Empty => (None, true),
            Saved::TooBig => (None, false),
        };
        Engine {
            csp,
            table: Some(table),
            compiled,
            empty,
        }
    }

    /// The compilation as bytes for [`Engine::from_saved`]; `None` without
    /// tables (nothing was compiled).
    pub(crate) fn saved(&self) -> Option<Vec<u8>> {
        self.table.as_ref()?;
        Some(saved::to_bytes(self.compiled.as_ref(), self.empty))
    }

    /// Size of the constraint index space: rules, then tables.
    pub(crate) fn constraints(&self) -> usize {
        match &self.table {
            Some(t) => t.cons.len(),
            None => self.csp.rules.len(),
        }
    }

    /// The variables constraint `c` mentions.
    pub(crate) fn constraint_vars(&self, c: usize) -> &[usize] {
        match &self.table {
            Some(t) => &t.cons[c].scope,
            None => &self.csp.rules[c].vars,
        }
    }

    /// Literal `(var, value)` is bit `lit_base()[var] + value` of
    /// [`Engine::supported`].
    pub(crate) fn lit_base(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.csp.vars.len());
        let mut total = 0;
        for v in &self.csp.vars {
            out.push(total);
            total += v.size();
        }
        out
    }

    /// [`Engine::supports_fixed`] as a bitset of literals.
    pub(crate) fn supported(&self, base: &Fixed) -> Option<Vec<u64>> {
        if let Some(c) = &self.compiled {
            return c.supported(base);
        }
        let sup = self.supports_fixed(base)?;
        let lit_base = self.lit_base();
        let total: usize = sup.iter().map(|s| s.len()).sum();
        let mut lits = vec![0u64; total.div_ceil(64).max(1)];
        for (v, vals) in sup.iter().enumerate() {
            for (k, &s) in vals.iter().enumerate() {
                if s {
                    let l = lit_base[v] + k;
                    lits[l / 64] |= 1 << (l % 64);
                }
            }
        }
        Some(lits)
    }

    /// Supports with every selection held (a selected variable supports only
    /// its own value); `None` when the selections conflict.
    pub(crate) fn supports_fixed(&self, base: &Fixed) -> Option<Vec<Vec<bool>>> {
        if let Some(c) = &self.compiled {
            return c.supports(base, Mode::Fixed);
        }
        if self.empty {
            return None;
        }
        match &self.table {
            Some(t) => t.supports(base, true),
            None => {
                self.sat(base)?;
                let mut sup = self.supports(base);
                for (i, b) in base.iter().enumerate() {
                    if let Some(a) = *b {
                        sup[i].iter_mut().enumerate().for_each(|(k, s)| *s = k == a);
                    }
                }
                Some(sup)
            }
        }
    }

    /// `Ok(solution)` or `Err(rules)`: a set of rule indexes that alone refutes
    /// the restriction (not necessarily minimal).
    pub(crate) fn solve(&self, fixed: &Fixed, active: &[bool]) -> Result<Vec<usize>, Vec<usize>> {
        if let Some(t) = &self.table {
            return t.solve(fixed, active);
        }
        let mut s = Search::new(&self.csp, active);
        match s.run(fixed, &Branch::FailFirst) {
            Some(sol) => Ok(sol),
            None => Err((0..active.len()).filter(|&r| s.used[r]).collect()),
        }
    }

    /// At least one complete valid configuration exists.
    pub(crate) fn satisfiable(&self) -> bool {
        if self.compiled.is_some() {
            return true;
        }
        !self.empty && self.sat(&vec![None; self.csp.vars.len()]).is_some()
    }

    pub(crate) fn sat(&self, fixed: &Fixed) -> Option<Vec<usize>> {
        self.solve(fixed, &vec![true; self.constraints()]).ok()
    }

    /// The first solution when free variables are decided in declaration order,
    /// each trying its values in `prefer[var]` order.
    pub(crate) fn first(&self, fixed: &Fixed, prefer: &[Vec<usize>]) -> Option<Vec<usize>> {
        if let Some(t) = &self.table {
            return t.first(fixed, prefer);
        }
        let active = vec![true; self.csp.rules.len()];
        Search::new(&self.csp, &active).run(fixed, &Branch::Lex(prefer))
    }

    /// `supported[var][value]`: some solution agrees with `base` on every
    /// *other* variable and has this value. Each solution found marks every
    /// value it supports, and the search tries not-yet-supported values first,
    /// so few searches are needed; values that propagation already removes
    /// need no search at all.
    pub(crate) fn supports(&self, base: &Fixed) -> Vec<Vec<bool>> {
        if let Some(c) = &self.compiled {
            return c.supports(base, Mode::Others).unwrap_or_default();
        }
        if let Some(t) = &self.table {
            return t.supports(base, false).unwrap_or_default();
        }
        let vars = &self.csp.vars;
        let active = vec![true; self.csp.rules.len()];
        let mut sup: Vec<Vec<bool>> = vars.iter().map(|v| vec![false; v.size()]).collect();
        let root = Search::new(&self.csp, &active).root(base);
        for i in 0..vars.len() {
            // The other selections only: propagate without this one.
            let start = match (base[i], &root) {
                (None, Some(root)) => root.clone(),
                (None, None) => continue,
                (Some(_), _) => {
                    let mut q = base.to_vec();
                    q[i] = None;
                    match Search::new(&self.csp, &active).root(&q) {
                        Some(d) => d,
                        None => continue,
                    }
                }
            };
            let var = &vars[i];
            for v in 0..var.size() {
                if sup[i][v] || !has_bit(&start[var.off..], v) {
                    continue;
                }
                let mut doms = start.clone();
                doms[var.off..var.off + var.words].fill(0);
                set_bit(&mut doms[var.off..], v);
                let mut s = Search::new(&self.csp, &active);
                if !s.propagate(&mut doms, self.csp.watch[i].clone()) {
                    continue;
                }
                let Some(found) = s.dfs(doms, &Branch::Prefer(&sup)) else {
                    continue;
                };
                let sol = s.solution(&found);
                let off: Vec<usize> = (0..vars.len())
                    .filter(|&j| base[j].is_some_and(|b| b != sol[j]))
                    .collect();
                match off[..] {
                    [] => (0..vars.len()).for_each(|j| sup[j][sol[j]] = true),
                    [k] => sup[k][sol[k]] = true,
                    _ => {}
                }
            }
        }
        sup
    }
}

struct Search<'a> {
    csp: &'a Csp,
    active: &'a [bool],
    /// Rules that pruned a value or failed: together they refute the query.
    used: Vec<bool>,
}

impl<'a> Search<'a> {
    fn new(csp: &'a Csp, active: &'a [bool]) -> Search<'a> {
        Search {
            csp,
            active,
            used: vec![false; csp.rules.len()],
        }
    }

    fn run(&mut self, fixed: &Fixed, branch: &Branch) -> Option<Vec<usize>> {
        let doms = self.root(fixed)?;
        let found = self.dfs(doms, branch)?;
        Some(self.solution(&found))
    }

    fn solution(&self, doms: &[u64]) -> Vec<usize> {
        self.csp
            .vars
            .iter()
            .map(|v| first_bit(&doms[v.off..v.off + v.words]).expect("non-empty"))
            .collect()
    }

    /// The restriction's domains after propagating every rule; `None` if that
    /// already wipes a domain out.
    fn root(&mut self, fixed: &Fixed) -> Option<Vec<u64>> {
        let mut doms = vec![0u64; self.csp.total_words];
        for (i, var) in self.csp.vars.iter().enumerate() {
            match fixed[i] {
                Some(v) => set_bit(&mut doms[var.off..], v),
                None => (0..var.size()).for_each(|v| set_bit(&mut doms[var.off..], v)),
            }
        }
        let all: Vec<usize> = (0..self.csp.rules.len()).collect();
        self.propagate(&mut doms, all).then_some(doms)
    }

    fn dfs(&mut self, doms: Vec<u64>, branch: &Branch) -> Option<Vec<u64>> {
        let vars = &self.csp.vars;
        let count = |i: usize| popcount(&doms[vars[i].off..vars[i].off + vars[i].words]);
        let open = (0..vars.len()).filter(|&i| count(i) > 1);
        let pick = match branch {
            Branch::FailFirst | Branch::Prefer(_) => open.min_by_key(|&i| count(i)),
            Branch::Lex(_) => open.min(),
        };
        let Some(i) = pick else {
            // Propagation already rejected every False rule; this is a cheap guard.
            let broken =
                self.csp.rules.iter().find(|r| {
                    self.active[r.index] && eval(&r.expr, &doms, self.csp) != Truth::True
                });
            if let Some(r) = broken {
                self.used[r.index] = true;
                return None;
            }
            return Some(doms);
        };
        let var = &vars[i];
        let order: Vec<usize> = match branch {
            Branch::Lex(prefer) => prefer[i].clone(),
            Branch::FailFirst => (0..var.size()).collect(),
            Branch::Prefer(sup) => {
                let (new, old): (Vec<usize>, Vec<usize>) =
                    (0..var.size()).partition(|&v| !sup[i][v]);
                new.into_iter().chain(old).collect()
            }
        };
        for v in order {
            if !has_bit(&doms[var.off..], v) {
                continue;
            }
            let mut next = doms.clone();
            next[var.off..var.off + var.words].fill(0);
            set_bit(&mut next[var.off..], v);
            if self.propagate(&mut next, self.csp.watch[i].clone())
                && let Some(found) = self.dfs(next, branch)
            {
                return Some(found);
            }
        }
        None
    }

    /// Removes every value that, with the other domains as they are, makes a
    /// rule False. Sound (never removes a value of a solution), not complete.
    fn propagate(&mut self, doms: &mut [u64], mut queue: Vec<usize>) -> bool {
        let csp = self.csp;
        let mut queued = vec![false; csp.rules.len()];
        queue.retain(|&r| self.active[r]);
        queue.iter().for_each(|&r| queued[r] = true);
        while let Some(r) = queue.pop() {
            queued[r] = false;
            let rule = &csp.rules[r];
            match eval(&rule.expr, doms, csp) {
                Truth::True => continue,
                Truth::False => {
                    self.used[r] = true;
                    return false;
                }
                Truth::Unknown => {}
            }
            for (&u, classes) in rule.vars.iter().zip(&rule.classes) {
                let var = &csp.vars[u];
                let range = var.off..var.off + var.words;
                if popcount(&doms[range.clone()]) <= 1 {
                    continue;
                }
                let saved: Vec<u64> = doms[range.clone()].to_vec();
                let mut kept = saved.clone();
                for class in classes {
                    if saved.iter().zip(class).all(|(d, c)| d & c == 0) {
                        continue;
                    }
                    for (w, (d, c)) in saved.iter().zip(class).enumerate() {
                        doms[var.off + w] = d & c;
                    }
                    if eval(&rule.expr, doms, csp) == Truth::False {
                        kept.iter_mut().zip(class).for_each(|(k, c)| *k &= !c);
                    }
                }
                doms[range.clone()].copy_from_slice(&kept);
                if kept != saved {
                    self.used[r] = true;
                    if popcount(&kept) == 0 {
                        return false;
                    }
                    for &other in &csp.watch[u] {
                        if other != r && self.active[other] && !queued[other] {
                            queued[other] = true;
                            queue.push(other);
                        }
                    }
                }
            }
        }
        true
    }
}

/// Three-valued evaluation on domains: an atom is True if every remaining
/// value satisfies it, False if none does.
pub(crate) fn eval_on(e: &CExpr, doms: &[u64], csp: &Csp) -> Truth {
    eval(e, doms, csp)
}

fn eval(e: &CExpr, doms: &[u64], csp: &Csp) -> Truth {
    match e {
        CExpr::Const(b) => truth(*b),
        CExpr::Atom(v, set) => {
            let var = &csp.vars[*v];
            let d = &doms[var.off..var.off + var.words];
            if d.iter().zip(set).all(|(d, s)| d & !s == 0) {
                Truth::True
            } else if d.iter().zip(set).all(|(d, s)| d & s == 0) {
                Truth::False
            } else {
                Truth::Unknown
            }
        }
        CExpr::Not(e) => match eval(e, doms, csp) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        },
        CExpr::And(es) => {
            let mut out = Truth::True;
            for e in es {
                match eval(e, doms, csp) {
                    Truth::False => return Truth::False,
                    Truth::Unknown => out = Truth::Unknown,
                    Truth::True => {}
                }
            }
            out
        }
        CExpr::Or(es) => {
            let mut out = Truth::False;
            for e in es {
                match eval(e, doms, csp) {
                    Truth::True => return Truth::True,
                    Truth::Unknown => out = Truth::Unknown,
                    Truth::False => {}
                }
            }
            out
        }
    }
}

fn truth(b: bool) -> Truth {
    if b { Truth::True } else { Truth::False }
}

fn set_bit(words: &mut [u64], v: usize) {
    words[v / 64] |= 1 << (v % 64);
}

fn has_bit(words: &[u64], v: usize) -> bool {
    words[v / 64] >> (v % 64) & 1 == 1
}

fn popcount(words: &[u64]) -> u32 {
    words.iter().map(|w| w.count_ones()).sum()
}

fn first_bit(words: &[u64]) -> Option<usize> {
    words
        .iter()
        .enumerate()
        .find(|(_, w)| **w != 0)
        .map(|(k, w)| k * 64 + w.trailing_zeros() as usize)
}
