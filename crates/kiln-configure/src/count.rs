//! Exact model counting by bucket elimination over sparse relations.
//!
//! Variables are eliminated in min-fill order on the constraint graph; each
//! bucket joins the functions (tuple -> number of extensions) that mention
//! its variable, filters by conflict tables, and sums the variable out. The
//! work is bounded by the model's treewidth, which is small for real car
//! models. Counts are exact: `u128` with overflow checks, redone in
//! arbitrary precision (`BigUint`) if they ever overflow.

use std::collections::{HashMap, HashSet};
use std::fmt;

use num_bigint::BigUint;

use crate::search::Engine;
use crate::table::TableEngine;

trait Count: Clone {
    fn one() -> Self;
    fn from_u64(x: u64) -> Self;
    fn add(&self, o: &Self) -> Option<Self>;
    fn mul(&self, o: &Self) -> Option<Self>;
    fn big(self) -> BigUint;
}

impl Count for u128 {
    fn one() -> Self {
        1
    }
    fn from_u64(x: u64) -> Self {
        x as u128
    }
    fn add(&self, o: &Self) -> Option<Self> {
        self.checked_add(*o)
    }
    fn mul(&self, o: &Self) -> Option<Self> {
        self.checked_mul(*o)
    }
    fn big(self) -> BigUint {
        BigUint::from(self)
    }
}

impl Count for BigUint {
    fn one() -> Self {
        BigUint::from(1u32)
    }
    fn from_u64(x: u64) -> Self {
        BigUint::from(x)
    }
    fn add(&self, o: &Self) -> Option<Self> {
        Some(self + o)
    }
    fn mul(&self, o: &Self) -> Option<Self> {
        Some(self * o)
    }
    fn big(self) -> BigUint {
        self
    }
}

/// Multiplicative hashing for `u128` keys (SipHash is needlessly slow here).
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u128(&mut self, x: u128) {
        let h = (x as u64) ^ ((x >> 64) as u64).rotate_left(29);
        self.0 = (self.0 ^ h)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(23);
    }
}

/// A conflict table: its scope and forbidden tuples.
type Filter = (Vec<usize>, HashSet<Vec<u32>>);

type Map<V> = HashMap<u128, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// A function over `scope`, stored sparsely: mixed-radix key -> count.
struct Func<C> {
    scope: Vec<usize>,
    mult: Vec<u128>,
    map: Map<C>,
}

/// Why a count could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountError {
    /// The product has text or number options, whose values are not countable.
    NotCountable,
    /// A bucket's key space exceeds 128 bits: the model's width is too large
    /// for this counter.
    TooWide,
}

impl fmt::Display for CountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CountError::NotCountable => {
                "the product has text or number options: its configurations are not countable"
            }
            CountError::TooWide => "the model's constraint graph is too wide for the exact counter",
        })
    }
}

impl std::error::Error for CountError {}

pub(crate) fn count(engine: &Engine, product: &kiln_model::Product) -> Result<BigUint, CountError> {
    if let Some(c) = &engine.compiled {
        return Ok(c.count());
    }
    if engine.empty {
        return Ok(BigUint::from(0u32));
    }
    let owned;
    let t = match &engine.table {
        Some(t) => t,
        None => {
            owned = TableEngine::new(product, &engine.csp);
            &owned
        }
    };
    match run::<u128>(t) {
        Ok(Some(c)) => Ok(c.big()),
        Ok(None) => Ok(run::<BigUint>(t)?
            .expect("arbitrary precision never overflows")
            .big()),
        Err(e) => Err(e),
    }
}

fn mults(t: &TableEngine, scope: &[usize]) -> Result<Vec<u128>, CountError> {
    let mut m = Vec::with_capacity(scope.len());
    let mut acc: u128 = 1;
    for &v in scope {
        m.push(acc);
        acc = acc
            .checked_mul(t.sizes[v] as u128)
            .ok_or(CountError::TooWide)?;
    }
    Ok(m)
}

fn digit(key: u128, mult: u128, size: usize) -> u32 {
    ((key / mult) % size as u128) as u32
}

