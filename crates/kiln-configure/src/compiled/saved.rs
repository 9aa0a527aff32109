//! A compiled diagram as bytes, so that a caller can keep it (the CLI keeps
//! one per model file on disk) and load a model again without compiling.
//!
//! The format is this crate's own: a magic word, the format version, then
//! little-endian `u32` arrays with their lengths. Reading checks every index
//! against the arrays it points into and the product's domains, so a
//! truncated or foreign file is refused (`None`), never a panic; the caller
//! then compiles as if there were no saved copy. The caller names the file
//! by a hash of the model's text, so a saved diagram always belongs to the
//! product it is read with.

use super::{Compiled, Edge, NONE, Node};

const MAGIC: &[u8; 8] = b"KILNCDG\x01";

/// What compiling a table model gave: a diagram, no configuration at all, or
/// a network too large to compile (the engine then searches).
pub(crate) enum Saved {
    Diagram(Box<Compiled>),
    Empty,
    TooBig,
}

struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("diagram arrays are indexed by u32"));
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_le_bytes(*head))
    }
    /// A length, checked against what is left (`width` words per item).
    fn len(&mut self, width: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(width * 4)? <= self.0.len()).then_some(n)
    }
}

/// The bytes of a compilation: its diagram, else whether the model has no
/// configuration (`empty`) or was too big to compile.
pub(crate) fn to_bytes(compiled: Option<&Compiled>, empty: bool) -> Vec<u8> {
    let mut w = Writer(MAGIC.to_vec());
    match compiled {
        None if empty => w.u32(0),
        None => w.u32(1),
        Some(c) => {
            w.u32(2);
            w.len(c.sizes.len());
            c.sizes.iter().for_each(|&s| w.len(s));
            w.len(c.nodes.len());
            for n in &c.nodes {
                [n.var, n.start, n.end].into_iter().for_each(|x| w.u32(x));
            }
            w.len(c.edges.len());
            for e in &c.edges {
                [e.value, e.child, e.lits_start, e.lits_end]
                    .into_iter()
                    .for_each(|x| w.u32(x));
            }
            w.len(c.kids.len());
            c.kids.iter().for_each(|&k| w.u32(k));
            w.len(c.lits.len());
            for &(v, a) in &c.lits {
                w.u32(v);
                w.u32(a);
            }
            [c.root, c.root_lits.0, c.root_lits.1]
                .into_iter()
                .for_each(|x| w.u32(x));
        }
    }
    w.0
}

/// The saved compilation, if `bytes` hold a well-formed one for variables
/// of these domain sizes.
pub(crate) fn from_bytes(bytes: &[u8], sizes: &[usize]) -> Option<Saved> {
    let mut r = Reader(bytes.strip_prefix(MAGIC)?);
    let saved = match r.u32()? {
        0 => Saved::Empty,
        1 => Saved::TooBig,
        2 => {
            let n = r.len(1)?;
            let read_sizes: Vec<usize> = (0..n)
                .map(|_| r.u32().map(|s| s as usize))
                .collect::<Option<_>>()?;
            if read_sizes != sizes {
                return None;
            }
            let n = r.len(3)?;
            let mut nodes = Vec::with_capacity(n);
            for _ in 0..n {
                let (var, start, end) = (r.u32()?, r.u32()?, r.u32()?);
                nodes.push(Node { var, start, end });
            }
            let n = r.len(4)?;
            let mut edges = Vec::with_capacity(n);
            for _ in 0..n {
                let (value, child, lits_start, lits_end) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
                edges.push(Edge {
                    value,
                    child,
                    lits_start,
                    lits_end,
                });
            }
            let n = r.len(1)?;
            let kids: Vec<u32> = (0..n).map(|_| r.u32()).collect::<Option<_>>()?;
            let n = r.len(2)?;
            let mut lits = Vec::with_capacity(n);
            for _ in 0..n {
                lits.push((r.u32()?, r.u32()?));
            }
            let (root, s, e) = (r.u32()?, r.u32()?, r.u32()?);
            if !well_formed(&nodes, &edges, &kids, &lits, root, (s, e), sizes) {
                return None;
            }
            Saved::Diagram(Box::new(Compiled::finish(
                nodes,
                edges,
                kids,
                lits,
                root,
                (s, e),
                sizes.to_vec(),
            )))
        }
        _ => return None,
    };
    r.0.is_empty().then_some(saved)
}

/// Every index in range, every literal a value of its variable, children
/// created before their parents (so the passes' order holds).
fn well_formed(
    nodes: &[Node],
    edges: &[Edge],
    kids: &[u32],
    lits: &[(u32, u32)],
    root: u32,
    root_lits: (u32, u32),
    sizes: &[usize],
) -> bool {
    let range = |s: u32, e: u32, len: usize| s <= e && e as usize <= len;
    let lit_ok = |&(v, a): &(u32, u32)| sizes.get(v as usize).is_some_and(|&s| (a as usize) < s);
    if nodes.is_empty() || root as usize >= nodes.len() || !lits.iter().all(lit_ok) {
        return false;
    }
    if !range(root_lits.0, root_lits.1, lits.len()) {
        return false;
    }
    nodes.iter().enumerate().all(|(i, n)| {
        if n.var == NONE {
            range(n.start, n.end, kids.len())
                && kids[n.start as usize..n.end as usize]
                    .iter()
                    .all(|&k| (k as usize) < i)
        } else {
            (n.var as usize) < sizes.len()
                && range(n.start, n.end, edges.len())
                && edges[n.start as usize..n.end as usize].iter().all(|e| {
                    (e.child as usize) < i
                        && (e.value as usize) < sizes[n.var as usize]
                        && range(e.lits_start, e.lits_end, lits.len())
                })
        }
    })
}
