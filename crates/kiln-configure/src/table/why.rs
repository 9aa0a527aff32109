//! Why the table engine pruned what it pruned, so that a wipe-out names a
//! small refuting core for the explanations to minimise.
//!
//! Propagation records one event per pruning (which constraint pruned which
//! variable) and per selection, as a conflict-driven SAT solver records its
//! implication graph: constant work per pruning, however large the model.
//! The reasons are assembled only on a wipe-out, by walking back from the
//! failing constraint: a pruning of `v` by `c` depends on `c` and on what the
//! other variables of `c` had lost *before* it; a selected variable depends on
//! its selection alone; a variable's losses before any query are its reasons
//! in the base (the propagated model with no selection).

use std::collections::HashMap;

use super::TCon;

/// Marks a selection event (no constraint has this id).
const SELECTED: u32 = u32::MAX;
/// The end of a variable's list of events.
const NONE: u32 = u32::MAX;

struct Event {
    var: u32,
    /// The constraint that pruned `var`, or [`SELECTED`].
    cause: u32,
    /// The variable's previous event, or [`NONE`].
    prev: u32,
}

/// The events of one query (and of the search's branches, undone on the way
/// back), over the base reasons.
pub(crate) struct Why<'a> {
    cons: &'a [TCon],
    /// Per variable, the constraints behind its losses in the base.
    base: &'a [Vec<u32>],
    events: Vec<Event>,
    /// Per variable (sparse), its latest event.
    last: HashMap<u32, u32>,
    /// After a wipe-out: the constraints and the selected variables that
    /// together refute the query.
    pub core: (Vec<usize>, Vec<usize>),
}

impl<'a> Why<'a> {
    pub(super) fn new(cons: &'a [TCon], base: &'a [Vec<u32>]) -> Why<'a> {
        Why {
            cons,
            base,
            events: Vec::new(),
            last: HashMap::new(),
            core: (Vec::new(), Vec::new()),
        }
    }

    pub(super) fn mark(&self) -> usize {
        self.events.len()
    }

    /// Forgets the events since `mark` (a search branch that failed).
    pub(super) fn undo(&mut self, mark: usize) {
        while self.events.len() > mark {
            let e = self.events.pop().expect("non-empty");
            if e.prev == NONE {
                self.last.remove(&e.var);
            } else {
                self.last.insert(e.var, e.prev);
            }
        }
    }

    fn push(&mut self, v: usize, cause: u32) {
        let at = self.events.len() as u32;
        let prev = self.last.insert(v as u32, at).unwrap_or(NONE);
        self.events.push(Event {
            var: v as u32,
            cause,
            prev,
        });
    }

    /// Per variable, the constraints behind all its losses (for a base).
    pub(super) fn into_rows(self, vars: usize) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); vars];
        let end = self.events.len() as u32;
        for &v in self.last.keys() {
            let mut acc = Vec::new();
            self.reasons(&mut acc, [(v, end)]);
            out[v as usize] = acc;
        }
        out
    }

    /// Adds to `acc` what each `(var, bound)` depends on through its events
    /// before `bound`: constraint ids, and `cons + v` for the selection of
    /// `v`. Sorted and without duplicates.
    fn reasons(&self, acc: &mut Vec<u32>, seeds: impl IntoIterator<Item = (u32, u32)>) {
        let n = self.cons.len() as u32;
        // Per variable, the bound below which its events are walked already.
        let mut done: HashMap<u32, u32> = HashMap::new();
        let mut stack: Vec<(u32, u32)> = seeds.into_iter().collect();
        while let Some((u, bound)) = stack.pop() {
            let walked = done.get(&u).copied();
            if walked.is_some_and(|w| w >= bound) {
                continue;
            }
            done.insert(u, bound);
            let mut at = self.last.get(&u).copied().unwrap_or(NONE);
            while at != NONE && at >= bound {
                at = self.events[at as usize].prev;
            }
            let mut selected = false;
            while at != NONE && walked.is_none_or(|w| at >= w) {
                let e = &self.events[at as usize];
                if e.cause == SELECTED {
                    acc.push(n + u);
                    selected = true;
                    break;
                }
                acc.push(e.cause);
                for &w in &self.cons[e.cause as usize].scope {
                    if w as u32 != u {
                        stack.push((w as u32, at));
                    }
                }
                at = e.prev;
            }
            if at == NONE && !selected {
                acc.extend_from_slice(self.base.get(u as usize).map_or(&[], Vec::as_slice));
            }
        }
        acc.sort_unstable();
        acc.dedup();
    }

    fn set_core(&mut self, seeds: &[(u32, u32)], extra: &[u32]) {
        let mut acc = extra.to_vec();
        self.reasons(&mut acc, seeds.iter().copied());
        let n = self.cons.len();
        let (mut cons, mut vars) = (Vec::new(), Vec::new());
        for &i in &acc {
            let i = i as usize;
            if i < n {
                cons.push(i);
            } else {
                vars.push(i - n);
            }
        }
        self.core = (cons, vars);
    }

    /// `v` is fixed by its selection, which alone explains its domain.
    pub(super) fn selected(&mut self, v: usize) {
        self.push(v, SELECTED);
    }

    /// `c` pruned `v`.
    pub(super) fn pruned(&mut self, c: usize, v: usize) {
        self.push(v, c as u32);
    }

    /// Why `v` has lost the values it lost (its own selection excluded).
    pub(super) fn fail_on_domain(&mut self, v: usize) {
        let end = self.events.len() as u32;
        self.set_core(&[(v as u32, end)], &[]);
    }

    /// Selecting a value of `v` that is already gone: what removed it.
    pub(super) fn fail_on(&mut self, v: usize) {
        let end = self.events.len() as u32;
        self.set_core(&[(v as u32, end)], &[(self.cons.len() + v) as u32]);
    }

    /// `c` has no tuple left over `scope`.
    pub(super) fn fail(&mut self, c: usize, scope: &[usize]) {
        let end = self.events.len() as u32;
        let seeds: Vec<(u32, u32)> = scope.iter().map(|&w| (w as u32, end)).collect();
        self.set_core(&seeds, &[c as u32]);
    }
}