/// `Ok(None)` when `C` overflowed.
fn run<C: Count>(t: &TableEngine) -> Result<Option<C>, CountError> {
    let n = t.sizes.len();
    // Positive tables (and rules) become functions; conflict tables filters.
    let mut funcs: Vec<Func<C>> = Vec::new();
    let mut filters: Vec<Filter> = Vec::new();
    let mut total = C::one();
    for con in &t.cons {
        if con.scope.is_empty() {
            if con.is_positive() {
                return Ok(Some(C::from_u64(0)));
            }
            continue;
        }
        let a = con.scope.len();
        if con.is_positive() {
            let mult = mults(t, &con.scope)?;
            let map = con
                .tuples()
                .chunks_exact(a)
                .map(|tu| {
                    let k: u128 = tu.iter().zip(&mult).map(|(&x, &m)| x as u128 * m).sum();
                    (k, C::one())
                })
                .collect();
            funcs.push(Func {
                scope: con.scope.clone(),
                mult,
                map,
            });
        } else {
            let set = con.tuples().chunks_exact(a).map(|tu| tu.to_vec()).collect();
            filters.push((con.scope.clone(), set));
        }
    }
    // Min-fill elimination order on the primal graph (adjacency bitsets).
    let w = n.div_ceil(64).max(1);
    let mut adj = vec![0u64; n * w];
    let set = |adj: &mut [u64], a: usize, b: usize| adj[a * w + b / 64] |= 1 << (b % 64);
    for s in funcs
        .iter()
        .map(|f| &f.scope)
        .chain(filters.iter().map(|f| &f.0))
    {
        for &a in s {
            for &b in s {
                if a != b {
                    set(&mut adj, a, b);
                }
            }
        }
    }
    let neighbours = |adj: &[u64], v: usize| -> Vec<usize> {
        (0..w)
            .flat_map(|k| {
                let mut x = adj[v * w + k];
                std::iter::from_fn(move || {
                    (x != 0).then(|| {
                        let b = x.trailing_zeros() as usize;
                        x &= x - 1;
                        k * 64 + b
                    })
                })
            })
            .collect()
    };
    let mut alive = vec![true; n];
    let mut order = Vec::with_capacity(n);
    for _ in 0..n {
        let fill = |v: usize| {
            let ns = neighbours(&adj, v);
            let mut f = 0u32;
            for &u in &ns {
                for k in 0..w {
                    let mut miss = adj[v * w + k] & !adj[u * w + k];
                    if u / 64 == k {
                        miss &= !(1 << (u % 64));
                    }
                    f += miss.count_ones();
                }
            }
            (f, ns.len())
        };
        let v = (0..n)
            .filter(|&v| alive[v])
            .min_by_key(|&v| fill(v))
            .expect("a variable is left");
        alive[v] = false;
        order.push(v);
        let ns = neighbours(&adj, v);
        for &a in &ns {
            for k in 0..w {
                adj[a * w + k] |= adj[v * w + k];
            }
            adj[a * w + a / 64] &= !(1 << (a % 64));
            adj[a * w + v / 64] &= !(1 << (v % 64));
        }
        adj[v * w..v * w + w].fill(0);
    }
    let mut pos = vec![0; n];
    order.iter().enumerate().for_each(|(i, &v)| pos[v] = i);
    let first = |s: &[usize]| *s.iter().min_by_key(|&&v| pos[v]).expect("non-empty");
    let mut buckets: Vec<Vec<Func<C>>> = (0..n).map(|_| Vec::new()).collect();
    for f in funcs {
        let b = first(&f.scope);
        buckets[b].push(f);
    }
    let mut fbuckets: Vec<Vec<Filter>> = vec![Vec::new(); n];
    for f in filters {
        let b = first(&f.0);
        fbuckets[b].push(f);
    }
    for &v in &order {
        let mut fs = std::mem::take(&mut buckets[v]);
        let filt = std::mem::take(&mut fbuckets[v]);
        // Variables the filters need but no function covers: all values.
        let mut covered: HashSet<usize> = fs.iter().flat_map(|f| f.scope.iter().copied()).collect();
        covered.insert(usize::MAX);
        let mut need: Vec<usize> = filt.iter().flat_map(|f| f.0.iter().copied()).collect();
        need.push(v);
        for u in need {
            if covered.insert(u) {
                let mult = vec![1];
                let map = (0..t.sizes[u] as u128).map(|k| (k, C::one())).collect();
                fs.push(Func {
                    scope: vec![u],
                    mult,
                    map,
                });
            }
        }
        // Join: start small, then always the function sharing most variables.
        fs.sort_by_key(|f| f.map.len());
        let mut joined = fs.remove(0);
        while !fs.is_empty() {
            let k = (0..fs.len())
                .max_by_key(|&k| {
                    let shared = fs[k]
                        .scope
                        .iter()
                        .filter(|u| joined.scope.contains(u))
                        .count();
                    (shared, usize::MAX - fs[k].map.len())
                })
                .expect("non-empty");
            let f = fs.remove(k);
            if std::env::var_os("KILN_COUNT_TRACE").is_some() {
                eprintln!(
                    "  join {}x{} over {:?}+{:?}",
                    joined.map.len(),
                    f.map.len(),
                    joined.scope,
                    f.scope
                );
            }
            joined = match join(t, &joined, &f)? {
                Some(j) => j,
                None => return Ok(None),
            };
        }
        if std::env::var_os("KILN_COUNT_TRACE").is_some() {
            eprintln!(
                "bucket {v}: scope {} join {}",
                joined.scope.len(),
                joined.map.len()
            );
        }
        for (scope, set) in &filt {
            let at: Vec<usize> = scope
                .iter()
                .map(|u| joined.scope.iter().position(|x| x == u).expect("covered"))
                .collect();
            let mut tu = vec![0u32; scope.len()];
            joined.map.retain(|&key, _| {
                for (k, &p) in at.iter().enumerate() {
                    tu[k] = digit(key, joined.mult[p], t.sizes[joined.scope[p]]);
                }
                !set.contains(&tu)
            });
        }
        // Sum out v.
        let p = joined
            .scope
            .iter()
            .position(|&u| u == v)
            .expect("v in its bucket");
        let rest: Vec<usize> = joined.scope.iter().copied().filter(|&u| u != v).collect();
        if rest.is_empty() {
            let mut s = C::from_u64(0);
            for c in joined.map.values() {
                match s.add(c) {
                    Some(x) => s = x,
                    None => return Ok(None),
                }
            }
            match total.mul(&s) {
                Some(x) => total = x,
                None => return Ok(None),
            }
            continue;
        }
        let mult = mults(t, &rest)?;
        let mut map: Map<C> =
            Map::with_capacity_and_hasher(joined.map.len() / 2, Default::default());
        for (key, c) in joined.map {
            let mut nk = 0u128;
            let mut k = 0;
            for (q, &u) in joined.scope.iter().enumerate() {
                if q == p {
                    continue;
                }
                nk += digit(key, joined.mult[q], t.sizes[u]) as u128 * mult[k];
                k += 1;
            }
            match map.get_mut(&nk) {
                Some(e) => match e.add(&c) {
                    Some(x) => *e = x,
                    None => return Ok(None),
                },
                None => {
                    map.insert(nk, c);
                }
            }
        }
        let f = Func {
            scope: rest,
            mult,
            map,
        };
        let b = first(&f.scope);
        buckets[b].push(f);
    }
    Ok(Some(total))
}

