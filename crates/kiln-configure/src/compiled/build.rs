//! The compiler of the diagram: a search with generalized arc consistency
//! that splits the open variables into components, compiles each once
//! (cached by what determines it) and decides variables in reverse min-fill
//! order (see the parent module for the whole picture).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasherDefault;

use super::{Compiled, Edge, NONE, Node, TRUE, TooBig};
use crate::table::TableEngine;

/// Multiplicative hashing over u64 words (SipHash is needlessly slow here).
#[derive(Default, Clone, Copy)]
struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(26) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
}

type Cache = HashMap<Vec<u64>, u32, BuildHasherDefault<WordHasher>>;

pub(super) struct Builder<'a> {
    t: &'a TableEngine,
    limit: usize,
    off: Vec<usize>,
    words: Vec<usize>,
    dom: Vec<u64>,
    card: Vec<u32>,
    /// Undo logs: (word index, old word), (var, old cardinality), (constraint, old live length).
    trail_dom: Vec<(u32, u64)>,
    trail_card: Vec<(u32, u32)>,
    trail_live: Vec<(u32, u32)>,
    /// Per constraint, its tuples as rows (`arity` values each, copied so
    /// the scan reads memory in order); the first `live_len` rows are valid
    /// in the current domains.
    live: Vec<Vec<u32>>,
    live_len: Vec<u32>,
    /// Per variable, the stamp of its last change; per constraint position,
    /// the stamp it last saw (STR2). Both undone on backtrack.
    modified: Vec<u64>,
    last: Vec<u64>,
    last_off: Vec<usize>,
    clock: u64,
    trail_mod: Vec<(u32, u64)>,
    trail_last: Vec<(u32, u64)>,
    watch: Vec<Vec<u32>>,
    /// Branching priority: higher first.
    prio: Vec<u32>,
    queue: Vec<u32>,
    queued: Vec<bool>,
    /// Scratch: per-var support words, per-value counters.
    scratch: Vec<u64>,
    counts: Vec<u64>,
    stamp: Vec<u32>,
    cstamp: Vec<u32>,
    epoch: u32,
    cache: Cache,
    /// (var, domain) -> free node.
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    kids: Vec<u32>,
    lits: Vec<(u32, u32)>,
    /// Dead constraint with an empty scope.
    never: bool,
    /// Clauses the others imply (`implied.rs`): left out of propagation,
    /// decomposition and the branching order.
    implied: Vec<bool>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(t: &'a TableEngine, limit: usize) -> Builder<'a> {
        let n = t.sizes.len();
        let mut off = Vec::with_capacity(n);
        let mut words = Vec::with_capacity(n);
        let mut total = 0;
        for &s in &t.sizes {
            off.push(total);
            let w = s.div_ceil(64).max(1);
            words.push(w);
            total += w;
        }
        let mut dom = vec![0u64; total];
        for (v, &s) in t.sizes.iter().enumerate() {
            for a in 0..s {
                dom[off[v] + a / 64] |= 1 << (a % 64);
            }
        }
        let mut watch = vec![Vec::new(); n];
        let mut never = false;
        let implied = crate::implied::implied_clauses(t);
        for (c, con) in t.cons.iter().enumerate() {
            if con.scope.is_empty() && con.is_positive() {
                never = true;
            }
            if implied[c] {
                continue;
            }
            for &v in &con.scope {
                watch[v].push(c as u32);
            }
        }
        let live: Vec<Vec<u32>> = t.cons.iter().map(|c| c.tuples().to_vec()).collect();
        let live_len = t
            .cons
            .iter()
            .map(|c| c.tuples().len().checked_div(c.scope.len()).unwrap_or(0) as u32)
            .collect();
        let max_words = words.iter().copied().max().unwrap_or(1);
        let mut last_off = Vec::with_capacity(t.cons.len());
        let mut nlast = 0;
        for c in &t.cons {
            last_off.push(nlast);
            nlast += c.scope.len();
        }
        let max_arity = t.cons.iter().map(|c| c.scope.len()).max().unwrap_or(0);
        let max_size = t.sizes.iter().copied().max().unwrap_or(0);
        Builder {
            t,
            limit,
            card: t.sizes.iter().map(|&s| s as u32).collect(),
            prio: priorities(t, &implied),
            off,
            words,
            dom,
            trail_dom: Vec::new(),
            trail_card: Vec::new(),
            trail_live: Vec::new(),
            live,
            live_len,
            // Every position starts unseen: stamp 1 differs from 0.
            modified: vec![1; n],
            last: vec![0; nlast],
            last_off,
            clock: 1,
            trail_mod: Vec::new(),
            trail_last: Vec::new(),
            watch,
            queue: Vec::new(),
            queued: vec![false; t.cons.len()],
            scratch: vec![0; max_words * max_arity.max(1)],
            counts: vec![0; max_size.max(1) * max_arity.max(1)],
            stamp: vec![0; n],
            cstamp: vec![0; t.cons.len()],
            epoch: 0,
            cache: Cache::default(),
            nodes: vec![Node {
                var: NONE,
                start: 0,
                end: 0,
            }],
            edges: Vec::new(),
            kids: Vec::new(),
            lits: Vec::new(),
            never,
            implied,
        }
    }

    fn has(&self, v: usize, a: usize) -> bool {
        self.dom[self.off[v] + a / 64] >> (a % 64) & 1 == 1
    }

    fn value(&self, v: usize) -> u32 {
        let w = &self.dom[self.off[v]..self.off[v] + self.words[v]];
        let k = w.iter().position(|&x| x != 0).unwrap_or(0);
        (k * 64 + w[k].trailing_zeros() as usize) as u32
    }

    fn marks(&self) -> [usize; 5] {
        [
            self.trail_dom.len(),
            self.trail_card.len(),
            self.trail_live.len(),
            self.trail_mod.len(),
            self.trail_last.len(),
        ]
    }

    fn undo(&mut self, m: [usize; 5]) {
        while self.trail_mod.len() > m[3] {
            let (v, s) = self.trail_mod.pop().expect("non-empty");
            self.modified[v as usize] = s;
        }
        while self.trail_last.len() > m[4] {
            let (i, s) = self.trail_last.pop().expect("non-empty");
            self.last[i as usize] = s;
        }
        while self.trail_dom.len() > m[0] {
            let (i, w) = self.trail_dom.pop().expect("non-empty");
            self.dom[i as usize] = w;
        }
        while self.trail_card.len() > m[1] {
            let (v, c) = self.trail_card.pop().expect("non-empty");
            self.card[v as usize] = c;
        }
        while self.trail_live.len() > m[2] {
            let (c, l) = self.trail_live.pop().expect("non-empty");
            self.live_len[c as usize] = l;
        }
    }

    /// Restricts `v` to `keep` (words); false on a wipe-out. Wakes watchers
    /// other than `from`.
    fn restrict(&mut self, v: usize, keep: &[u64], from: u32) -> bool {
        let o = self.off[v];
        let mut changed = false;
        let mut card = 0;
        for (k, &kw) in keep.iter().enumerate() {
            let old = self.dom[o + k];
            let new = old & kw;
            if new != old {
                self.trail_dom.push(((o + k) as u32, old));
                self.dom[o + k] = new;
                changed = true;
            }
            card += new.count_ones();
        }
        if !changed {
            return true;
        }
        self.trail_card.push((v as u32, self.card[v]));
        self.card[v] = card;
        self.trail_mod.push((v as u32, self.modified[v]));
        self.clock += 1;
        self.modified[v] = self.clock;
        if card == 0 {
            return false;
        }
        for i in 0..self.watch[v].len() {
            let c = self.watch[v][i];
            if c != from && !self.queued[c as usize] {
                self.queued[c as usize] = true;
                self.queue.push(c);
            }
        }
        true
    }

    fn propagate(&mut self) -> bool {
        while let Some(c) = self.queue.pop() {
            self.queued[c as usize] = false;
            if !self.revise(c) {
                for &q in &self.queue {
                    self.queued[q as usize] = false;
                }
                self.queue.clear();
                return false;
            }
        }
        true
    }

    /// Simple tabular reduction of constraint `c`, then its supports
    /// (STR2: only positions whose domain changed since this constraint last
    /// looked are checked, and a position stops collecting supports once
    /// all its values have one).
    fn revise(&mut self, c: u32) -> bool {
        let t = self.t;
        let ci = c as usize;
        let con = &t.cons[ci];
        let scope = &con.scope;
        let a = scope.len();
        if a == 0 {
            return !con.is_positive();
        }
        let lbase = self.last_off[ci];
        let mut changed: [usize; 16] = [0; 16];
        let mut nch = 0;
        let mut many: Vec<usize> = Vec::new();
        for (k, &v) in scope.iter().enumerate() {
            let m = self.modified[v];
            if self.last[lbase + k] != m {
                self.trail_last
                    .push(((lbase + k) as u32, self.last[lbase + k]));
                self.last[lbase + k] = m;
                if nch < 16 {
                    changed[nch] = k;
                } else {
                    many.push(k);
                }
                nch += 1;
            }
        }
        let old = self.live_len[ci] as usize;
        let mut len = old;
        if nch > 0 {
            if nch > 16 {
                many.extend_from_slice(&changed);
            } else {
                many.extend_from_slice(&changed[..nch]);
            }
            let live = &mut self.live[ci];
            let mut i = 0;
            while i < len {
                let tu = &live[i * a..][..a];
                let ok = many.iter().all(|&k| {
                    let (v, x) = (scope[k], tu[k]);
                    self.dom[self.off[v] + x as usize / 64] >> (x % 64) & 1 == 1
                });
                if ok {
                    i += 1;
                } else {
                    len -= 1;
                    for k in 0..a {
                        live.swap(i * a + k, len * a + k);
                    }
                }
            }
            if len != old {
                self.trail_live.push((c, old as u32));
                self.live_len[ci] = len as u32;
            }
        }
        if con.is_positive() {
            if len == 0 {
                return false;
            }
            if len == old && nch == 0 {
                return true;
            }
            // Supports of the open positions, until each has all its values.
            let mut base = 0;
            let mut at = Vec::with_capacity(a);
            let mut open: Vec<usize> = Vec::with_capacity(a);
            let mut missing: Vec<u32> = vec![0; a];
            for (k, &v) in scope.iter().enumerate() {
                at.push(base);
                let w = self.words[v];
                self.scratch[base..base + w].fill(0);
                base += w;
                if self.card[v] > 1 {
                    open.push(k);
                    missing[k] = self.card[v];
                }
            }
            let live = &self.live[ci];
            for tu in live[..len * a].chunks_exact(a) {
                if open.is_empty() {
                    break;
                }
                let mut j = 0;
                while j < open.len() {
                    let k = open[j];
                    let x = tu[k];
                    let w = &mut self.scratch[at[k] + x as usize / 64];
                    let bit = 1u64 << (x % 64);
                    if *w & bit == 0 {
                        *w |= bit;
                        missing[k] -= 1;
                        if missing[k] == 0 {
                            open.swap_remove(j);
                            continue;
                        }
                    }
                    j += 1;
                }
            }
            for &k in &open {
                let v = scope[k];
                let w = self.words[v];
                let mut keep = [0u64; 8];
                if w <= 8 {
                    keep[..w].copy_from_slice(&self.scratch[at[k]..at[k] + w]);
                    if !self.restrict(v, &keep[..w], c) {
                        return false;
                    }
                } else {
                    let keep: Vec<u64> = self.scratch[at[k]..at[k] + w].to_vec();
                    if !self.restrict(v, &keep, c) {
                        return false;
                    }
                }
            }
        } else {
            if len == 0 {
                return true;
            }
            // A value goes when every combination of the others' values is
            // forbidden together with it.
            for k in 0..a {
                let v = scope[k];
                let mut others: u64 = 1;
                for (j, &u) in scope.iter().enumerate() {
                    if j != k {
                        others = others.saturating_mul(self.card[u] as u64);
                    }
                }
                if others > len as u64 {
                    continue;
                }
                let size = self.t.sizes[v];
                self.counts[..size].fill(0);
                let live = &self.live[ci];
                for tu in live[..len * a].chunks_exact(a) {
                    self.counts[tu[k] as usize] += 1;
                }
                let w = self.words[v];
                let mut keep = vec![!0u64; w];
                let mut any = false;
                for x in 0..size {
                    if self.counts[x] >= others {
                        keep[x / 64] &= !(1 << (x % 64));
                        any = true;
                    }
                }
                if any {
                    if !self.restrict(v, &keep, c) {
                        return false;
                    }
                    // The live tuples are stale now: look again.
                    return self.revise(c);
                }
            }
        }
        true
    }

    fn entailed(&self, c: usize) -> bool {
        if self.implied[c] {
            return true;
        }
        let con = &self.t.cons[c];
        let len = self.live_len[c] as u64;
        if !con.is_positive() {
            return len == 0;
        }
        let mut p: u64 = 1;
        for &v in &con.scope {
            p = p.saturating_mul(self.card[v] as u64);
            if p > len {
                return false;
            }
        }
        p == len
    }

    fn grow(&self) -> Result<(), TooBig> {
        if self.nodes.len() + self.edges.len() + self.kids.len() + self.lits.len() > self.limit {
            Err(TooBig)
        } else {
            Ok(())
        }
    }

    pub(super) fn compile_root(&mut self) -> Result<Option<Compiled>, TooBig> {
        let n = self.t.sizes.len();
        if self.never || self.t.sizes.contains(&0) {
            return Ok(None);
        }
        self.queue = (0..self.t.cons.len() as u32)
            .filter(|&c| !self.implied[c as usize])
            .collect();
        self.queued.fill(true);
        if !self.propagate() {
            return Ok(None);
        }
        let fixed: Vec<(u32, u32)> = (0..n)
            .filter(|&v| self.card[v] == 1)
            .map(|v| (v as u32, self.value(v)))
            .collect();
        let open: Vec<u32> = (0..n as u32)
            .filter(|&v| self.card[v as usize] > 1)
            .collect();
        let mut lits = fixed;
        let Some(root) = self.conjunction(&open, &mut lits)? else {
            return Ok(None);
        };
        lits.sort_unstable();
        let s = self.lits.len() as u32;
        self.lits.extend(lits);
        let root_lits = (s, self.lits.len() as u32);
        Ok(Some(Compiled::finish(
            std::mem::take(&mut self.nodes),
            std::mem::take(&mut self.edges),
            std::mem::take(&mut self.kids),
            std::mem::take(&mut self.lits),
            root,
            root_lits,
            self.t.sizes.clone(),
        )))
    }

    /// The open variables `open` split into components, each compiled; the
    /// node of their conjunction, `None` if one is unsatisfiable. A variable
    /// alone in its component is free (no open constraint left on it): it is
    /// not compiled but returned in `free` with all its values, for the edge
    /// above to carry.
    fn conjunction(
        &mut self,
        open: &[u32],
        free: &mut Vec<(u32, u32)>,
    ) -> Result<Option<u32>, TooBig> {
        let comps = self.components(open);
        let mut children = Vec::with_capacity(comps.len());
        for comp in comps {
            if let [v] = comp[..] {
                let vs = v as usize;
                free.extend(
                    (0..self.t.sizes[vs] as u32)
                        .filter(|&a| self.has(vs, a as usize))
                        .map(|a| (v, a)),
                );
                continue;
            }
            match self.component(&comp)? {
                Some(k) => children.push(k),
                None => return Ok(None),
            }
        }
        Ok(Some(match children.len() {
            0 => TRUE,
            1 => children[0],
            _ => {
                let start = self.kids.len() as u32;
                self.kids.extend(children);
                self.nodes.push(Node {
                    var: NONE,
                    start,
                    end: self.kids.len() as u32,
                });
                self.grow()?;
                (self.nodes.len() - 1) as u32
            }
        }))
    }

    /// Connected components of `open` through constraints not yet entailed.
    fn components(&mut self, open: &[u32]) -> Vec<Vec<u32>> {
        if open.len() <= 1 {
            return open.iter().map(|&v| vec![v]).collect();
        }
        self.epoch += 1;
        let epoch = self.epoch;
        // Union-find over positions in `open`.
        let mut pos: HashMap<u32, usize, BuildHasherDefault<WordHasher>> = HashMap::default();
        for (i, &v) in open.iter().enumerate() {
            pos.insert(v, i);
        }
        let mut parent: Vec<usize> = (0..open.len()).collect();
        fn root(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        for &v in open {
            for k in 0..self.watch[v as usize].len() {
                let c = self.watch[v as usize][k] as usize;
                if self.cstamp[c] == epoch {
                    continue;
                }
                self.cstamp[c] = epoch;
                if self.entailed(c) {
                    continue;
                }
                let mut first: Option<usize> = None;
                for &u in &self.t.cons[c].scope {
                    if self.card[u] > 1
                        && let Some(&p) = pos.get(&(u as u32))
                    {
                        match first {
                            None => first = Some(p),
                            Some(f) => {
                                let (a, b) = (root(&mut parent, f), root(&mut parent, p));
                                parent[a] = b;
                            }
                        }
                    }
                }
            }
        }
        let mut groups: HashMap<usize, Vec<u32>, BuildHasherDefault<WordHasher>> =
            HashMap::default();
        let mut order = Vec::new();
        for (i, &v) in open.iter().enumerate() {
            let r = root(&mut parent, i);
            groups
                .entry(r)
                .or_insert_with(|| {
                    order.push(r);
                    Vec::new()
                })
                .push(v);
        }
        order
            .into_iter()
            .map(|r| groups.remove(&r).expect("grouped"))
            .collect()
    }

    /// The cache key of a component: the domains of its variables and of
    /// every variable its open constraints mention.
    fn key(&mut self, comp: &[u32]) -> Vec<u64> {
        self.epoch += 1;
        let epoch = self.epoch;
        let mut vars: Vec<u32> = Vec::new();
        for &v in comp {
            if self.stamp[v as usize] != epoch {
                self.stamp[v as usize] = epoch;
                vars.push(v);
            }
            for k in 0..self.watch[v as usize].len() {
                let c = self.watch[v as usize][k] as usize;
                if self.cstamp[c] == epoch {
                    continue;
                }
                self.cstamp[c] = epoch;
                if self.entailed(c) {
                    continue;
                }
                for &u in &self.t.cons[c].scope {
                    if self.stamp[u] != epoch {
                        self.stamp[u] = epoch;
                        vars.push(u as u32);
                    }
                }
            }
        }
        vars.sort_unstable();
        let mut key = Vec::with_capacity(vars.len() * 2);
        for v in vars {
            let v = v as usize;
            key.push(v as u64);
            key.extend_from_slice(&self.dom[self.off[v]..self.off[v] + self.words[v]]);
        }
        key
    }

    /// Compiles one component (open variables only); `None` if unsatisfiable.
    fn component(&mut self, comp: &[u32]) -> Result<Option<u32>, TooBig> {
        let key = self.key(comp);
        if let Some(&n) = self.cache.get(&key) {
            return Ok((n != NONE).then_some(n));
        }
        let x = *comp
            .iter()
            .max_by_key(|&&v| {
                (
                    self.prio[v as usize],
                    std::cmp::Reverse(self.card[v as usize]),
                )
            })
            .expect("non-empty component");
        let xs = x as usize;
        let values: Vec<u32> = (0..self.t.sizes[xs] as u32)
            .filter(|&a| self.has(xs, a as usize))
            .collect();
        let mut out: Vec<Edge> = Vec::with_capacity(values.len());
        let w = self.words[xs];
        for a in values {
            let m = self.marks();
            let mut only = vec![0u64; w];
            only[a as usize / 64] |= 1 << (a % 64);
            let ok = self.restrict(xs, &only, NONE) && self.propagate();
            if ok {
                let mut implied: Vec<(u32, u32)> = comp
                    .iter()
                    .filter(|&&v| v != x && self.card[v as usize] == 1)
                    .map(|&v| (v, self.value(v as usize)))
                    .collect();
                let open: Vec<u32> = comp
                    .iter()
                    .copied()
                    .filter(|&v| self.card[v as usize] > 1)
                    .collect();
                if let Some(child) = self.conjunction(&open, &mut implied)? {
                    implied.sort_unstable();
                    let s = self.lits.len() as u32;
                    self.lits.extend(implied);
                    out.push(Edge {
                        value: a,
                        child,
                        lits_start: s,
                        lits_end: self.lits.len() as u32,
                    });
                }
            }
            self.undo(m);
        }
        let node = if out.is_empty() {
            NONE
        } else {
            let start = self.edges.len() as u32;
            self.edges.extend(out);
            self.nodes.push(Node {
                var: x,
                start,
                end: self.edges.len() as u32,
            });
            self.grow()?;
            (self.nodes.len() - 1) as u32
        };
        self.cache.insert(key, node);
        Ok((node != NONE).then_some(node))
    }
}

/// Reverse min-fill elimination order on the primal graph: the variable
/// eliminated last gets the highest priority.
fn priorities(t: &TableEngine, implied: &[bool]) -> Vec<u32> {
    let n = t.sizes.len();
    let w = n.div_ceil(64).max(1);
    let mut adj = vec![0u64; n * w];
    for (con, _) in t.cons.iter().zip(implied).filter(|(_, i)| !**i) {
        for &a in &con.scope {
            for &b in &con.scope {
                if a != b {
                    adj[a * w + b / 64] |= 1 << (b % 64);
                }
            }
        }
    }
    let neighbours = |adj: &[u64], v: usize| -> Vec<usize> {
        let mut out = Vec::new();
        for k in 0..w {
            let mut x = adj[v * w + k];
            while x != 0 {
                out.push(k * 64 + x.trailing_zeros() as usize);
                x &= x - 1;
            }
        }
        out
    };
    let fill = |adj: &[u64], v: usize| -> u64 {
        let ns = neighbours(adj, v);
        let mut f = 0u64;
        for &u in &ns {
            for k in 0..w {
                let mut miss = adj[v * w + k] & !adj[u * w + k];
                if u / 64 == k {
                    miss &= !(1 << (u % 64));
                }
                f += miss.count_ones() as u64;
            }
        }
        f / 2
    };
    let degree = |adj: &[u64], v: usize| -> u32 {
        adj[v * w..v * w + w].iter().map(|x| x.count_ones()).sum()
    };
    // The next variable is the live one of least (fill, degree, index). Only
    // an eliminated variable's neighbours change, so a heap of entries,
    // where an entry no longer matching its variable's key is skipped, finds
    // it without scanning every variable at every step.
    let mut key: Vec<(u64, u32)> = (0..n).map(|v| (fill(&adj, v), degree(&adj, v))).collect();
    let mut heap: BinaryHeap<Reverse<(u64, u32, usize)>> =
        (0..n).map(|v| Reverse((key[v].0, key[v].1, v))).collect();
    let mut alive = vec![true; n];
    let mut prio = vec![0u32; n];
    let mut step = 0u32;
    while let Some(Reverse((f, d, v))) = heap.pop() {
        if !alive[v] || key[v] != (f, d) {
            continue;
        }
        alive[v] = false;
        prio[v] = step;
        step += 1;
        let ns = neighbours(&adj, v);
        for &a in &ns {
            for k in 0..w {
                adj[a * w + k] |= adj[v * w + k];
            }
            adj[a * w + a / 64] &= !(1 << (a % 64));
            adj[a * w + v / 64] &= !(1 << (v % 64));
        }
        adj[v * w..v * w + w].fill(0);
        // Fill and degree change near the eliminated variable only.
        for &a in &ns {
            key[a] = (fill(&adj, a), degree(&adj, a));
            heap.push(Reverse((key[a].0, key[a].1, a)));
        }
    }
    prio
}
