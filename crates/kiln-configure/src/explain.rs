//! Minimal explanations: which explicit selections, and which rules, rule a
//! value (or a set of selections) out. Deletion-based: drop one element at a
//! time and keep it dropped if what is left is still unsatisfiable, which
//! yields a subset-minimal answer because adding constraints never turns an
//! unsatisfiable restriction satisfiable.

use std::collections::HashMap;

use crate::search::{Engine, Fixed};

/// Memoises satisfiability checks within one `configure` call: explaining
/// many values re-asks many of the same questions.
pub(crate) struct Session<'a> {
    pub engine: &'a Engine,
    /// Restriction -> `None` if satisfiable, else the rules that refute it.
    cache: HashMap<Vec<Option<usize>>, Option<Vec<usize>>>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(engine: &'a Engine) -> Session<'a> {
        Session {
            engine,
            cache: HashMap::new(),
        }
    }

    pub(crate) fn sat(&mut self, fixed: &Fixed) -> bool {
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
        let n = self.engine.constraints();
        let all = vec![true; n];
        let core = match self.engine.solve(fixed, &all) {
            Ok(_) => return Vec::new(),
            Err(core) => core,
        };
        // The search reports the rules its refutation used; minimise within them.
        let mut active = vec![false; n];
        core.iter().for_each(|&r| active[r] = true);
        for &r in &core {
            active[r] = false;
            if self.engine.solve(fixed, &active).is_ok() {
                active[r] = true;
            }
        }
        (0..n).filter(|&r| active[r]).collect()
    }
}