/// The natural join of two functions, counts multiplied; `Ok(None)` on overflow.
fn join<C: Count>(
    t: &TableEngine,
    a: &Func<C>,
    b: &Func<C>,
) -> Result<Option<Func<C>>, CountError> {
    let common: Vec<(usize, usize)> = a
        .scope
        .iter()
        .enumerate()
        .filter_map(|(i, u)| b.scope.iter().position(|x| x == u).map(|j| (i, j)))
        .collect();
    let extra: Vec<usize> = (0..b.scope.len())
        .filter(|j| !common.iter().any(|c| c.1 == *j))
        .collect();
    let mut scope = a.scope.clone();
    scope.extend(extra.iter().map(|&j| b.scope[j]));
    let mult = mults(t, &scope)?;
    // Index b by its values on the common variables.
    let ckey = |key: u128, f: &Func<C>, idx: &mut dyn Iterator<Item = usize>| -> u128 {
        let mut out = 0u128;
        for p in idx {
            out = out * t.sizes[f.scope[p]] as u128
                + digit(key, f.mult[p], t.sizes[f.scope[p]]) as u128;
        }
        out
    };
    let mut index: Map<Vec<(u128, &C)>> = Map::default();
    for (&key, c) in &b.map {
        let ck = ckey(key, b, &mut common.iter().map(|c| c.1));
        let mut ek = 0u128;
        for (k, &j) in extra.iter().enumerate() {
            ek += digit(key, b.mult[j], t.sizes[b.scope[j]]) as u128 * mult[a.scope.len() + k];
        }
        index.entry(ck).or_default().push((ek, c));
    }
    let mut map = Map::default();
    for (&key, c) in &a.map {
        let ck = ckey(key, a, &mut common.iter().map(|c| c.0));
        let Some(matches) = index.get(&ck) else {
            continue;
        };
        // `a`'s key is already laid out in `a`'s radix, which prefixes ours.
        let base: u128 = (0..a.scope.len())
            .map(|i| digit(key, a.mult[i], t.sizes[a.scope[i]]) as u128 * mult[i])
            .sum();
        for (ek, c2) in matches {
            match c.mul(c2) {
                Some(x) => {
                    map.insert(base + ek, x);
                }
                None => return Ok(None),
            }
        }
    }
    Ok(Some(Func { scope, mult, map }))
}
