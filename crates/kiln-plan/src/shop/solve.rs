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

use super::instance::Instance;
use super::orders::{Jobs, Move, NONE, Orders, Stored, critical_predecessor};
use super::schedule::{Objective, Schedule};
use super::tabu::{ASSIGN, Pick, Rng, TabuTable, Tenure, Walk, run_threads, search};

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
    let problem = Problem::new(instance, options);
    let (best, stats) = run_threads(options, problem.lb, |thread, shared| {
        let walk = Walker {
            p: &problem,
            st: State::new(&problem),
        };
        search(walk, options, thread, shared, stop)
    });
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
    jobs: Jobs,
    lb: u64,
    flexible: bool,
    tenure: Tenure,
}

impl Problem {
    fn new(instance: &Instance, options: &SolveOptions) -> Self {
        let n = instance.operations();
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
            jobs: Jobs::new(instance),
            lb: options.lower_bound.map_or(own_lb, |b| b.max(own_lb)),
            flexible: !instance.is_classic(),
            tenure: Tenure::new((tenure_min, tenure_max.max(tenure_min + 1)), options.tenure),
        }
    }
}

/// A solution scored by its makespan.
type Solution = Stored<u64>;

/// The working state of one thread.
struct State {
    o: Orders,
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
            o: Orders::new(p.n, p.m),
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
        self.o.load(&p.jobs, &sol.mach, &sol.seq);
        let ok = self.evaluate(p);
        debug_assert!(ok, "a stored solution is acyclic");
    }

    fn save(&self) -> Solution {
        self.o.save(self.makespan)
    }

    #[inline]
    fn mp(&self, v: u32) -> u32 {
        self.o.mprev[v as usize]
    }

    #[inline]
    fn ms(&self, v: u32) -> u32 {
        self.o.mnext[v as usize]
    }

    #[inline]
    fn end(&self, v: u32) -> u64 {
        if v == NONE {
            0
        } else {
            self.r[v as usize] + self.o.dur[v as usize]
        }
    }

    #[inline]
    fn tail_with(&self, v: u32) -> u64 {
        if v == NONE {
            0
        } else {
            self.q[v as usize] + self.o.dur[v as usize]
        }
    }

    /// Heads, tails, topological positions and makespan. False if the graph has a cycle.
    fn evaluate(&mut self, p: &Problem) -> bool {
        let n = p.n;
        self.o.sources(&p.jobs, &mut self.indeg, &mut self.order);
        let mut head = 0;
        while head < self.order.len() {
            let v = self.order[head];
            self.tpos[v as usize] = head as u32;
            head += 1;
            let start = self.end(p.jobs.jp[v as usize]).max(self.end(self.mp(v)));
            self.r[v as usize] = start;
            let js = p.jobs.js[v as usize];
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
                .tail_with(p.jobs.js[v as usize])
                .max(self.tail_with(self.ms(v)));
            self.q[v as usize] = t;
            makespan = makespan.max(self.r[v as usize] + self.o.dur[v as usize] + t);
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
            || self.r[yu] < self.r[xu] + self.o.dur[xu]
            || self.q[xu] < self.o.dur[yu] + self.q[yu]
    }

    /// One critical path, source to sink, into `self.path`.
    fn critical_path(&mut self, p: &Problem, rng: &mut Rng) {
        self.path.clear();
        let mut v = NONE;
        let mut seen = 0u64;
        for u in 0..p.n {
            if self.r[u] + self.o.dur[u] == self.makespan && self.q[u] == 0 {
                seen += 1;
                if rng.below(seen) == 0 {
                    v = u as u32;
                }
            }
        }
        while v != NONE {
            self.path.push(v);
            let start = self.r[v as usize];
            let a = p.jobs.jp[v as usize];
            let b = self.mp(v);
            let a_ok = a != NONE && self.end(a) == start;
            let b_ok = b != NONE && self.end(b) == start;
            v = critical_predecessor(a, a_ok, b, b_ok, rng);
        }
        self.path.reverse();
    }

    /// Estimated makespan after moving `v` (at index `i` of its machine) to index `j` of the
    /// same machine: heads and tails recomputed over the shifted segment.
    fn estimate_shift(&mut self, p: &Problem, k: usize, i: usize, j: usize) -> u64 {
        let s = &self.o.seq[k];
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
            let rw = t.max(self.end(p.jobs.jp[w as usize]));
            self.seg_r.push(rw);
            t = rw + self.o.dur[w as usize];
        }
        let mut t = self.tail_with(after);
        let mut est = 0;
        for (idx, &w) in self.seg.iter().enumerate().rev() {
            let qw = t.max(self.tail_with(p.jobs.js[w as usize]));
            let d = self.o.dur[w as usize];
            est = est.max(self.seg_r[idx] + d + qw);
            t = qw + d;
        }
        est
    }

    fn shift_feasible(&self, p: &Problem, k: usize, i: usize, j: usize) -> bool {
        let s = &self.o.seq[k];
        let v = s[i];
        if j > i {
            self.no_path(p.jobs.js[v as usize], s[j])
        } else {
            self.no_path(s[j], p.jobs.jp[v as usize])
        }
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
        if p.jobs.jp[v] == NONE {
            ready.push((v as u32, 0));
        }
    }
    while !ready.is_empty() {
        // Earliest completion over ready operations and their machines.
        let mut best = (u64::MAX, 0u32);
        for &(v, t) in &ready {
            for &(k, d) in &p.jobs.alts[v as usize] {
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
            if p.jobs.alts[v as usize].iter().any(|a| a.0 == k_star)
                && t.max(machine_free[k_star as usize]) < c_star
            {
                let score =
                    p.jobs.work_left[v as usize] + if noise > 0 { rng.below(noise + 1) } else { 0 };
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
                    p.jobs.alts[v as usize]
                        .iter()
                        .any(|&(k, d)| k == k_star && t.max(machine_free[k as usize]) + d == c_star)
                })
                .unwrap_or(0);
        }
        let (v, t) = ready.swap_remove(pick);
        let d = p.jobs.alts[v as usize]
            .iter()
            .find(|a| a.0 == k_star)
            .map_or(0, |a| a.1);
        let end = t.max(machine_free[k_star as usize]) + d;
        machine_free[k_star as usize] = end;
        mach[v as usize] = k_star;
        seq[k_star as usize].push(v);
        let js = p.jobs.js[v as usize];
        if js != NONE {
            ready.push((js, end));
        }
    }
    Solution {
        score: 0,
        mach,
        seq,
    }
}

