//! Tabu search on the disjunctive graph for job shops and flexible job shops.
//!
//! A solution is a machine for every operation and an order of the operations on every
//! machine. Heads (earliest starts) and tails (longest path after an operation ends) come
//! from one topological pass each, and give the makespan and one critical path.
//!
//! Moves, all on the critical path:
//!
//! - **Within a critical block** (consecutive critical operations on one machine): the N7
//!   neighbourhood of Zhang et al. (2007): an operation of the block moves to its front or
//!   its back, and the first or last operation moves to any place inside the block.
//!   Each move is estimated by recomputing heads and tails over the shifted segment only
//!   (Balas & Vazacopoulos style), which is exact for the path through the segment.
//! - **To another machine** (flexible job shop, Mastrolilli & Gambardella 2000): a critical
//!   operation is taken out and inserted at any position of another eligible machine where
//!   it cannot close a cycle; the estimate is the longest path through the operation at its
//!   new place.
//!
//! The best non-tabu estimate is applied and evaluated exactly. Tabu attributes are the
//! machine orders a move undid (pairs) and the machine an operation left. After a stretch
//! without improvement the search restarts from the best solution found so far (its own or
//! the other threads'), perturbed by a few random moves. The search is deterministic for a
//! given seed and iteration budget; the caller's `stop` callback ends it (a time limit, say),
//! so the library itself never reads a clock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::instance::Instance;
use super::schedule::{Objective, Placed, Schedule};

pub(super) const NONE: u32 = u32::MAX;

/// How to run the solver.
#[derive(Debug, Clone)]
pub struct SolveOptions {
    /// Seed for every random choice; the same seed and budget give the same schedule.
    pub seed: u64,
    /// Search threads (each its own seed, sharing the best solution at restarts).
    pub threads: usize,
    /// Iterations per thread; `None` runs until `stop` says so or the bound is reached.
    pub max_iterations: Option<u64>,
    /// A known lower bound (or a target): the search stops once the makespan reaches it.
    pub lower_bound: Option<u64>,
    /// Non-improving iterations before a restart from the best solution; `None` picks a
    /// value from the instance size.
    pub stagnation: Option<u64>,
    /// Random moves applied at a restart are drawn from `1..=perturbation`.
    pub perturbation: u64,
    /// Percent of restarts that go back to the best solution; the others perturb the
    /// current one.
    pub restart_from_best: u64,
    /// Tabu tenure range `(min, max)` in iterations; `None` follows Zhang et al.
    /// (`10 + jobs / machines`, up to 1.4 or 1.5 times that).
    pub tenure: Option<(u64, u64)>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            threads: 1,
            max_iterations: Some(20_000),
            lower_bound: None,
            stagnation: None,
            perturbation: 6,
            restart_from_best: 100,
            tenure: None,
        }
    }
}

/// What the search did, for reports and tuning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SolveStats {
    pub iterations: u64,
    pub restarts: u64,
    /// The lower bound used for early stopping (the instance's own, or the given one).
    pub lower_bound: u64,
    /// The makespan of the first (constructive) solution.
    pub initial_makespan: u64,
}

/// The best schedule found and how the search went.
#[derive(Debug, Clone)]
pub struct Solved {
    pub schedule: Schedule,
    /// Weighted tardiness (zero without due dates) and makespan of `schedule`.
    pub objective: Objective,
    pub stats: SolveStats,
}

