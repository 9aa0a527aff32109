//! Knowledge compilation: the table network compiled once, at load, into a
//! decision diagram with decomposition (a decision-DNNF), so that every
//! question a shopper's step asks is answered without search.
//!
//! The compiler is a search with generalized arc consistency (simple tabular
//! reduction on live tuples, for supports and conflicts alike). After each
//! decision the still-open variables split into independent components
//! (variables joined by a constraint that is not yet entailed); each
//! component is compiled on its own and cached by what determines it (its
//! variables' domains and those of the constraints it still has), so the
//! diagram follows the model's tree decomposition: real car models have
//! small treewidth. Variables are decided in reverse min-fill elimination
//! order, i.e. from the root of that decomposition down.
//!
//! Every node of the diagram is satisfiable (failed branches are dropped),
//! every path from the root fixes each variable exactly once (by its
//! decision or as a value implied by propagation), and `And` children have
//! disjoint variables. Hence, with selections as costs, one upward and one
//! downward pass give exactly the values that extend to a valid complete
//! configuration, in time linear in the diagram.

use num_bigint::BigUint;

use crate::table::TableEngine;

mod build;
pub(crate) mod saved;

/// A variable restriction, as in the rest of the engine.
use crate::search::Fixed;

const NONE: u32 = u32::MAX;
/// Node 0 is the constant true (no variables left).
const TRUE: u32 = 0;

#[derive(Clone, Copy)]
struct Node {
    /// The decided variable, or `NONE` for a decomposition (`And`) node.
    var: u32,
    /// Edges (decision) or children (`And`): `start..end` in `edges` / `kids`.
    start: u32,
    end: u32,
}

#[derive(Clone, Copy)]
struct Edge {
    value: u32,
    child: u32,
    /// What else holds on this edge, `lits[start..end]` sorted by variable:
    /// values that propagation fixed (one per variable) and free variables
    /// (every value they may still take).
    lits_start: u32,
    lits_end: u32,
}

/// The compiled diagram.
pub(crate) struct Compiled {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    kids: Vec<u32>,
    /// (variable, value) pairs carried by edges, and by the root.
    lits: Vec<(u32, u32)>,
    root: u32,
    root_lits: (u32, u32),
    sizes: Vec<usize>,
    /// Literal `(v, a)` is bit `lit_base[v] + a` of a literal set.
    lit_base: Vec<usize>,
    dense: Option<Dense>,
}

/// Per edge (and the root, as the last row): its literals and its variables
/// as bitsets, so that a step tests edges and collects supports by words
/// instead of walking every literal.
struct Dense {
    lw: usize,
    vw: usize,
    lit_sets: Vec<u64>,
    var_sets: Vec<u64>,
}

/// Bitsets of the dense index stay under this many words (256 MiB / 8 is
/// far above; a product's diagram should stay well below it).
const DENSE_WORDS: usize = 4_000_000;

/// The compilation stopped: the diagram would exceed the size limit.
#[derive(Debug)]
pub(crate) struct TooBig;

/// Costs saturate at 2: a question only ever asks whether a total is 0, or
/// at most 1 when one selection is set aside.
const CAP: u8 = 2;

fn add(a: u8, b: u8) -> u8 {
    (a + b).min(CAP)
}

/// What the support passes answer, per variable and value.
pub(crate) enum Mode {
    /// Every selection holds: a selected variable supports only its value.
    Fixed,
    /// A selected variable's values are judged against the other selections.
    Others,
}

/// Runs of equal variables in a sorted literal slice.
fn groups(lits: &[(u32, u32)]) -> impl Iterator<Item = &[(u32, u32)]> {
    lits.chunk_by(|a, b| a.0 == b.0)
}

impl Compiled {
    /// Compiles the engine's constraints, or gives up past `limit` diagram
    /// elements (nodes, edges and implied values together). `None` inside
    /// `Ok` means the model has no valid configuration at all.
    pub(crate) fn build(t: &TableEngine, limit: usize) -> Result<Option<Compiled>, TooBig> {
        let mut b = build::Builder::new(t, limit);
        b.compile_root()
    }

