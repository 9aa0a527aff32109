//! Clauses the other clauses imply, found by reverse unit propagation.
//!
//! Feature models in CNF list many clauses that the others already imply
//! (resolvents of the tree's clauses with the cross-tree constraints'). They
//! change no configuration, but each ties its variables together, so the
//! compiler would see fewer independent components and a worse elimination
//! order than the model's real structure. A clause `C` is implied when
//! assuming every one of its literals false and propagating the remaining
//! clauses (unit propagation, two watched literals) reaches a conflict.
//! Clauses are tried from the last to the first, each against those still
//! kept, so the kept set always implies every dropped clause.
//!
//! Only clauses over two-valued variables (DIMACS, or a table forbidding
//! one tuple of 0/1 variables) take part; any other constraint is left alone
//! and merely not used to prove anything, which keeps every answer sound.

use crate::table::TableEngine;

/// Per constraint of `t`: implied by the clauses kept (never true for a
/// non-clause). All false when the clauses alone are unsatisfiable.
pub(crate) fn implied_clauses(t: &TableEngine) -> Vec<bool> {
    let n = t.cons.len();
    let mut out = vec![false; n];
    // Literal 2v + x: variable v takes value x. Clause c forbids its tuple,
    // i.e. some position k takes the other value: literal 2v + (1 - t_k).
    let mut clauses: Vec<(usize, Vec<u32>)> = Vec::new();
    for (c, con) in t.cons.iter().enumerate() {
        if !con.is_clause() || con.scope.iter().any(|&v| t.sizes[v] != 2) {
            continue;
        }
        let lits = con
            .scope
            .iter()
            .zip(con.tuples())
            .map(|(&v, &x)| 2 * v as u32 + (1 - x.min(1)))
            .collect();
        clauses.push((c, lits));
    }
    if clauses.is_empty() {
        return out;
    }
    let mut up = Propagator::new(t.sizes.len(), &clauses);
    if !up.settle_root() {
        return out;
    }
    // The root's assignments may be used in every test only if no tested
    // clause helped derive them: the clauses that did are kept.
    let mut derives_root = vec![false; clauses.len()];
    for &l in &up.trail {
        if let Some(c) = up.reason[(l / 2) as usize] {
            derives_root[c as usize] = true;
        }
    }
    for k in (0..clauses.len()).rev() {
        if clauses[k].1.len() < 2 || derives_root[k] {
            continue;
        }
        up.off[k] = true;
        let implied = up.refutes_negation(k);
        up.off[k] = implied;
        out[clauses[k].0] = implied;
    }
    out
}

/// Unit propagation with two watched literals over boolean clauses.
struct Propagator {
    lits: Vec<Vec<u32>>,
    /// Clauses left out (being tested, or found implied).
    off: Vec<bool>,
    /// Per literal, the clauses watching it (their first two literals).
    watches: Vec<Vec<u32>>,
    /// Per variable: 0 or 1 once assigned, 2 while free.
    value: Vec<u8>,
    /// Per variable, the clause whose propagation assigned it (as of the
    /// last time it was assigned; read for the root's assignments).
    reason: Vec<Option<u32>>,
    trail: Vec<u32>,
    /// Assignments before `head` have been propagated.
    head: usize,
}

impl Propagator {
    fn new(vars: usize, clauses: &[(usize, Vec<u32>)]) -> Propagator {
        let mut watches = vec![Vec::new(); 2 * vars];
        let lits: Vec<Vec<u32>> = clauses.iter().map(|(_, l)| l.clone()).collect();
        for (k, l) in lits.iter().enumerate() {
            if l.len() < 2 {
                continue; // a unit clause is assigned at the root, not watched
            }
            for &x in l.iter().take(2) {
                watches[x as usize].push(k as u32);
            }
        }
        Propagator {
            off: vec![false; lits.len()],
            lits,
            watches,
            value: vec![2; vars],
            reason: vec![None; vars],
            trail: Vec::new(),
            head: 0,
        }
    }

    fn is_true(&self, l: u32) -> bool {
        self.value[(l / 2) as usize] == (l & 1) as u8
    }

    fn is_false(&self, l: u32) -> bool {
        self.value[(l / 2) as usize] == 1 - (l & 1) as u8
    }

    /// Makes literal `l` true; false if it already is false.
    fn assign(&mut self, l: u32) -> bool {
        if self.is_true(l) {
            return true;
        }
        if self.is_false(l) {
            return false;
        }
        self.value[(l / 2) as usize] = (l & 1) as u8;
        self.trail.push(l);
        true
    }

    /// The unit clauses and what they imply, kept for every later test;
    /// false when the clauses conflict at the root.
    fn settle_root(&mut self) -> bool {
        for k in 0..self.lits.len() {
            if self.lits[k].len() == 1 && !self.assign(self.lits[k][0]) {
                return false;
            }
        }
        self.propagate()
    }

    /// Assumes every literal of clause `k` false and propagates the clauses
    /// that are on; undoes it all. True on a conflict (or when the clause
    /// already holds at the root).
    fn refutes_negation(&mut self, k: usize) -> bool {
        let root = self.trail.len();
        let mut conflict = false;
        for i in 0..self.lits[k].len() {
            let l = self.lits[k][i];
            if !self.assign(l ^ 1) {
                conflict = true; // the clause holds at the root
                break;
            }
        }
        let conflict = conflict || !self.propagate();
        for &l in &self.trail[root..] {
            self.value[(l / 2) as usize] = 2;
        }
        self.trail.truncate(root);
        self.head = root;
        conflict
    }

    /// Propagates the trail from `head`; false on a conflict.
    fn propagate(&mut self) -> bool {
        while self.head < self.trail.len() {
            let falsified = self.trail[self.head] ^ 1;
            self.head += 1;
            let mut ws = std::mem::take(&mut self.watches[falsified as usize]);
            let mut i = 0;
            let mut ok = true;
            while i < ws.len() {
                let c = ws[i] as usize;
                if self.off[c] {
                    i += 1;
                    continue;
                }
                let lits = &mut self.lits[c];
                // Keep the falsified literal second.
                if lits[0] == falsified {
                    lits.swap(0, 1);
                }
                let other = lits[0];
                if self.value[(other / 2) as usize] == (other & 1) as u8 {
                    i += 1; // satisfied by the other watch
                    continue;
                }
                // A new literal to watch: not false.
                let found = (2..lits.len()).find(|&j| {
                    let l = lits[j];
                    self.value[(l / 2) as usize] != 1 - (l & 1) as u8
                });
                if let Some(j) = found {
                    lits.swap(1, j);
                    let new = lits[1];
                    self.watches[new as usize].push(c as u32);
                    ws.swap_remove(i);
                    continue;
                }
                // Unit or conflict on `other`.
                i += 1;
                if !self.assign(other) {
                    ok = false;
                    break;
                }
                self.reason[(other / 2) as usize] = Some(c as u32);
            }
            self.watches[falsified as usize] = ws;
            if !ok {
                return false;
            }
        }
        true
    }
}