/// Solves `instance`, calling `stop` between iterations to learn whether to end.
///
/// Plain instances (no releases, due dates or setups: the benchmark formats) minimise the
/// makespan with the search below; the others go to [`super::timed`], which minimises
/// weighted tardiness first, then the makespan.
pub fn solve(
    instance: &Instance,
    options: &SolveOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Solved {
    if !instance.is_plain() {
        return super::timed::solve(instance, options, stop);
    }
    let mut problem = Problem::new(instance, options.lower_bound);
    if let Some((lo, hi)) = options.tenure {
        problem.tenure_min = lo.max(1);
        problem.tenure_max = hi.max(problem.tenure_min);
    }
    let threads = options.threads.max(1);
    let shared = Shared {
        best: Mutex::new(None),
        done: AtomicBool::new(false),
    };
    let mut results: Vec<(Solution, SolveStats)> = Vec::with_capacity(threads);
    if threads == 1 {
        results.push(search(&problem, options, 0, &shared, stop));
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let problem = &problem;
                    let shared = &shared;
                    scope.spawn(move || search(problem, options, t as u64, shared, stop))
                })
                .collect();
            for h in handles {
                match h.join() {
                    Ok(r) => results.push(r),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
    }
    let mut stats = SolveStats {
        lower_bound: problem.lb,
        ..SolveStats::default()
    };
    let mut best: Option<Solution> = None;
    for (sol, st) in results {
        stats.iterations += st.iterations;
        stats.restarts += st.restarts;
        if stats.initial_makespan == 0 || st.initial_makespan < stats.initial_makespan {
            stats.initial_makespan = st.initial_makespan;
        }
        if best.as_ref().is_none_or(|b| sol.makespan < b.makespan) {
            best = Some(sol);
        }
    }
    let best = best.expect("at least one thread");
    let schedule = to_schedule(&problem, instance, &best);
    Solved {
        objective: Objective {
            weighted_tardiness: 0,
            makespan: schedule.makespan,
        },
        schedule,
        stats,
    }
}

/// The immutable part, shared by all threads.
struct Problem {
    n: usize,
    m: usize,
    jp: Vec<u32>,
    js: Vec<u32>,
    alts: Vec<Vec<(u32, u64)>>,
    /// Work left in the job from this operation on (shortest durations), for dispatching.
    work_left: Vec<u64>,
    lb: u64,
    flexible: bool,
    tenure_min: u64,
    tenure_max: u64,
}

impl Problem {
    fn new(instance: &Instance, given_lb: Option<u64>) -> Self {
        let n = instance.operations();
        let mut jp = vec![NONE; n];
        let mut js = vec![NONE; n];
        let mut alts = Vec::with_capacity(n);
        let mut work_left = vec![0u64; n];
        for (j, job) in instance.jobs().iter().enumerate() {
            let base = instance.job_starts()[j];
            for (k, op) in job.iter().enumerate() {
                let id = base + k;
                if k > 0 {
                    jp[id] = (id - 1) as u32;
                    js[id - 1] = id as u32;
                }
                alts.push(op.alternatives.clone());
            }
            let mut acc = 0;
            for k in (0..job.len()).rev() {
                acc += job[k].min_duration();
                work_left[base + k] = acc;
            }
        }
        let jobs = instance.jobs().len().max(1) as u64;
        let machines = instance.machines().max(1) as u64;
        // Zhang et al.'s tenure for flexible shops; classic shops did better with shorter
        // tenures in our runs (ft10: median iterations to 930 fell by about a third).
        let (tenure_min, tenure_max) = if instance.is_classic() {
            let t = 5 + jobs / machines;
            (t, t + 3)
        } else {
            let t = 10 + jobs / machines;
            (
                t,
                if jobs <= 2 * machines {
                    t * 14 / 10
                } else {
                    t * 15 / 10
                },
            )
        };
        let own_lb = instance.lower_bound();
        Self {
            n,
            m: instance.machines(),
            jp,
            js,
            alts,
            work_left,
            lb: given_lb.map_or(own_lb, |b| b.max(own_lb)),
            flexible: !instance.is_classic(),
            tenure_min,
            tenure_max: tenure_max.max(tenure_min + 1),
        }
    }
}

struct Shared {
    best: Mutex<Option<Solution>>,
    done: AtomicBool,
}

/// Machine choice and machine orders: everything else follows.
#[derive(Clone)]
struct Solution {
    makespan: u64,
    mach: Vec<u32>,
    seq: Vec<Vec<u32>>,
}

/// A small, fast, seedable generator (xorshift64*).
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        // splitmix64 scrambles the seed so that seeds 0, 1, 2 give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z | 1)
    }
    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    pub(super) fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