    fn finish(
        nodes: Vec<Node>,
        edges: Vec<Edge>,
        kids: Vec<u32>,
        lits: Vec<(u32, u32)>,
        root: u32,
        root_lits: (u32, u32),
        sizes: Vec<usize>,
    ) -> Compiled {
        let mut lit_base = Vec::with_capacity(sizes.len());
        let mut total = 0;
        for &s in &sizes {
            lit_base.push(total);
            total += s;
        }
        let mut c = Compiled {
            nodes,
            edges,
            kids,
            lits,
            root,
            root_lits,
            sizes,
            lit_base,
            dense: None,
        };
        let lw = total.div_ceil(64).max(1);
        let vw = c.sizes.len().div_ceil(64).max(1);
        let rows = c.edges.len() + 1;
        if rows.saturating_mul(lw + vw) <= DENSE_WORDS {
            let mut lit_sets = vec![0u64; rows * lw];
            let mut var_sets = vec![0u64; rows * vw];
            let mut put = |row: usize, v: u32, a: u32| {
                let l = c.lit_base[v as usize] + a as usize;
                lit_sets[row * lw + l / 64] |= 1 << (l % 64);
                var_sets[row * vw + v as usize / 64] |= 1 << (v % 64);
            };
            for node in &c.nodes {
                if node.var == NONE {
                    continue;
                }
                for e in node.start..node.end {
                    let ed = c.edges[e as usize];
                    put(e as usize, node.var, ed.value);
                    for &(v, a) in &c.lits[ed.lits_start as usize..ed.lits_end as usize] {
                        put(e as usize, v, a);
                    }
                }
            }
            for &(v, a) in &c.lits[c.root_lits.0 as usize..c.root_lits.1 as usize] {
                put(rows - 1, v, a);
            }
            c.dense = Some(Dense {
                lw,
                vw,
                lit_sets,
                var_sets,
            });
        }
        c
    }

    /// Selections a literal range breaks: a selected variable whose
    /// selected value is not among its literals.
    fn cost(&self, lits: (u32, u32), sel: &Fixed) -> u8 {
        let mut c = 0;
        for g in groups(&self.lits[lits.0 as usize..lits.1 as usize]) {
            if let Some(s) = sel[g[0].0 as usize]
                && !g.iter().any(|&(_, a)| a as usize == s)
            {
                c += 1;
            }
        }
        c.min(CAP)
    }

    fn edge_cost(&self, var: u32, e: &Edge, sel: &Fixed) -> u8 {
        let own = match sel[var as usize] {
            Some(s) if s != e.value as usize => 1,
            _ => 0,
        };
        add(own, self.cost((e.lits_start, e.lits_end), sel))
    }

    /// Upward pass: per node, the least number of selections any of its
    /// configurations breaks (capped).
    fn up(&self, sel: &Fixed) -> Vec<u8> {
        let mut up = vec![0u8; self.nodes.len()];
        for n in 1..self.nodes.len() {
            let node = self.nodes[n];
            let (s, e) = (node.start as usize, node.end as usize);
            up[n] = if node.var == NONE {
                self.kids[s..e]
                    .iter()
                    .fold(0, |acc, &k| add(acc, up[k as usize]))
            } else {
                self.edges[s..e]
                    .iter()
                    .map(|ed| add(self.edge_cost(node.var, ed, sel), up[ed.child as usize]))
                    .min()
                    .unwrap_or(CAP)
            };
        }
        up
    }

    /// Per edge (the root last): it agrees with every selection.
    fn edges_ok(&self, d: &Dense, sel: &Fixed) -> Vec<bool> {
        let mut good = vec![0u64; d.lw];
        let mut chosen = vec![0u64; d.vw];
        for (v, s) in sel.iter().enumerate() {
            if let Some(a) = *s
                && a < self.sizes[v]
            {
                let l = self.lit_base[v] + a;
                good[l / 64] |= 1 << (l % 64);
                chosen[v / 64] |= 1 << (v % 64);
            }
        }
        // An edge agrees when each selected variable it mentions has its
        // selected value among the edge's literals.
        let rows = self.edges.len() + 1;
        (0..rows)
            .map(|r| {
                if d.var_sets[r * d.vw..(r + 1) * d.vw]
                    .iter()
                    .zip(&chosen)
                    .all(|(x, y)| x & y == 0)
                {
                    return true;
                }
                let vars: u32 = d.var_sets[r * d.vw..(r + 1) * d.vw]
                    .iter()
                    .zip(&chosen)
                    .map(|(x, y)| (x & y).count_ones())
                    .sum();
                if vars == 0 {
                    return true;
                }
                let hits: u32 = d.lit_sets[r * d.lw..(r + 1) * d.lw]
                    .iter()
                    .zip(&good)
                    .map(|(x, y)| (x & y).count_ones())
                    .sum();
                hits == vars
            })
            .collect()
    }