/// The makespan search as [`super::tabu::search`] drives it.
struct Walker<'a> {
    p: &'a Problem,
    st: State,
}

impl Walk for Walker<'_> {
    type Sol = Solution;
    fn constructions(&self) -> u64 {
        8
    }
    fn construct(&mut self, attempt: u64, rng: &mut Rng) -> Solution {
        let p = self.p;
        let noise = if attempt == 0 { 0 } else { p.lb / 4 + 10 };
        construct(p, rng, noise)
    }
    fn current(&self) -> u64 {
        self.st.makespan
    }
    fn makespan(&self) -> u64 {
        self.st.makespan
    }
    fn save(&self) -> Solution {
        self.st.save()
    }
    fn load(&mut self, sol: &Solution) {
        self.st.load(self.p, sol);
    }
    fn optimal(&self, makespan: u64) -> bool {
        makespan <= self.p.lb || self.p.n == 0
    }
    fn stagnation(&self) -> u64 {
        2_000u64.max(10 * self.p.n as u64)
    }
    fn choose(&mut self, tabu: &TabuTable, best: u64, now: u64, rng: &mut Rng) -> Option<Move> {
        choose(self.p, &mut self.st, tabu, best, now, rng)
    }
    fn commit(&mut self, mv: Move, tabu: &mut TabuTable, now: u64, rng: &mut Rng) -> bool {
        let p = self.p;
        self.st.o.commit(&p.jobs, mv, tabu, now, p.tenure, rng);
        self.st.evaluate(self.p)
    }
    fn perturb(&mut self, rng: &mut Rng, count: usize) {
        perturb(self.p, &mut self.st, rng, count);
    }
}