/// Tabu attributes in a fixed-size hashed table: a collision only makes a move tabu a little
/// longer, and memory stays constant whatever the instance size.
pub(super) struct TabuTable {
    expiry: Vec<u64>,
    mask: usize,
}

impl TabuTable {
    pub(super) fn new(bits: u32) -> Self {
        Self {
            expiry: vec![0; 1 << bits],
            mask: (1 << bits) - 1,
        }
    }
    fn slot(&self, a: u32, b: u32, kind: u64) -> usize {
        let h = (u64::from(a) << 32 | u64::from(b))
            .wrapping_add(kind.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_mul(0xD6E8_FEB8_6659_FD93);
        ((h >> 32) as usize) & self.mask
    }
    pub(super) fn is_tabu(&self, a: u32, b: u32, kind: u64, now: u64) -> bool {
        self.expiry[self.slot(a, b, kind)] > now
    }
    pub(super) fn set(&mut self, a: u32, b: u32, kind: u64, until: u64) {
        let s = self.slot(a, b, kind);
        self.expiry[s] = until;
    }
    pub(super) fn clear(&mut self) {
        self.expiry.fill(0);
    }
}

pub(super) const ORDER: u64 = 1;
pub(super) const ASSIGN: u64 = 2;

/// A candidate move: `v` goes to `machine` at final index `to` of its sequence.
#[derive(Clone, Copy)]
struct Move {
    v: u32,
    machine: u32,
    to: u32,
    #[allow(dead_code)]
    est: u64,
}

/// The working state of one thread.
struct State {
    mach: Vec<u32>,
    dur: Vec<u64>,
    seq: Vec<Vec<u32>>,
    pos: Vec<u32>,
    /// Machine predecessor and successor of each operation (`NONE` at the ends).
    mprev: Vec<u32>,
    mnext: Vec<u32>,
    r: Vec<u64>,
    q: Vec<u64>,
    tpos: Vec<u32>,
    makespan: u64,
    // scratch
    indeg: Vec<u8>,
    order: Vec<u32>,
    path: Vec<u32>,
    seg: Vec<u32>,
    seg_r: Vec<u64>,
}

impl State {
    fn new(p: &Problem) -> Self {
        Self {
            mach: vec![0; p.n],
            dur: vec![0; p.n],
            seq: vec![Vec::new(); p.m],
            pos: vec![0; p.n],
            mprev: vec![NONE; p.n],
            mnext: vec![NONE; p.n],
            r: vec![0; p.n],
            q: vec![0; p.n],
            tpos: vec![0; p.n],
            makespan: 0,
            indeg: vec![0; p.n],
            order: Vec::with_capacity(p.n),
            path: Vec::new(),
            seg: Vec::new(),
            seg_r: Vec::new(),
        }
    }

    fn load(&mut self, p: &Problem, sol: &Solution) {
        self.mach.clone_from(&sol.mach);
        for (k, s) in sol.seq.iter().enumerate() {
            self.seq[k].clone_from(s);
        }
        self.sync_derived(p);
        let ok = self.evaluate(p);
        debug_assert!(ok, "a stored solution is acyclic");
    }

    fn save(&self) -> Solution {
        Solution {
            makespan: self.makespan,
            mach: self.mach.clone(),
            seq: self.seq.clone(),
        }
    }

    fn sync_derived(&mut self, p: &Problem) {
        for v in 0..p.n {
            let m = self.mach[v];
            self.dur[v] = p.alts[v].iter().find(|a| a.0 == m).map_or(0, |a| a.1);
        }
        for k in 0..self.seq.len() {
            self.relink(k, 0);
        }
    }

    /// Positions and machine links of `seq[k]` from index `from` on (and the link into it).
    fn relink(&mut self, k: usize, from: usize) {
        let s = &self.seq[k];
        for i in from..s.len() {
            let v = s[i] as usize;
            self.pos[v] = i as u32;
            self.mprev[v] = if i > 0 { s[i - 1] } else { NONE };
            self.mnext[v] = if i + 1 < s.len() { s[i + 1] } else { NONE };
        }
        if from > 0 && from <= s.len() {
            let w = s[from - 1] as usize;
            self.mnext[w] = if from < s.len() { s[from] } else { NONE };
        }
    }

