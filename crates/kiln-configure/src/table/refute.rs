//! Refutations that name their reasons: which constraints and selections
//! together rule a restriction out (propagation, then a conflict-directed
//! search), and tests of a restriction against a few constraints at a time,
//! which the explanations minimise with.

use super::TableEngine;
use super::propagate::ConSet;
use super::why::Why;
use crate::search::Fixed;

/// Search nodes an explanation may spend before it settles for every
/// constraint (far more than real models need).
const SEARCH_BUDGET: usize = 200_000;

/// Tests of one restriction against a few constraints at a time (`set`,
/// flagged in `active`): [`TableEngine::solve`] for a handful of the
/// constraints of a large model, paying for those alone. A test touches only
/// the variables of its constraints, so it starts from domains kept between
/// tests and puts back just those variables after.
pub(crate) struct Refuter<'t> {
    t: &'t TableEngine,
    /// Every value, but the fixed variables' own.
    start: Vec<u64>,
    d: Vec<u64>,
    used: ConSet,
}

impl<'t> Refuter<'t> {
    pub(crate) fn new(t: &'t TableEngine, fixed: &Fixed) -> Refuter<'t> {
        let start = t.full(fixed);
        Refuter {
            t,
            d: start.clone(),
            start,
            used: ConSet::new(t.cons.len()),
        }
    }

    /// `None` when the constraints of `set` allow the restriction; else
    /// those of them the refutation used (in `set`'s order), which alone
    /// refute it too.
    pub(crate) fn refuted_by(&mut self, set: &[usize], active: &[bool]) -> Option<Vec<usize>> {
        let t = self.t;
        let mut vars: Vec<usize> = set
            .iter()
            .flat_map(|&c| t.cons[c].scope.iter().copied())
            .collect();
        vars.sort_unstable();
        vars.dedup();
        let refuted = !t.propagate(&mut self.d, set.to_vec(), active, &mut self.used)
            || !t.dfs_among(&mut self.d, &vars, active, &mut self.used);
        let used = refuted.then(|| set.iter().copied().filter(|&c| self.used.get(c)).collect());
        for &c in set {
            self.used.clear(c);
        }
        for &v in &vars {
            let range = t.off[v]..t.off[v] + t.words[v];
            self.d[range.clone()].copy_from_slice(&self.start[range]);
        }
        used
    }
}

/// The explaining search's state, shared by every node.
struct Cbj<'a> {
    order: Frontier,
    active: &'a [bool],
    used: &'a mut ConSet,
    /// Decisions left before the search gives up.
    budget: usize,
}

/// The order in which the explaining search decides variables: breadth
/// first from the variables the query changed (against the base domains),
/// through the constraints' scopes, grown only as far as the search gets.
/// A refutation is local to what the query touched, so deciding near it
/// meets the wipe-out soonest, where deciding by index would first wander
/// through unrelated parts of a large model. Variables it never reaches
/// share no constraint with anything the query or a decision changed: their
/// part of the model is as in the base, so when the order runs out the
/// search has found a solution.
struct Frontier {
    order: Vec<usize>,
    /// `order[..expanded]` have had their neighbours added.
    expanded: usize,
    seen_var: Vec<bool>,
    seen_con: ConSet,
}

impl Frontier {
    fn new(vars: usize, cons: usize, seeds: impl Iterator<Item = usize>) -> Frontier {
        let mut seen_var = vec![false; vars];
        let order: Vec<usize> = seeds.inspect(|&v| seen_var[v] = true).collect();
        Frontier {
            order,
            expanded: 0,
            seen_var,
            seen_con: ConSet::new(cons),
        }
    }

    /// The `k`-th variable in the order, `None` past the last one reachable.
    fn get(&mut self, t: &TableEngine, k: usize) -> Option<usize> {
        while self.order.len() <= k {
            let &v = self.order.get(self.expanded)?;
            self.expanded += 1;
            for &c in &t.watch[v] {
                if self.seen_con.get(c) {
                    continue;
                }
                self.seen_con.set(c);
                for &u in &t.cons[c].scope {
                    if !self.seen_var[u] {
                        self.seen_var[u] = true;
                        self.order.push(u);
                    }
                }
            }
        }
        Some(self.order[k])
    }
}

impl TableEngine {
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
        let mut why = Why::new(&self.cons, rows);
        let mut queue = Vec::new();
        for (v, f) in fixed.iter().enumerate() {
            let Some(a) = *f else { continue };
            if !self.has(&d, v, a) {
                // Gone with no selection at all: why it went is the refutation.
                why.fail_on(v);
                return Some(why.core);
            }
            self.fix(&mut d, v, a);
            why.selected(v);
            queue.extend(self.woken(v, a));
        }
        let (active, mut used) = (vec![true; n], ConSet::new(n));
        if !self.propagate_why(&mut d, queue, &active, &mut used, Some(&mut why)) {
            return Some(why.core);
        }
        // Propagation alone does not refute it: search, explaining every
        // failure and jumping back over decisions a failure does not need.
        let changed = (0..self.sizes.len()).filter(|&v| self.dom(&d, v) != self.dom(base, v));
        let mut search = Cbj {
            order: Frontier::new(self.sizes.len(), n, changed),
            active: &active,
            used: &mut used,
            budget: SEARCH_BUDGET,
        };
        match self.cbj(d, 0, &mut search, &mut why) {
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
    /// discharged on the way back). `Err(None)` when out of budget. It
    /// decides the open variables in `search.order` from position `pos`.
    #[allow(clippy::type_complexity)]
    fn cbj(
        &self,
        d: Vec<u64>,
        pos: usize,
        search: &mut Cbj<'_>,
        why: &mut Why<'_>,
    ) -> Result<(), Option<(Vec<usize>, Vec<usize>)>> {
        let mut k = pos;
        let y = loop {
            match search.order.get(self, k) {
                None => return Ok(()),
                Some(v) if !self.watch[v].is_empty() && self.count(&d, v) > 1 => break v,
                Some(_) => k += 1,
            }
        };
        let (mut cons, mut vars): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        for a in 0..self.sizes[y] {
            if !self.has(&d, y, a) {
                continue;
            }
            if search.budget == 0 {
                return Err(None);
            }
            search.budget -= 1;
            let mut d2 = d.clone();
            // The reasons are undone on the way back (a trail, not a copy
            // per level).
            let mark = why.mark();
            self.fix(&mut d2, y, a);
            why.selected(y);
            let core = if self.propagate_why(
                &mut d2,
                self.woken(y, a).collect(),
                search.active,
                search.used,
                Some(&mut *why),
            ) {
                match self.cbj(d2, k + 1, search, why) {
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

    /// Depth-first search for a solution of the active constraints, which
    /// mention only `vars`: propagation changes nothing else, so a failed
    /// branch restores those variables' words instead of copying every
    /// domain (a large model has thousands of variables, a test a few).
    fn dfs_among(&self, d: &mut [u64], vars: &[usize], active: &[bool], used: &mut ConSet) -> bool {
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
            if self.propagate(d, self.woken(v, a).collect(), active, used)
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
}