    /// Per node: some configuration below it agrees with every selection.
    fn sat_nodes(&self, ok: &[bool]) -> Vec<bool> {
        let mut sat = vec![true; self.nodes.len()];
        for n in 1..self.nodes.len() {
            let node = self.nodes[n];
            let (s, e) = (node.start as usize, node.end as usize);
            sat[n] = if node.var == NONE {
                self.kids[s..e].iter().all(|&k| sat[k as usize])
            } else {
                (s..e).any(|i| ok[i] && sat[self.edges[i].child as usize])
            };
        }
        sat
    }

    /// Some valid configuration agrees with every selection.
    pub(crate) fn sat(&self, sel: &Fixed) -> bool {
        if let Some(d) = &self.dense {
            let ok = self.edges_ok(d, sel);
            return ok[self.edges.len()] && self.sat_nodes(&ok)[self.root as usize];
        }
        add(
            self.cost(self.root_lits, sel),
            self.up(sel)[self.root as usize],
        ) == 0
    }

    /// `sup[var][value]` in the given mode; `None` when the selections
    /// conflict (with `Mode::Fixed`).
    pub(crate) fn supports(&self, sel: &Fixed, mode: Mode) -> Option<Vec<Vec<bool>>> {
        match (&self.dense, mode) {
            (Some(_), Mode::Fixed) => {
                let lits = self.supported(sel)?;
                Some(
                    self.sizes
                        .iter()
                        .enumerate()
                        .map(|(v, &size)| {
                            let base = self.lit_base[v];
                            (0..size)
                                .map(|k| lits[(base + k) / 64] >> ((base + k) % 64) & 1 == 1)
                                .collect()
                        })
                        .collect(),
                )
            }
            (_, mode) => self.supports_costed(sel, mode),
        }
    }

    /// The supported literals with every selection held, as a bitset;
    /// `None` when the selections conflict.
    pub(crate) fn supported(&self, sel: &Fixed) -> Option<Vec<u64>> {
        match &self.dense {
            Some(d) => self.supported_dense(d, sel),
            None => {
                let sup = self.supports_costed(sel, Mode::Fixed)?;
                let total = self
                    .lit_base
                    .last()
                    .map_or(0, |b| b + self.sizes[self.sizes.len() - 1]);
                let mut lits = vec![0u64; total.div_ceil(64).max(1)];
                for (v, vals) in sup.iter().enumerate() {
                    for (k, &s) in vals.iter().enumerate() {
                        if s {
                            let l = self.lit_base[v] + k;
                            lits[l / 64] |= 1 << (l % 64);
                        }
                    }
                }
                Some(lits)
            }
        }
    }

    /// Every selection holds: the edges that agree with them, and the nodes
    /// reached from the root through such edges into satisfiable nodes,
    /// carry exactly the supported literals.
    fn supported_dense(&self, d: &Dense, sel: &Fixed) -> Option<Vec<u64>> {
        let ok = self.edges_ok(d, sel);
        let sat = self.sat_nodes(&ok);
        let rows = self.edges.len();
        if !ok[rows] || !sat[self.root as usize] {
            return None;
        }
        let mut lits = d.lit_sets[rows * d.lw..(rows + 1) * d.lw].to_vec();
        let mut reached = vec![false; self.nodes.len()];
        reached[self.root as usize] = true;
        for n in (1..self.nodes.len()).rev() {
            if !reached[n] {
                continue;
            }
            let node = self.nodes[n];
            let (s, e) = (node.start as usize, node.end as usize);
            if node.var == NONE {
                self.kids[s..e]
                    .iter()
                    .for_each(|&k| reached[k as usize] = true);
            } else {
                for (i, (ed, &good)) in self.edges[s..e].iter().zip(&ok[s..e]).enumerate() {
                    let (i, child) = (s + i, ed.child as usize);
                    if good && sat[child] {
                        reached[child] = true;
                        for (w, x) in lits.iter_mut().zip(&d.lit_sets[i * d.lw..(i + 1) * d.lw]) {
                            *w |= x;
                        }
                    }
                }
            }
        }
        // A selected variable keeps its value only (free variables carry
        // all their values on an edge).
        for (v, s) in sel.iter().enumerate() {
            if let Some(a) = *s {
                let base = self.lit_base[v];
                for k in 0..self.sizes[v] {
                    if k != a {
                        let l = base + k;
                        lits[l / 64] &= !(1 << (l % 64));
                    }
                }
            }
        }
        Some(lits)
    }