    #[inline]
    fn mp(&self, v: u32) -> u32 {
        self.mprev[v as usize]
    }

    #[inline]
    fn ms(&self, v: u32) -> u32 {
        self.mnext[v as usize]
    }

    #[inline]
    fn end(&self, v: u32) -> u64 {
        if v == NONE {
            0
        } else {
            self.r[v as usize] + self.dur[v as usize]
        }
    }

    #[inline]
    fn tail_with(&self, v: u32) -> u64 {
        if v == NONE {
            0
        } else {
            self.q[v as usize] + self.dur[v as usize]
        }
    }

    /// Heads, tails, topological positions and makespan. False if the graph has a cycle.
    fn evaluate(&mut self, p: &Problem) -> bool {
        let n = p.n;
        self.order.clear();
        for v in 0..n {
            let d = u8::from(p.jp[v] != NONE) + u8::from(self.pos[v] != 0);
            self.indeg[v] = d;
            if d == 0 {
                self.order.push(v as u32);
            }
        }
        let mut head = 0;
        while head < self.order.len() {
            let v = self.order[head];
            self.tpos[v as usize] = head as u32;
            head += 1;
            let start = self.end(p.jp[v as usize]).max(self.end(self.mp(v)));
            self.r[v as usize] = start;
            let js = p.js[v as usize];
            if js != NONE {
                self.indeg[js as usize] -= 1;
                if self.indeg[js as usize] == 0 {
                    self.order.push(js);
                }
            }
            let ms = self.ms(v);
            if ms != NONE {
                self.indeg[ms as usize] -= 1;
                if self.indeg[ms as usize] == 0 {
                    self.order.push(ms);
                }
            }
        }
        if self.order.len() != n {
            return false;
        }
        let mut makespan = 0;
        for i in (0..n).rev() {
            let v = self.order[i];
            let t = self
                .tail_with(p.js[v as usize])
                .max(self.tail_with(self.ms(v)));
            self.q[v as usize] = t;
            makespan = makespan.max(self.r[v as usize] + self.dur[v as usize] + t);
        }
        self.makespan = makespan;
        true
    }

    /// True when there is certainly no path from `x` to `y` (conservative).
    #[inline]
    fn no_path(&self, x: u32, y: u32) -> bool {
        if x == NONE || y == NONE {
            return true;
        }
        if x == y {
            return false;
        }
        let (xu, yu) = (x as usize, y as usize);
        self.tpos[yu] < self.tpos[xu]
            || self.r[yu] < self.r[xu] + self.dur[xu]
            || self.q[xu] < self.dur[yu] + self.q[yu]
    }

    /// One critical path, source to sink, into `self.path`.
    fn critical_path(&mut self, p: &Problem, rng: &mut Rng) {
        self.path.clear();
        let mut v = NONE;
        let mut seen = 0u64;
        for u in 0..p.n {
            if self.r[u] + self.dur[u] == self.makespan && self.q[u] == 0 {
                seen += 1;
                if rng.below(seen) == 0 {
                    v = u as u32;
                }
            }
        }
        while v != NONE {
            self.path.push(v);
            let start = self.r[v as usize];
            let a = p.jp[v as usize];
            let b = self.mp(v);
            let a_ok = a != NONE && self.end(a) == start;
            let b_ok = b != NONE && self.end(b) == start;
            v = match (a_ok, b_ok) {
                (true, true) => {
                    if rng.chance(1, 2) {
                        a
                    } else {
                        b
                    }
                }
                (true, false) => a,
                (false, true) => b,
                (false, false) => NONE,
            };
        }
        self.path.reverse();
    }

