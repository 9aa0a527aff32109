//! Minimal explanations: which explicit selections, and which rules, rule a
//! value (or a set of selections) out. Selections are found by QuickXplain
//! (Junker, 2004): split the candidates in halves and recurse, keeping a half
//! out whenever what is left already conflicts. The answer is subset-minimal
//! because adding constraints never turns an unsatisfiable restriction
//! satisfiable, and it takes about k·log(n/k) consistency tests for an answer
//! of k out of n candidates; with a compiled diagram each test is one pass
//! over it. Rules of a table model start from the core a traced refutation
//! names, which is nearly minimal already, and are minimised by deletion
//! (see [`table_rules`]); other models' rules by QuickXplain.

use std::collections::HashMap;

use crate::search::{Engine, Fixed};
use crate::table::{Refuter, TableEngine};

/// Cores larger than this are not minimised (each test would search a large
/// network); only a search out of budget gives one.
const QX_LIMIT: usize = 400;

/// Memoises satisfiability checks within one `configure` call: explaining
/// many values re-asks many of the same questions.
pub(crate) struct Session<'a> {
    pub engine: &'a Engine,
    /// Restriction -> `None` if satisfiable, else the rules that refute it.
    cache: HashMap<Vec<Option<usize>>, Option<Vec<usize>>>,
}

/// A minimal subset `X` of `cands` with `bad(background ∪ X)`, given
/// `bad(background ∪ cands)`; empty when `bad(background)` already.
pub(crate) fn quickxplain(
    bad: &mut dyn FnMut(&[usize]) -> bool,
    background: &[usize],
    cands: &[usize],
) -> Vec<usize> {
    let mut b = background.to_vec();
    if cands.is_empty() || bad(&b) {
        return Vec::new();
    }
    qx(bad, &mut b, false, cands)
}

fn qx(
    bad: &mut dyn FnMut(&[usize]) -> bool,
    b: &mut Vec<usize>,
    added: bool,
    c: &[usize],
) -> Vec<usize> {
    if added && bad(b) {
        return Vec::new();
    }
    if c.len() == 1 {
        return c.to_vec();
    }
    let (c1, c2) = c.split_at(c.len() / 2);
    let m = b.len();
    b.extend_from_slice(c1);
    let d2 = qx(bad, b, true, c2);
    b.truncate(m);
    b.extend_from_slice(&d2);
    let mut d1 = qx(bad, b, !d2.is_empty(), c1);
    b.truncate(m);
    d1.extend(d2);
    d1
}