/// The best non-tabu move on the critical path by its estimate (a tabu one if it beats
/// `best`, the best makespan so far), else a random tabu one.
fn choose(
    p: &Problem,
    st: &mut State,
    tabu: &TabuTable,
    best: u64,
    now: u64,
    rng: &mut Rng,
) -> Option<Move> {
    st.critical_path(p, rng);
    let mut pick: Pick<u64, Move> = Pick::new();
    // Critical blocks.
    let path_len = st.path.len();
    let mut b0 = 0;
    while b0 < path_len {
        let mut b1 = b0;
        while b1 + 1 < path_len && st.ms(st.path[b1]) == st.path[b1 + 1] {
            b1 += 1;
        }
        let k = st.o.mach[st.path[b0] as usize] as usize;
        let s = st.o.pos[st.path[b0] as usize] as usize;
        let e = st.o.pos[st.path[b1] as usize] as usize;
        if e > s {
            // N7: every op to the front or back, first/last op to any inner place.
            let mut consider = |st: &mut State, i: usize, j: usize, rng: &mut Rng| {
                if i == j || !st.shift_feasible(p, k, i, j) {
                    return;
                }
                let est = st.estimate_shift(p, k, i, j);
                let v = st.o.seq[k][i];
                let mv = Move {
                    v,
                    machine: k as u32,
                    to: j as u32,
                };
                let is_tabu = tabu.shift_is_tabu(&st.o.seq[k], i, j, now);
                pick.offer(est, mv, !is_tabu || est < best, rng);
            };
            // In the first block of the path (it starts at time 0) a move that keeps the
            // block's last operation last cannot shorten the path; in the last block, one
            // that keeps the first operation first cannot (Nowicki & Smutnicki).
            let first = b0 == 0;
            let last = b1 + 1 == path_len;
            for i in s + 1..=e {
                if !first || i == e {
                    consider(st, i, s, rng);
                }
            }
            for i in s..e {
                if !last || i == s {
                    consider(st, i, e, rng);
                }
            }
            for j in s + 1..e {
                if !first {
                    consider(st, s, j, rng);
                }
                if !last {
                    consider(st, e, j, rng);
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
            let jp = p.jobs.jp[vu];
            let js = p.jobs.js[vu];
            let head = st.end(jp);
            let tail = st.tail_with(js);
            let cur = st.o.mach[vu];
            for &(k2, d2) in &p.jobs.alts[vu] {
                if k2 == cur {
                    continue;
                }
                let is_tabu = tabu.is_tabu(v, k2, ASSIGN, now);
                let s2 = &st.o.seq[k2 as usize];
                for j in 0..=s2.len() {
                    let a = if j > 0 { s2[j - 1] } else { NONE };
                    let b = if j < s2.len() { s2[j] } else { NONE };
                    let est = head.max(st.end(a)) + d2 + tail.max(st.tail_with(b));
                    if pick.best().is_some_and(|b| est > b) {
                        continue;
                    }
                    if !st.no_path(js, a) || !st.no_path(b, jp) {
                        continue;
                    }
                    let mv = Move {
                        v,
                        machine: k2,
                        to: j as u32,
                    };
                    pick.offer(est, mv, !is_tabu || est < best, rng);
                }
            }
        }
    }
    pick.take()
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
        if p.flexible && p.jobs.alts[vu].len() > 1 && rng.chance(1, 2) {
            let (k2, _) = p.jobs.alts[vu][rng.below(p.jobs.alts[vu].len() as u64) as usize];
            if k2 != st.o.mach[vu] {
                let len = st.o.seq[k2 as usize].len();
                let j = rng.below(len as u64 + 1) as usize;
                let a = if j > 0 {
                    st.o.seq[k2 as usize][j - 1]
                } else {
                    NONE
                };
                let b = if j < len {
                    st.o.seq[k2 as usize][j]
                } else {
                    NONE
                };
                if st.no_path(p.jobs.js[vu], a) && st.no_path(b, p.jobs.jp[vu]) {
                    st.o.apply(&p.jobs, v, k2, j);
                    done = true;
                }
            }
        }
        if !done {
            // Swap with a machine neighbour when that keeps the graph acyclic.
            let k = st.o.mach[vu] as usize;
            let i = st.o.pos[vu] as usize;
            let len = st.o.seq[k].len();
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
                st.o.apply(&p.jobs, v, k as u32, j);
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

fn to_schedule(p: &Problem, instance: &Instance, sol: &Solution) -> Schedule {
    let mut st = State::new(p);
    st.load(p, sol);
    let operations = st.o.placed(instance, &st.r);
    Schedule {
        makespan: operations.iter().map(|o| o.end).max().unwrap_or(0),
        operations,
    }
}