    /// Estimated makespan after moving `v` (at index `i` of its machine) to index `j` of the
    /// same machine: heads and tails recomputed over the shifted segment.
    fn estimate_shift(&mut self, p: &Problem, k: usize, i: usize, j: usize) -> u64 {
        let s = &self.seq[k];
        let v = s[i];
        self.seg.clear();
        let (lo, hi) = if j > i {
            self.seg.extend_from_slice(&s[i + 1..=j]);
            self.seg.push(v);
            (i, j)
        } else {
            self.seg.push(v);
            self.seg.extend_from_slice(&s[j..i]);
            (j, i)
        };
        let before = if lo > 0 { s[lo - 1] } else { NONE };
        let after = if hi + 1 < s.len() { s[hi + 1] } else { NONE };
        self.seg_r.clear();
        let mut t = self.end(before);
        for &w in &self.seg {
            let rw = t.max(self.end(p.jp[w as usize]));
            self.seg_r.push(rw);
            t = rw + self.dur[w as usize];
        }
        let mut t = self.tail_with(after);
        let mut est = 0;
        for (idx, &w) in self.seg.iter().enumerate().rev() {
            let qw = t.max(self.tail_with(p.js[w as usize]));
            let d = self.dur[w as usize];
            est = est.max(self.seg_r[idx] + d + qw);
            t = qw + d;
        }
        est
    }

    fn shift_feasible(&self, p: &Problem, k: usize, i: usize, j: usize) -> bool {
        let s = &self.seq[k];
        let v = s[i];
        if j > i {
            self.no_path(p.js[v as usize], s[j])
        } else {
            self.no_path(s[j], p.jp[v as usize])
        }
    }

    fn shift_tabu(&self, tabu: &TabuTable, k: usize, i: usize, j: usize, now: u64) -> bool {
        let s = &self.seq[k];
        let v = s[i];
        if j > i {
            s[i + 1..=j].iter().any(|&w| tabu.is_tabu(w, v, ORDER, now))
        } else {
            s[j..i].iter().any(|&w| tabu.is_tabu(v, w, ORDER, now))
        }
    }