    /// Selections as costs: an upward pass of least costs below each node,
    /// a downward pass of least costs above it. A literal is supported when
    /// a configuration through it breaks no selection (`Fixed`), or none but
    /// its own variable's (`Others`).
    fn supports_costed(&self, sel: &Fixed, mode: Mode) -> Option<Vec<Vec<bool>>> {
        let up = self.up(sel);
        let root_cost = self.cost(self.root_lits, sel);
        let total = add(root_cost, up[self.root as usize]);
        let fixed = matches!(mode, Mode::Fixed);
        if fixed && total > 0 {
            return None;
        }
        let mut sup: Vec<Vec<bool>> = self.sizes.iter().map(|&s| vec![false; s]).collect();
        // `c` is the least total cost through the literals `g` of one
        // variable.
        let mark = |sup: &mut Vec<Vec<bool>>, g: &[(u32, u32)], c: u8| {
            let v = g[0].0 as usize;
            let own = match sel[v] {
                Some(s) if !g.iter().any(|&(_, a)| a as usize == s) => 1,
                _ => 0,
            };
            for &(_, a) in g {
                let ok = if fixed {
                    c == 0 && sel[v].is_none_or(|s| s == a as usize)
                } else {
                    c <= 1 && c - own.min(c) == 0
                };
                if ok {
                    sup[v][a as usize] = true;
                }
            }
        };
        for g in groups(&self.lits[self.root_lits.0 as usize..self.root_lits.1 as usize]) {
            mark(&mut sup, g, total);
        }
        let mut down = vec![CAP; self.nodes.len()];
        down[self.root as usize] = root_cost;
        for n in (1..self.nodes.len()).rev() {
            let d = down[n];
            if d >= CAP {
                continue;
            }
            let node = self.nodes[n];
            let (s, e) = (node.start as usize, node.end as usize);
            if node.var == NONE {
                let sum: u32 = self.kids[s..e].iter().map(|&k| up[k as usize] as u32).sum();
                for &k in &self.kids[s..e] {
                    let out = (d as u32 + sum - up[k as usize] as u32).min(CAP as u32) as u8;
                    let k = k as usize;
                    down[k] = down[k].min(out);
                }
            } else {
                for ed in &self.edges[s..e] {
                    let through = add(d, self.edge_cost(node.var, ed, sel));
                    let c = add(through, up[ed.child as usize]);
                    if c > 1 {
                        continue;
                    }
                    mark(&mut sup, &[(node.var, ed.value)], c);
                    for g in groups(&self.lits[ed.lits_start as usize..ed.lits_end as usize]) {
                        mark(&mut sup, g, c);
                    }
                    let k = ed.child as usize;
                    down[k] = down[k].min(through);
                }
            }
        }
        Some(sup)
    }

    /// The exact number of configurations.
    pub(crate) fn count(&self) -> BigUint {
        let small = self.count_with(
            1u128,
            |a, b| a.checked_mul(*b),
            |a, b| a.checked_add(*b),
            Some,
        );
        if let Some(c) = small {
            return BigUint::from(c);
        }
        self.count_with(
            BigUint::from(1u32),
            |a, b| Some(a * b),
            |a, b| Some(a + b),
            |m| Some(BigUint::from(m)),
        )
        .expect("arbitrary precision never overflows")
    }

    fn count_with<C: Clone>(
        &self,
        one: C,
        mul: impl Fn(&C, &C) -> Option<C>,
        plus: impl Fn(&C, &C) -> Option<C>,
        from: impl Fn(u128) -> Option<C>,
    ) -> Option<C> {
        let zero = from(0)?;
        let mut val: Vec<C> = vec![one.clone(); self.nodes.len()];
        for n in 1..self.nodes.len() {
            let node = self.nodes[n];
            let (s, e) = (node.start as usize, node.end as usize);
            val[n] = if node.var == NONE {
                let mut acc = one.clone();
                for &k in &self.kids[s..e] {
                    acc = mul(&acc, &val[k as usize])?;
                }
                acc
            } else {
                let mut acc = zero.clone();
                for ed in &self.edges[s..e] {
                    let mut m = val[ed.child as usize].clone();
                    for g in groups(&self.lits[ed.lits_start as usize..ed.lits_end as usize]) {
                        m = mul(&m, &from(g.len() as u128)?)?;
                    }
                    acc = plus(&acc, &m)?;
                }
                acc
            };
        }
        // Free variables multiply the count by their number of values.
        let mut m = val[self.root as usize].clone();
        for g in groups(&self.lits[self.root_lits.0 as usize..self.root_lits.1 as usize]) {
            m = mul(&m, &from(g.len() as u128)?)?;
        }
        Some(m)
    }
}