impl<'a> Session<'a> {
    pub(crate) fn new(engine: &'a Engine) -> Session<'a> {
        Session {
            engine,
            cache: HashMap::new(),
        }
    }

    pub(crate) fn sat(&mut self, fixed: &Fixed) -> bool {
        if let Some(c) = &self.engine.compiled {
            return c.sat(fixed);
        }
        if self.engine.empty {
            return false;
        }
        self.refute(fixed).is_none()
    }

    fn refute(&mut self, fixed: &Fixed) -> Option<Vec<usize>> {
        if let Some(s) = self.cache.get(fixed) {
            return s.clone();
        }
        let all = vec![true; self.engine.constraints()];
        let s = self.engine.solve(fixed, &all).err();
        self.cache.insert(fixed.to_vec(), s.clone());
        s
    }

    /// Selections on variables no refuting rule mentions play no part in the
    /// refutation, so they can be dropped without a search.
    fn trim(&self, q: &mut [Option<usize>], core: &[usize], undecided: &[usize]) {
        for &j in undecided {
            if !core
                .iter()
                .any(|&r| self.engine.constraint_vars(r).contains(&j))
            {
                q[j] = None;
            }
        }
    }

    /// A minimal subset of `candidates` (variables fixed as in `fixed`) that,
    /// together with the variables in `keep_always`, is unsatisfiable.
    /// `fixed` restricted to `candidates ∪ keep_always` must be unsatisfiable.
    pub(crate) fn minimal_selections(
        &mut self,
        fixed: &Fixed,
        keep_always: &[usize],
        candidates: &[usize],
    ) -> Vec<usize> {
        if let Some(c) = &self.engine.compiled {
            let mut q: Vec<Option<usize>> = vec![None; fixed.len()];
            let mut bad = |set: &[usize]| {
                q.iter_mut().for_each(|x| *x = None);
                set.iter().for_each(|&j| q[j] = fixed[j]);
                !c.sat(&q)
            };
            // Often the value is out on its own (a dead feature): one pass.
            if candidates.is_empty() || bad(keep_always) {
                return Vec::new();
            }
            // When propagation refutes the selections, only those it went
            // through can be in a minimal subset: a much shorter list.
            let mut short: Vec<usize> = candidates.to_vec();
            if let Some(t) = &self.engine.table {
                let mut all: Vec<Option<usize>> = vec![None; fixed.len()];
                for &j in keep_always.iter().chain(candidates) {
                    all[j] = fixed[j];
                }
                if let Some((_, vars)) = t.refute_core(&all) {
                    short.retain(|j| vars.binary_search(j).is_ok());
                }
            }
            if short.is_empty() {
                // A refutation through none of the candidates would mean the
                // value is out alone, which the test above rules out.
                short = candidates.to_vec();
            }
            let mut kept = qx(&mut bad, &mut keep_always.to_vec(), false, &short);
            kept.sort_unstable();
            return kept;
        }
        let mut q: Vec<Option<usize>> = vec![None; fixed.len()];
        for &j in keep_always.iter().chain(candidates) {
            q[j] = fixed[j];
        }
        let Some(core) = self.refute(&q) else {
            debug_assert!(false, "the restriction must be unsatisfiable");
            return candidates.to_vec();
        };
        self.trim(&mut q, &core, candidates);
        let mut kept = Vec::new();
        for (k, &j) in candidates.iter().enumerate() {
            if q[j].is_none() {
                continue;
            }
            q[j] = None;
            match self.refute(&q) {
                None => {
                    q[j] = fixed[j];
                    kept.push(j);
                }
                // Still refuted without `j`: later candidates outside the new
                // refutation can go too (what is left stays unsatisfiable).
                Some(core) => self.trim(&mut q, &core, &candidates[k + 1..]),
            }
        }
        kept
    }

    /// A minimal set of rules that alone makes `fixed` unsatisfiable.
    pub(crate) fn minimal_rules(&mut self, fixed: &Fixed) -> Vec<usize> {
        if let Some(t) = &self.engine.table {
            return table_rules(t, fixed);
        }
        let n = self.engine.constraints();
        let all = vec![true; n];
        let core = match self.engine.solve(fixed, &all) {
            Ok(_) => return Vec::new(),
            Err(core) => core,
        };
        // The search reports the rules its refutation used; minimise within
        // them, testing each subset with only its rules.
        let engine = self.engine;
        let mut active = vec![false; n];
        let mut bad = |set: &[usize]| {
            active.iter_mut().for_each(|a| *a = false);
            set.iter().for_each(|&r| active[r] = true);
            engine.solve(fixed, &active).is_err()
        };
        let mut rules = quickxplain(&mut bad, &[], &core);
        rules.sort_unstable();
        rules
    }
}

/// Minimal rules of a table model. Conflicts are local: most are one table
/// with no tuple left for the fixed values, found by an indexed scan.
/// Otherwise propagation (and, when it is not enough, a conflict-directed
/// search) from the propagated model with no selections records which
/// tables each pruning went through: a small core, usually minimal or
/// nearly. It is minimised by deletion: each table in turn is left out, and
/// when the others still refute, only the tables that refutation used stay.
/// A tight core costs one test per table, where QuickXplain pays two; a loose
/// one shrinks by whole refutations at a time.
fn table_rules(t: &TableEngine, fixed: &Fixed) -> Vec<usize> {
    let n = t.cons.len();
    for v in (0..fixed.len()).filter(|&v| fixed[v].is_some()) {
        for &c in t.watching(v) {
            if t.forbids(c, fixed) {
                return vec![c];
            }
        }
    }
    let Some((mut core, _)) = t.refute_core(fixed) else {
        return Vec::new();
    };
    if core.len() > QX_LIMIT {
        // Only when search ran out of budget: name what it went through.
        return core;
    }
    let mut on = vec![false; n];
    let mut refuter = Refuter::new(t, fixed);
    let mut i = 0;
    while i < core.len() {
        let rest: Vec<usize> = core
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &r)| r)
            .collect();
        rest.iter().for_each(|&r| on[r] = true);
        let refuted = refuter.refuted_by(&rest, &on);
        rest.iter().for_each(|&r| on[r] = false);
        match refuted {
            // The tables before `i` are each needed, so every refutation of
            // a subset holding them uses them: they keep their places.
            Some(used) => core = used,
            None => i += 1,
        }
    }
    core
}