    /// Moves `v` to index `to` of `machine` (index in the sequence after `v` is removed).
    fn apply(&mut self, p: &Problem, v: u32, machine: u32, to: usize) {
        let vu = v as usize;
        let from_k = self.mach[vu] as usize;
        let i = self.pos[vu] as usize;
        self.seq[from_k].remove(i);
        self.relink(from_k, i);
        let k = machine as usize;
        self.seq[k].insert(to, v);
        self.relink(k, to);
        self.mach[vu] = machine;
        self.dur[vu] = p.alts[vu]
            .iter()
            .find(|a| a.0 == machine)
            .map_or(0, |a| a.1);
    }
}

/// Greedy construction: Giffler–Thompson with a randomized most-work-remaining priority; in a
/// flexible shop the machine comes from the earliest completion.
fn construct(p: &Problem, rng: &mut Rng, noise: u64) -> Solution {
    let mut mach = vec![0u32; p.n];
    let mut seq: Vec<Vec<u32>> = vec![Vec::new(); p.m];
    let mut machine_free = vec![0u64; p.m];
    // The next operation of each job and when it may start.
    let mut ready: Vec<(u32, u64)> = Vec::new();
    for v in 0..p.n {
        if p.jp[v] == NONE {
            ready.push((v as u32, 0));
        }
    }
    while !ready.is_empty() {
        // Earliest completion over ready operations and their machines.
        let mut best = (u64::MAX, 0u32);
        for &(v, t) in &ready {
            for &(k, d) in &p.alts[v as usize] {
                let c = t.max(machine_free[k as usize]) + d;
                if c < best.0 {
                    best = (c, k);
                }
            }
        }
        let (c_star, k_star) = best;
        // Conflict set: ready operations that could start on k* before c*.
        let mut pick = usize::MAX;
        let mut pick_score = 0u64;
        for (idx, &(v, t)) in ready.iter().enumerate() {
            if p.alts[v as usize].iter().any(|a| a.0 == k_star)
                && t.max(machine_free[k_star as usize]) < c_star
            {
                let score =
                    p.work_left[v as usize] + if noise > 0 { rng.below(noise + 1) } else { 0 };
                if pick == usize::MAX || score > pick_score {
                    pick = idx;
                    pick_score = score;
                }
            }
        }
        if pick == usize::MAX {
            // Zero durations can leave the conflict set empty; take the op that set c*.
            pick = ready
                .iter()
                .position(|&(v, t)| {
                    p.alts[v as usize]
                        .iter()
                        .any(|&(k, d)| k == k_star && t.max(machine_free[k as usize]) + d == c_star)
                })
                .unwrap_or(0);
        }
        let (v, t) = ready.swap_remove(pick);
        let d = p.alts[v as usize]
            .iter()
            .find(|a| a.0 == k_star)
            .map_or(0, |a| a.1);
        let end = t.max(machine_free[k_star as usize]) + d;
        machine_free[k_star as usize] = end;
        mach[v as usize] = k_star;
        seq[k_star as usize].push(v);
        let js = p.js[v as usize];
        if js != NONE {
            ready.push((js, end));
        }
    }
    Solution {
        makespan: 0,
        mach,
        seq,
    }
}

fn search(
    p: &Problem,
    options: &SolveOptions,
    thread: u64,
    shared: &Shared,
    stop: &(dyn Fn() -> bool + Sync),
) -> (Solution, SolveStats) {
    let mut rng = Rng::new(options.seed ^ thread.wrapping_mul(0xA076_1D64_78BD_642F));
    let mut st = State::new(p);
    let mut stats = SolveStats::default();
    // Several constructions; keep the best as the start.
    let mut start: Option<Solution> = None;
    for attempt in 0..8u64 {
        let noise = if attempt == 0 { 0 } else { p.lb / 4 + 10 };
        let sol = construct(p, &mut rng, noise);
        st.load(p, &sol);
        if start.as_ref().is_none_or(|s| st.makespan < s.makespan) {
            start = Some(st.save());
        }
    }
    let start = start.expect("constructed");
    st.load(p, &start);
    stats.initial_makespan = st.makespan;
    let mut best = st.save();
    publish(shared, &best);
    if best.makespan <= p.lb || p.n == 0 {
        shared.done.store(true, Ordering::Relaxed);
        return (best, stats);
    }

    let mut tabu = TabuTable::new(16);
    let mut moves: Vec<Move> = Vec::new();
    let stagnation = options
        .stagnation
        .unwrap_or_else(|| 2_000u64.max(10 * p.n as u64))
        .max(1);
    let mut since_improve = 0u64;
    let mut iter = 0u64;
    let max_iter = options.max_iterations.unwrap_or(u64::MAX);
    while iter < max_iter {
        if shared.done.load(Ordering::Relaxed) || stop() {
            break;
        }
        iter += 1;
        st.critical_path(p, &mut rng);
        moves.clear();
        let now = iter;
        let mut best_est = u64::MAX;
        let mut chosen: Option<Move> = None;
        let mut ties = 0u64;
        let mut fallback: Option<Move> = None;
        let mut fallback_seen = 0u64;
        // Critical blocks.
        let path_len = st.path.len();
        let mut b0 = 0;
        while b0 < path_len {
            let mut b1 = b0;
            while b1 + 1 < path_len && st.ms(st.path[b1]) == st.path[b1 + 1] {
                b1 += 1;
            }
            let k = st.mach[st.path[b0] as usize] as usize;
            let s = st.pos[st.path[b0] as usize] as usize;
            let e = st.pos[st.path[b1] as usize] as usize;
            if e > s {
                // N7: every op to the front or back, first/last op to any inner place.
                let mut consider = |st: &mut State, i: usize, j: usize, rng: &mut Rng| {
                    if i == j || !st.shift_feasible(p, k, i, j) {
                        return;
                    }
                    let est = st.estimate_shift(p, k, i, j);
                    let v = st.seq[k][i];
                    let mv = Move {
                        v,
                        machine: k as u32,
                        to: j as u32,
                        est,
                    };
                    let is_tabu = st.shift_tabu(&tabu, k, i, j, now);
                    if !is_tabu || est < best.makespan {
                        if est < best_est {
                            best_est = est;
                            chosen = Some(mv);
                            ties = 1;
                        } else if est == best_est {
                            ties += 1;
                            if rng.below(ties) == 0 {
                                chosen = Some(mv);
                            }
                        }
                    } else {
                        fallback_seen += 1;
                        if rng.below(fallback_seen) == 0 {
                            fallback = Some(mv);
                        }
                    }
                };
                // In the first block of the path (it starts at time 0) a move that keeps the
                // block's last operation last cannot shorten the path; in the last block, one
                // that keeps the first operation first cannot (Nowicki & Smutnicki).
                let first = b0 == 0;
                let last = b1 + 1 == path_len;
                for i in s + 1..=e {
                    if !first || i == e {
                        consider(&mut st, i, s, &mut rng);
                    }
                }
                for i in s..e {
                    if !last || i == s {
                        consider(&mut st, i, e, &mut rng);
                    }
                }
                for j in s + 1..e {
                    if !first {
                        consider(&mut st, s, j, &mut rng);
                    }
                    if !last {
                        consider(&mut st, e, j, &mut rng);
                    }
                }
            }
            b0 = b1 + 1;
        }
        // Reassignment of critical operations (flexible shops).
        if p.flexible {
            for pi in 0..path_len {
                let v = st.path[pi];
                let vu = v as usize;
                let jp = p.jp[vu];
                let js = p.js[vu];
                let head = st.end(jp);
                let tail = st.tail_with(js);
                let cur = st.mach[vu];
                for &(k2, d2) in &p.alts[vu] {
                    if k2 == cur {
                        continue;
                    }
                    let is_tabu = tabu.is_tabu(v, k2, ASSIGN, now);
                    let s2 = &st.seq[k2 as usize];
                    for j in 0..=s2.len() {
                        let a = if j > 0 { s2[j - 1] } else { NONE };
                        let b = if j < s2.len() { s2[j] } else { NONE };
                        let est = head.max(st.end(a)) + d2 + tail.max(st.tail_with(b));
                        if est > best_est {
                            continue;
                        }
                        if !st.no_path(js, a) || !st.no_path(b, jp) {
                            continue;
                        }
                        let mv = Move {
                            v,
                            machine: k2,
                            to: j as u32,
                            est,
                        };
                        if !is_tabu || est < best.makespan {
                            if est < best_est {
                                best_est = est;
                                chosen = Some(mv);
                                ties = 1;
                            } else if est == best_est {
                                ties += 1;
                                if rng.below(ties) == 0 {
                                    chosen = Some(mv);
                                }
                            }
                        } else {
                            fallback_seen += 1;
                            if rng.below(fallback_seen) == 0 {
                                fallback = Some(mv);
                            }
                        }
                    }
                }
            }
        }
        let Some(mv) = chosen.or(fallback) else {
            // No move at all: the critical path is one job with nothing to exchange, so the
            // makespan equals that job's length and cannot improve.
            break;
        };
        apply_move(p, &mut st, &mut tabu, &mut rng, mv, now);
        if !st.evaluate(p) {
            // Conservative feasibility tests make this unreachable; recover anyway.
            st.load(p, &best);
            continue;
        }
        if st.makespan < best.makespan {
            best = st.save();
            since_improve = 0;
            publish(shared, &best);
            if best.makespan <= p.lb {
                shared.done.store(true, Ordering::Relaxed);
                break;
            }
        } else {
            since_improve += 1;
        }
        if since_improve >= stagnation {
            since_improve = 0;
            stats.restarts += 1;
            if rng.below(100) < options.restart_from_best {
                let global = shared.best.lock().ok().and_then(|g| g.clone());
                let from = match global {
                    Some(g)
                        if g.makespan < best.makespan
                            || (g.makespan == best.makespan && rng.chance(1, 2)) =>
                    {
                        g
                    }
                    _ => best.clone(),
                };
                st.load(p, &from);
            }
            let count = 1 + rng.below(options.perturbation.max(1)) as usize;
            perturb(p, &mut st, &mut rng, count);
            tabu.clear();
        }
    }
    stats.iterations = iter;
    (best, stats)
}

fn apply_move(
    p: &Problem,
    st: &mut State,
    tabu: &mut TabuTable,
    rng: &mut Rng,
    mv: Move,
    now: u64,
) {
    let v = mv.v;
    let vu = v as usize;
    let from_k = st.mach[vu];
    let i = st.pos[vu] as usize;
    let j = mv.to as usize;
    let span = p.tenure_max - p.tenure_min + 1;
    if from_k == mv.machine {
        let k = from_k as usize;
        if j > i {
            for idx in i + 1..=j {
                let w = st.seq[k][idx];
                let until = now + p.tenure_min + rng.below(span);
                tabu.set(v, w, ORDER, until);
            }
        } else {
            for idx in j..i {
                let w = st.seq[k][idx];
                let until = now + p.tenure_min + rng.below(span);
                tabu.set(w, v, ORDER, until);
            }
        }
    } else {
        let until = now + p.tenure_min + rng.below(span);
        tabu.set(v, from_k, ASSIGN, until);
    }
    st.apply(p, v, mv.machine, j);
}

/// A few random feasible moves on the critical path, to leave a local optimum.
fn perturb(p: &Problem, st: &mut State, rng: &mut Rng, count: usize) {
    for _ in 0..count {
        st.critical_path(p, rng);
        if st.path.is_empty() {
            return;
        }
        let v = st.path[rng.below(st.path.len() as u64) as usize];
        let vu = v as usize;
        let mut done = false;
        if p.flexible && p.alts[vu].len() > 1 && rng.chance(1, 2) {
            let (k2, _) = p.alts[vu][rng.below(p.alts[vu].len() as u64) as usize];
            if k2 != st.mach[vu] {
                let len = st.seq[k2 as usize].len();
                let j = rng.below(len as u64 + 1) as usize;
                let a = if j > 0 {
                    st.seq[k2 as usize][j - 1]
                } else {
                    NONE
                };
                let b = if j < len {
                    st.seq[k2 as usize][j]
                } else {
                    NONE
                };
                if st.no_path(p.js[vu], a) && st.no_path(b, p.jp[vu]) {
                    st.apply(p, v, k2, j);
                    done = true;
                }
            }
        }
        if !done {
            // Swap with a machine neighbour when that keeps the graph acyclic.
            let k = st.mach[vu] as usize;
            let i = st.pos[vu] as usize;
            let len = st.seq[k].len();
            let j = if rng.chance(1, 2) && i + 1 < len {
                i + 1
            } else if i > 0 {
                i - 1
            } else if i + 1 < len {
                i + 1
            } else {
                continue;
            };
            if st.shift_feasible(p, k, i, j) {
                st.apply(p, v, k as u32, j);
                done = true;
            }
        }
        if done && !st.evaluate(p) {
            // Cannot happen with the feasibility tests above; stay safe.
            break;
        }
    }
    let ok = st.evaluate(p);
    debug_assert!(ok, "perturbation produced a cycle");
}

fn publish(shared: &Shared, sol: &Solution) {
    if let Ok(mut g) = shared.best.lock()
        && g.as_ref().is_none_or(|b| sol.makespan < b.makespan)
    {
        *g = Some(sol.clone());
    }
}

fn to_schedule(p: &Problem, instance: &Instance, sol: &Solution) -> Schedule {
    let mut st = State::new(p);
    st.load(p, sol);
    let mut operations = Vec::with_capacity(p.n);
    for (j, job) in instance.jobs().iter().enumerate() {
        for k in 0..job.len() {
            let v = instance.op_id(j, k);
            operations.push(Placed {
                job: j,
                op: k,
                machine: st.mach[v],
                start: st.r[v],
                end: st.r[v] + st.dur[v],
            });
        }
    }
    Schedule {
        makespan: operations.iter().map(|o| o.end).max().unwrap_or(0),
        operations,
    }
}
