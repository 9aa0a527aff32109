//! Why the table engine pruned what it pruned: per variable, the constraints
//! and selections its domain depends on, so that a wipe-out names a small
//! refuting core for the explanations to minimise.

/// Reasons of prunings, per variable: a sorted set of constraints (ids
/// `0..cons`) and of selections (id `cons + v` for the selection of `v`).
/// Sparse, because a large model has hundreds of thousands of constraints
/// and a reason names a handful. Rows start as those of `base` (the reasons
/// with no selection) and are copied on first change, so a query pays only
/// for what it touches.
pub(crate) struct Why<'a> {
    cons: usize,
    base: &'a [Vec<u32>],
    rows: std::collections::HashMap<usize, Vec<u32>>,
    /// While searching: each row's previous state, to undo on backtrack.
    pub(super) trailing: bool,
    trail: Vec<(usize, Option<Vec<u32>>)>,
    /// After a wipe-out: the constraints and the selected variables that
    /// together refute the query.
    pub core: (Vec<usize>, Vec<usize>),
}

impl<'a> Why<'a> {
    pub(super) fn new(cons: usize, base: &'a [Vec<u32>]) -> Why<'a> {
        Why {
            cons,
            base,
            rows: Default::default(),
            trailing: false,
            trail: Vec::new(),
            core: (Vec::new(), Vec::new()),
        }
    }

    pub(super) fn mark(&self) -> usize {
        self.trail.len()
    }

    pub(super) fn undo(&mut self, mark: usize) {
        while self.trail.len() > mark {
            let (v, old) = self.trail.pop().expect("non-empty");
            match old {
                Some(r) => self.rows.insert(v, r),
                None => self.rows.remove(&v),
            };
        }
    }

    /// All rows, per variable (for a base).
    pub(super) fn into_rows(self, vars: usize) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); vars];
        for (v, r) in self.rows {
            out[v] = r;
        }
        out
    }

    fn row(&self, v: usize) -> &[u32] {
        match self.rows.get(&v) {
            Some(r) => r,
            None => self.base.get(v).map_or(&[], Vec::as_slice),
        }
    }

    fn set_row(&mut self, v: usize, row: Vec<u32>) {
        let old = self.rows.insert(v, row);
        if self.trailing {
            self.trail.push((v, old));
        }
    }

    /// The union of the rows of `scope` (but `skip`) and `extra`, sorted.
    fn union(&self, scope: &[usize], skip: Option<usize>, extra: &[u32]) -> Vec<u32> {
        let mut acc: Vec<u32> = extra.to_vec();
        for &u in scope {
            if Some(u) != skip {
                acc.extend_from_slice(self.row(u));
            }
        }
        acc.sort_unstable();
        acc.dedup();
        acc
    }

    /// `v` is fixed by its selection, which alone explains its domain.
    pub(super) fn selected(&mut self, v: usize) {
        self.set_row(v, vec![(self.cons + v) as u32]);
    }

    /// `c` pruned `v`: what `v` now depends on grows by `c` and by what the
    /// other variables of `c` depend on.
    pub(super) fn pruned(&mut self, c: usize, v: usize, scope: &[usize]) {
        let mut extra = self.row(v).to_vec();
        extra.push(c as u32);
        let row = self.union(scope, Some(v), &extra);
        self.set_row(v, row);
    }

    fn set_core(&mut self, acc: &[u32]) {
        let (mut cons, mut vars) = (Vec::new(), Vec::new());
        for &i in acc {
            let i = i as usize;
            if i < self.cons {
                cons.push(i);
            } else {
                vars.push(i - self.cons);
            }
        }
        self.core = (cons, vars);
    }

    /// Why `v` has lost the values it lost (its own selection excluded).
    pub(super) fn fail_on_domain(&mut self, v: usize) {
        let acc = self.row(v).to_vec();
        self.set_core(&acc);
    }

    /// Selecting a value of `v` that is already gone: what removed it.
    pub(super) fn fail_on(&mut self, v: usize) {
        let acc = self.union(&[v], None, &[(self.cons + v) as u32]);
        self.set_core(&acc);
    }

    pub(super) fn fail(&mut self, c: usize, scope: &[usize]) {
        let acc = self.union(scope, None, &[c as u32]);
        self.set_core(&acc);
    }
}
