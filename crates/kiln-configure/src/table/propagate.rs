//! Propagation: generalized arc consistency on the queued constraints and
//! whatever their prunings wake up. Clauses (a DIMACS clause forbids one
//! tuple) are unit-propagated: binary ones through implication lists per
//! value, longer ones from one flat array; other tables by simple tabular
//! reduction (supports) or tuple counting (conflicts), cheapest first.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::why::Why;
use super::{NOT_CLAUSE, TableEngine};

/// The propagation queue: clauses on a stack, tables by the cost of their
/// revision, each constraint at most once.
struct Pending {
    /// Variables pruned (and by which constraint), not yet followed up.
    changed: Vec<(usize, usize)>,
    queued: ConSet,
    clauses: Vec<usize>,
    heap: BinaryHeap<Reverse<(usize, usize)>>,
}

impl Drop for Pending {
    /// Clears what is still queued (after a wipe-out) and hands the words
    /// back for the next propagation on this thread.
    fn drop(&mut self) {
        for c in std::mem::take(&mut self.clauses) {
            self.queued.clear(c);
        }
        for Reverse((_, c)) in std::mem::take(&mut self.heap) {
            self.queued.clear(c);
        }
        QUEUED.set(std::mem::take(&mut self.queued.0));
    }
}

thread_local! {
    /// `Pending::queued`'s words, all clear, kept for the next propagation:
    /// a search propagates at every node, and clearing a bit per constraint
    /// of a large model each time would cost more than the propagation.
    static QUEUED: std::cell::Cell<Vec<u64>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Pending {
    fn new(cons: usize) -> Pending {
        let mut words = QUEUED.take();
        if words.len() < cons.div_ceil(64) {
            words.resize(cons.div_ceil(64), 0);
        }
        Pending {
            changed: Vec::new(),
            queued: ConSet(words),
            clauses: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    fn push(&mut self, t: &TableEngine, d: &[u64], c: usize) {
        if !self.queued.insert(c) {
            return;
        }
        if t.clause(c).is_some() {
            self.clauses.push(c);
        } else {
            self.heap.push(Reverse((t.scan_cost(d, c), c)));
        }
    }

    fn pop(&mut self) -> Option<usize> {
        let c = match self.clauses.pop() {
            Some(c) => c,
            None => self.heap.pop()?.0.1,
        };
        self.queued.clear(c);
        Some(c)
    }
}

/// A set of constraints, one bit each: a large model has hundreds of
/// thousands of constraints and a search propagates at every node.
pub(crate) struct ConSet(Vec<u64>);

impl ConSet {
    pub(crate) fn new(n: usize) -> ConSet {
        ConSet(vec![0u64; n.div_ceil(64)])
    }
    pub(crate) fn get(&self, c: usize) -> bool {
        self.0[c / 64] >> (c % 64) & 1 == 1
    }
    pub(crate) fn set(&mut self, c: usize) {
        self.0[c / 64] |= 1 << (c % 64);
    }
    /// Adds `c`; false when it was there already.
    pub(crate) fn insert(&mut self, c: usize) -> bool {
        let fresh = !self.get(c);
        self.set(c);
        fresh
    }
    pub(crate) fn clear(&mut self, c: usize) {
        self.0[c / 64] &= !(1 << (c % 64));
    }
}

impl TableEngine {
    /// Generalized arc consistency on the queued constraints and whatever
    /// their prunings wake up. `used` marks every constraint that pruned or
    /// failed: those alone yield the same propagation.
    pub(crate) fn propagate(
        &self,
        d: &mut [u64],
        queue: Vec<usize>,
        active: &[bool],
        used: &mut ConSet,
    ) -> bool {
        self.propagate_why(d, queue, active, used, None)
    }

    /// [`TableEngine::propagate`], optionally recording why: `why.rows[v]`
    /// is the set of constraints whose prunings led to `v`'s domain, and on
    /// a wipe-out `why.core` the constraints that together refute the query.
    pub(super) fn propagate_why(
        &self,
        d: &mut [u64],
        mut queue: Vec<usize>,
        active: &[bool],
        used: &mut ConSet,
        mut why: Option<&mut Why<'_>>,
    ) -> bool {
        // Cheapest revision first (fewest tuples to scan): conflicts are
        // usually local to the fixed variables, whose tuples are indexed, so
        // a wipe-out is met before the expensive tables are scanned at all.
        // Clauses cost one tuple each: they wait on a plain stack, ahead
        // of the tables.
        let mut q = Pending::new(self.cons.len());
        queue.retain(|&c| active[c]);
        for c in queue {
            q.push(self, d, c);
        }
        let mut keep: Vec<Vec<u64>> = Vec::new();
        loop {
            if let Some((v, c)) = q.changed.pop() {
                self.wake(d, v, c, active, &mut q);
                // Binary clauses that forbid `v`'s only value with another.
                let Some(x) = self.single(d, v) else { continue };
                for &(w, y, o) in &self.binary_at[self.lit[v] + x] {
                    let (w, y, o) = (w as usize, y as usize, o as usize);
                    if o == c || !active[o] || !self.has(d, w, y) {
                        continue; // satisfied (or not in play)
                    }
                    if !self.forbid(d, o, (w, y), used, why.as_deref_mut(), &mut q) {
                        return false;
                    }
                }
                continue;
            }
            let Some(c) = q.pop() else { break };
            if let Some(lits) = self.clause(c) {
                // One forbidden tuple (a clause): unit propagation, with no
                // allocation. Nothing to do while it is already satisfied
                // (a position lost its tuple value) or two positions are
                // still open.
                let mut open = None;
                let mut idle = false;
                for &(v, x) in lits {
                    let (v, x) = (v as usize, x as usize);
                    if !self.has(d, v, x) {
                        idle = true; // satisfied
                        break;
                    }
                    if self.single(d, v) != Some(x) {
                        if open.is_some() {
                            idle = true; // two positions still open
                            break;
                        }
                        open = Some((v, x));
                    }
                }
                if idle {
                    continue;
                }
                // The open position loses its value; with none open, every
                // position holds its forbidden value alone and forbidding
                // any of them is the wipe-out.
                let (v, x) = open.unwrap_or((lits[0].0 as usize, lits[0].1 as usize));
                if !self.forbid(d, c, (v, x), used, why.as_deref_mut(), &mut q) {
                    return false;
                }
                continue;
            }
            let con = &self.cons[c];
            let a = con.scope.len();
            if a == 0 {
                // A constant rule: `positive` means it can never hold.
                if con.positive {
                    used.set(c);
                    if let Some(w) = why.as_deref_mut() {
                        w.fail(c, &[]);
                    }
                    return false;
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
                    used.set(c);
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
                    used.set(c);
                    if let Some(w) = why.as_deref_mut() {
                        w.pruned(c, v);
                    }
                    if d[range].iter().all(|&w| w == 0) {
                        if let Some(w) = why.as_deref_mut() {
                            w.fail(c, &con.scope);
                        }
                        return false;
                    }
                    q.changed.push((v, c));
                }
            }
        }
        true
    }

    /// Clause `c` takes `x` from `v` (unit propagation) and queues what
    /// that changes; false, with the reason recorded, when `x` was all `v`
    /// had left.
    fn forbid(
        &self,
        d: &mut [u64],
        c: usize,
        (v, x): (usize, usize),
        used: &mut ConSet,
        why: Option<&mut Why<'_>>,
        q: &mut Pending,
    ) -> bool {
        used.set(c);
        if self.single(d, v) == Some(x) {
            if let Some(why) = why {
                why.fail(c, &self.cons[c].scope);
            }
            return false;
        }
        d[self.off[v] + x / 64] &= !(1 << (x % 64));
        if let Some(why) = why {
            why.pruned(c, v);
        }
        q.changed.push((v, c));
        true
    }

    /// Queues the active constraints (but `c`) a change of `v` may wake:
    /// its tables, and, when `v` has one value left, the clauses of three or
    /// more variables that forbid that value (binary ones are applied on the
    /// spot by `propagate_why`). A clause whose value at `v` is gone is satisfied, and one
    /// where `v` still has two values has nothing new to propagate.
    fn wake(&self, d: &[u64], v: usize, c: usize, active: &[bool], q: &mut Pending) {
        for &o in &self.tables_on[v] {
            let o = o as usize;
            if o != c && active[o] && q.queued.insert(o) {
                q.heap.push(Reverse((self.scan_cost(d, o), o)));
            }
        }
        if let Some(x) = self.single(d, v) {
            for &o in &self.clause_at[self.lit[v] + x] {
                let o = o as usize;
                if o != c && active[o] && q.queued.insert(o) {
                    q.clauses.push(o);
                }
            }
        }
    }

    /// What fixing `v` to `a` (from a propagated state) may wake: `v`'s
    /// tables and the clauses that forbid `a` there (every other clause on
    /// `v` is now satisfied).
    pub(super) fn woken(&self, v: usize, a: usize) -> impl Iterator<Item = usize> + '_ {
        let tables = self.tables_on[v].iter();
        let clauses = self.clause_at[self.lit[v] + a].iter();
        let binary = self.binary_at[self.lit[v] + a].iter().map(|(_, _, c)| c);
        tables.chain(clauses).chain(binary).map(|&c| c as usize)
    }

    /// The literals `(variable, forbidden value)` of constraint `c` when it
    /// is a clause (forbids one tuple).
    pub(super) fn clause(&self, c: usize) -> Option<&[(u32, u32)]> {
        let (start, end) = self.clause_span[c];
        (start != NOT_CLAUSE).then(|| &self.clause_lits[start as usize..end as usize])
    }
}
