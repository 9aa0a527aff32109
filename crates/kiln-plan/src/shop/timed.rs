//! Tabu search for shops with release times, due dates and sequence-dependent setups: the
//! platform's kind of instance. The objective is lexicographic: total weighted tardiness
//! first, then the makespan.
//!
//! Same representation as [`super::solve`] (a machine per operation, an order per machine),
//! but a machine arc `u → v` now weighs `p(u) + setup(u, v)` and every operation starts no
//! earlier than its job's release. With setups the block arguments of the makespan search no
//! longer hold and tardiness has one critical path per tardy job, so moves are evaluated
//! exactly instead of estimated, over the operations that start after what they change:
//!
//! - the operations on the critical path to the makespan and to up to three tardy jobs
//!   (drawn by the tardiness they could still lose) are the candidates;
//! - each moves to any place within `WINDOW` positions on its machine, and (flexible shops)
//!   to another eligible machine within `WINDOW` places of where its start would fall;
//! - at most `SAMPLE` of these moves, drawn at random, are evaluated per iteration.
//!
//! Tabu attributes, aspiration, restarts from the best solution and threads sharing it work
//! as in the makespan search. The start is the best of several Giffler–Thompson
//! constructions with setups and releases, under most-work-remaining, earliest-due-date,
//! least-slack, weighted-slack and earliest-start priorities.

use super::instance::Instance;
use super::orders::{Jobs, Move, NONE, Orders, Stored, critical_predecessor};
use super::schedule::{Objective, Schedule};
use super::solve::{SolveOptions, Solved};
use super::tabu::{ASSIGN, Pick, Rng, TabuTable, Tenure, Walk, run_threads, search};

/// How far along a machine an operation may move in one step.
const WINDOW: usize = 6;
/// At most this many candidate moves are evaluated per iteration.
const SAMPLE: usize = 64;
/// "No due date", far beyond any time an instance can reach.
const NEVER: u64 = u64::MAX / 4;

pub(super) fn solve(
    instance: &Instance,
    options: &SolveOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Solved {
    let p = Prob::new(instance, options);
    let (best, stats) = run_threads(options, p.lb, |thread, shared| {
        let walk = Walker {
            p: &p,
            st: St::new(&p),
            moves: Vec::new(),
        };
        search(walk, options, thread, shared, stop)
    });
    let mut st = St::new(&p);
    st.load(&p, &best);
    let operations = st.o.placed(instance, &st.r);
    Solved {
        schedule: Schedule {
            makespan: st.obj.makespan,
            operations,
        },
        objective: st.obj,
        stats,
    }
}

/// The immutable part, shared by all threads.
struct Prob<'a> {
    inst: &'a Instance,
    n: usize,
    m: usize,
    jobs: Jobs,
    /// Per operation: its job and the job's release.
    job: Vec<u32>,
    release: Vec<u64>,
    /// Per job: its last operation (`NONE` when empty), earliest possible completion, due
    /// date (`NEVER` if none), weight.
    last: Vec<u32>,
    earliest: Vec<u64>,
    due: Vec<u64>,
    weight: Vec<u64>,
    lb: u64,
    flexible: bool,
    tenure: Tenure,
}

impl<'a> Prob<'a> {
    fn new(inst: &'a Instance, options: &SolveOptions) -> Self {
        let n = inst.operations();
        let jobs = inst.jobs().len();
        let mut p = Self {
            inst,
            n,
            m: inst.machines(),
            jobs: Jobs::new(inst),
            job: vec![0; n],
            release: vec![0; n],
            last: vec![NONE; jobs],
            earliest: vec![0; jobs],
            due: vec![NEVER; jobs],
            weight: vec![0; jobs],
            lb: 0,
            flexible: !inst.is_classic(),
            tenure: Tenure { min: 0, max: 0 },
        };
        for (j, ops) in inst.jobs().iter().enumerate() {
            let base = inst.job_starts()[j];
            let terms = inst.terms(j);
            p.job[base..base + ops.len()].fill(j as u32);
            p.release[base..base + ops.len()].fill(terms.release);
            let mut work = 0;
            if !ops.is_empty() {
                p.last[j] = (base + ops.len() - 1) as u32;
                work = p.jobs.work_left[base];
            }
            p.earliest[j] = terms.release + work;
            p.due[j] = terms.due.unwrap_or(NEVER);
            p.weight[j] = terms.weight;
        }
        let own_lb = inst.lower_bound();
        p.lb = options.lower_bound.map_or(own_lb, |b| b.max(own_lb));
        let t = 10 + jobs.max(1) as u64 / inst.machines().max(1) as u64;
        p.tenure = Tenure::new((t, t * 3 / 2), options.tenure);
        p
    }

    /// Setup between operation `a` (or nothing) and operation `b` on machine `k`.
    #[inline]
    fn setup(&self, k: u32, a: u32, b: u32) -> u64 {
        if a == NONE {
            0
        } else {
            self.inst.setup(
                k,
                self.job[a as usize] as usize,
                self.job[b as usize] as usize,
            )
        }
    }
}

/// A solution scored by weighted tardiness, then makespan.
type Sol = Stored<Objective>;

#[derive(Clone)]
struct St {
    o: Orders,
    r: Vec<u64>,
    obj: Objective,
    indeg: Vec<u8>,
    /// A topological order of the committed solution, each operation's place in it, and
    /// over its first `t` operations the largest end (`pre_end[t]`) and the weighted
    /// tardiness of the jobs that end there (`pre_late[t]`).
    order: Vec<u32>,
    tpos: Vec<u32>,
    pre_end: Vec<u64>,
    pre_late: Vec<u64>,
    /// Scratch for evaluating a move: heads of the re-evaluated suffix, and its queue.
    r2: Vec<u64>,
    queue: Vec<u32>,
    mark: Vec<bool>,
    crit: Vec<u32>,
}

impl St {
    fn new(p: &Prob) -> Self {
        Self {
            o: Orders::new(p.n, p.m),
            r: vec![0; p.n],
            obj: Objective::default(),
            indeg: vec![0; p.n],
            order: Vec::with_capacity(p.n),
            tpos: vec![0; p.n],
            pre_end: vec![0; p.n + 1],
            pre_late: vec![0; p.n + 1],
            r2: vec![0; p.n],
            queue: Vec::with_capacity(p.n),
            mark: vec![false; p.n],
            crit: Vec::new(),
        }
    }

    fn load(&mut self, p: &Prob, sol: &Sol) {
        self.o.load(&p.jobs, &sol.mach, &sol.seq);
        let ok = self.evaluate(p);
        debug_assert!(ok, "a stored solution is acyclic");
    }

    fn save(&self) -> Sol {
        self.o.save(self.obj)
    }

    #[inline]
    fn end(&self, v: u32) -> u64 {
        if v == NONE {
            0
        } else {
            self.r[v as usize] + self.o.dur[v as usize]
        }
    }

    /// Weighted tardiness of job `j` completing at `end`.
    #[inline]
    fn late(p: &Prob, j: usize, end: u64) -> u64 {
        if p.due[j] == NEVER {
            0
        } else {
            p.weight[j].saturating_mul(end.saturating_sub(p.due[j]))
        }
    }

    /// Heads, the topological order with its prefix sums, and the objective. False if the
    /// graph has a cycle.
    fn evaluate(&mut self, p: &Prob) -> bool {
        self.o.sources(&p.jobs, &mut self.indeg, &mut self.order);
        let mut head = 0;
        while head < self.order.len() {
            let v = self.order[head];
            let vu = v as usize;
            head += 1;
            let mp = self.o.mprev[vu];
            let from_machine = if mp == NONE {
                0
            } else {
                self.end(mp) + p.setup(self.o.mach[vu], mp, v)
            };
            self.r[vu] = p.release[vu].max(self.end(p.jobs.jp[vu])).max(from_machine);
            for w in [p.jobs.js[vu], self.o.mnext[vu]] {
                if w != NONE {
                    self.indeg[w as usize] -= 1;
                    if self.indeg[w as usize] == 0 {
                        self.order.push(w);
                    }
                }
            }
        }
        if self.order.len() != p.n {
            return false;
        }
        // By start time (stable, so ties keep the Kahn order and zero-length arcs stay
        // forward): a move then re-evaluates only what starts after what it changes.
        let r = &self.r;
        self.order.sort_by_key(|&v| r[v as usize]);
        for (t, &v) in self.order.iter().enumerate() {
            let vu = v as usize;
            self.tpos[vu] = t as u32;
            let end = self.r[vu] + self.o.dur[vu];
            self.pre_end[t + 1] = self.pre_end[t].max(end);
            let late = if p.jobs.js[vu] == NONE {
                Self::late(p, p.job[vu] as usize, end)
            } else {
                0
            };
            self.pre_late[t + 1] = self.pre_late[t].saturating_add(late);
        }
        self.obj = Objective {
            weighted_tardiness: self.pre_late[p.n],
            makespan: self.pre_end[p.n],
        };
        true
    }

    /// The objective after the links changed for operations that all sit at or after place
    /// `t0` of the committed topological order. Operations before `t0` keep their heads (so
    /// do all their ancestors), and a new cycle can only run through operations after it, so
    /// only the suffix is evaluated, into `r2`. `None` on a cycle.
    fn evaluate_from(&mut self, p: &Prob, t0: usize) -> Option<Objective> {
        let in_suffix = |st: &St, w: u32| w != NONE && st.tpos[w as usize] as usize >= t0;
        self.queue.clear();
        for t in t0..p.n {
            let v = self.order[t];
            let d = u8::from(in_suffix(self, p.jobs.jp[v as usize]))
                + u8::from(in_suffix(self, self.o.mprev[v as usize]));
            self.indeg[v as usize] = d;
            if d == 0 {
                self.queue.push(v);
            }
        }
        let end_of = |st: &St, w: u32| -> u64 {
            if w == NONE {
                0
            } else if st.tpos[w as usize] as usize >= t0 {
                st.r2[w as usize] + st.o.dur[w as usize]
            } else {
                st.r[w as usize] + st.o.dur[w as usize]
            }
        };
        let mut obj = Objective {
            weighted_tardiness: self.pre_late[t0],
            makespan: self.pre_end[t0],
        };
        let mut head = 0;
        while head < self.queue.len() {
            let v = self.queue[head];
            let vu = v as usize;
            head += 1;
            let mp = self.o.mprev[vu];
            let from_machine = if mp == NONE {
                0
            } else {
                end_of(self, mp) + p.setup(self.o.mach[vu], mp, v)
            };
            let r = p.release[vu]
                .max(end_of(self, p.jobs.jp[vu]))
                .max(from_machine);
            self.r2[vu] = r;
            let end = r + self.o.dur[vu];
            obj.makespan = obj.makespan.max(end);
            let js = p.jobs.js[vu];
            if js == NONE {
                obj.weighted_tardiness =
                    obj.weighted_tardiness
                        .saturating_add(Self::late(p, p.job[vu] as usize, end));
            }
            for w in [js, self.o.mnext[vu]] {
                if w != NONE {
                    self.indeg[w as usize] -= 1;
                    if self.indeg[w as usize] == 0 {
                        self.queue.push(w);
                    }
                }
            }
        }
        (self.queue.len() == p.n - t0).then_some(obj)
    }

    /// Adds the operations of one critical path ending at `v` to `crit` (once each).
    fn trace(&mut self, p: &Prob, mut v: u32, rng: &mut Rng) {
        while v != NONE {
            let vu = v as usize;
            if !self.mark[vu] {
                self.mark[vu] = true;
                self.crit.push(v);
            }
            let start = self.r[vu];
            let a = p.jobs.jp[vu];
            let b = self.o.mprev[vu];
            let a_ok = a != NONE && self.end(a) == start;
            let b_ok = b != NONE && self.end(b) + p.setup(self.o.mach[vu], b, v) == start;
            v = critical_predecessor(a, a_ok, b, b_ok, rng);
        }
    }

    /// The candidates: operations on the critical paths to the makespan and to up to three
    /// tardy jobs drawn by the tardiness they could still lose (`all`: every such job).
    fn critical(&mut self, p: &Prob, rng: &mut Rng, all: bool) {
        for &v in &self.crit {
            self.mark[v as usize] = false;
        }
        self.crit.clear();
        if self.obj.makespan > p.lb {
            let mut sink = NONE;
            let mut seen = 0;
            for v in 0..p.n {
                if self.r[v] + self.o.dur[v] == self.obj.makespan {
                    seen += 1;
                    if rng.below(seen) == 0 {
                        sink = v as u32;
                    }
                }
            }
            self.trace(p, sink, rng);
        }
        if self.obj.weighted_tardiness == 0 {
            return;
        }
        // A job cannot finish before its release plus its shortest durations: tardiness up
        // to there is no reason to move anything.
        let cost = |st: &St, j: usize| -> u64 {
            let l = p.last[j];
            if l == NONE || p.due[j] == NEVER {
                0
            } else {
                let floor = p.due[j].max(p.earliest[j]);
                p.weight[j].saturating_mul(st.end(l).saturating_sub(floor))
            }
        };
        if all {
            for j in 0..p.last.len() {
                if cost(self, j) > 0 {
                    self.trace(p, p.last[j], rng);
                }
            }
            return;
        }
        let total = (0..p.last.len()).fold(0u64, |a, j| a.saturating_add(cost(self, j)));
        if total == 0 {
            return;
        }
        for _ in 0..3 {
            let mut pick = rng.below(total);
            for j in 0..p.last.len() {
                let c = cost(self, j);
                if pick < c {
                    self.trace(p, p.last[j], rng);
                    break;
                }
                pick -= c;
            }
        }
    }

    /// True when the move would restore a machine order or assignment that is tabu.
    fn is_tabu(&self, tabu: &TabuTable, mv: Move, now: u64) -> bool {
        let vu = mv.v as usize;
        let k = self.o.mach[vu];
        if mv.machine != k {
            return tabu.is_tabu(mv.v, mv.machine, ASSIGN, now);
        }
        tabu.shift_is_tabu(
            &self.o.seq[k as usize],
            self.o.pos[vu] as usize,
            mv.to as usize,
            now,
        )
    }

    /// Every candidate move of the critical operations, into `out`.
    fn moves(&self, p: &Prob, out: &mut Vec<Move>) {
        out.clear();
        for &v in &self.crit {
            let vu = v as usize;
            let k = self.o.mach[vu];
            let len = self.o.seq[k as usize].len();
            let i = self.o.pos[vu] as usize;
            for j in i.saturating_sub(WINDOW)..=(i + WINDOW).min(len - 1) {
                if j != i {
                    out.push(Move {
                        v,
                        machine: k,
                        to: j as u32,
                    });
                }
            }
            if !p.flexible {
                continue;
            }
            for &(k2, _) in &p.jobs.alts[vu] {
                if k2 == k {
                    continue;
                }
                let s2 = &self.o.seq[k2 as usize];
                // Starts along a machine never decrease: place near where `v` starts now.
                let c = s2.partition_point(|&w| self.r[w as usize] < self.r[vu]);
                let lo = c.saturating_sub(WINDOW);
                let hi = (c + WINDOW).min(s2.len());
                for j in lo..=hi {
                    out.push(Move {
                        v,
                        machine: k2,
                        to: j as u32,
                    });
                }
            }
        }
    }

    /// The objective after `mv`, or `None` if it closes a cycle. The committed state
    /// (heads, order) is left as it was.
    fn try_move(&mut self, p: &Prob, mv: Move) -> Option<Objective> {
        let vu = mv.v as usize;
        let (k, i) = (self.o.mach[vu], self.o.pos[vu] as usize);
        let j = mv.to as usize;
        // The operations whose machine predecessor (or duration) changes: the first in
        // the committed order bounds what must be evaluated again.
        let s = &self.o.seq[k as usize];
        let tp = |w: u32| self.tpos[w as usize];
        let t0 = if mv.machine == k {
            // Old places min(i, j) ..= max(i, j) + 1 get a new machine predecessor.
            let hi = (i.max(j) + 1).min(s.len() - 1);
            s[i.min(j)..=hi].iter().map(|&w| tp(w)).min().unwrap_or(0)
        } else {
            // `v` itself, its old machine successor, and its new one.
            let s2 = &self.o.seq[mv.machine as usize];
            let mut t = tp(mv.v);
            if i + 1 < s.len() {
                t = t.min(tp(s[i + 1]));
            }
            if j < s2.len() {
                t = t.min(tp(s2[j]));
            }
            t
        } as usize;
        self.o.apply(&p.jobs, mv.v, mv.machine, j);
        let result = self.evaluate_from(p, t0);
        #[cfg(debug_assertions)]
        {
            let mut full = self.clone();
            let ok = full.evaluate(p);
            debug_assert_eq!(result, ok.then_some(full.obj), "suffix evaluation");
        }
        self.o.apply(&p.jobs, mv.v, k, i);
        result
    }
}

/// Giffler–Thompson with releases and setups. `rule`: 0 most work remaining, 1 earliest due
/// date, 2 least slack, 3 weighted least slack, 4 earliest start (batches families).
fn construct(p: &Prob, rng: &mut Rng, rule: u64, noise: u64) -> Sol {
    let mut mach = vec![0u32; p.n];
    let mut seq: Vec<Vec<u32>> = vec![Vec::new(); p.m];
    let mut free = vec![0u64; p.m];
    let mut last = vec![NONE; p.m];
    let mut ready: Vec<(u32, u64)> = Vec::new();
    for v in 0..p.n {
        if p.jobs.jp[v] == NONE {
            ready.push((v as u32, p.release[v]));
        }
    }
    let start_on = |free: &[u64], last: &[u32], v: u32, t: u64, k: u32| -> u64 {
        t.max(free[k as usize] + p.setup(k, last[k as usize], v))
    };
    while !ready.is_empty() {
        let mut best = (u64::MAX, 0u32);
        for &(v, t) in &ready {
            for &(k, d) in &p.jobs.alts[v as usize] {
                let c = start_on(&free, &last, v, t, k) + d;
                if c < best.0 {
                    best = (c, k);
                }
            }
        }
        let (c_star, k_star) = best;
        let mut pick = usize::MAX;
        let mut pick_score = i128::MIN;
        for (idx, &(v, t)) in ready.iter().enumerate() {
            let vu = v as usize;
            let Some(d) = p.jobs.alts[vu].iter().find(|a| a.0 == k_star).map(|a| a.1) else {
                continue;
            };
            let s = start_on(&free, &last, v, t, k_star);
            if s >= c_star && !(d == 0 && s == c_star) {
                continue;
            }
            let j = p.job[vu] as usize;
            let slack = i128::from(p.due[j]) - i128::from(s) - i128::from(p.jobs.work_left[vu]);
            let mut score: i128 = match rule {
                0 => i128::from(p.jobs.work_left[vu]),
                1 => -i128::from(p.due[j]),
                2 => -slack,
                3 => i128::from(p.weight[j]) * (1 << 40) / slack.max(1),
                _ => -i128::from(s) * (1 << 20) - i128::from(p.due[j].min(1 << 19)),
            };
            if noise > 0 {
                score += i128::from(rng.below(noise + 1));
            }
            if pick == usize::MAX || score > pick_score {
                pick = idx;
                pick_score = score;
            }
        }
        if pick == usize::MAX {
            pick = ready
                .iter()
                .position(|&(v, t)| {
                    p.jobs.alts[v as usize]
                        .iter()
                        .any(|&(k, d)| k == k_star && start_on(&free, &last, v, t, k) + d == c_star)
                })
                .unwrap_or(0);
        }
        let (v, t) = ready.swap_remove(pick);
        let d = p.jobs.alts[v as usize]
            .iter()
            .find(|a| a.0 == k_star)
            .map_or(0, |a| a.1);
        let end = start_on(&free, &last, v, t, k_star) + d;
        free[k_star as usize] = end;
        last[k_star as usize] = v;
        mach[v as usize] = k_star;
        seq[k_star as usize].push(v);
        let js = p.jobs.js[v as usize];
        if js != NONE {
            ready.push((js, end));
        }
    }
    Sol {
        score: Objective::default(),
        mach,
        seq,
    }
}

/// The tardiness search as [`super::tabu::search`] drives it.
struct Walker<'p, 'a> {
    p: &'p Prob<'a>,
    st: St,
    moves: Vec<Move>,
}

impl Walk for Walker<'_, '_> {
    type Sol = Sol;
    fn constructions(&self) -> u64 {
        10
    }
    /// Each priority rule once as it is, then once with noise.
    fn construct(&mut self, attempt: u64, rng: &mut Rng) -> Sol {
        let p = self.p;
        let noise = if attempt < 5 { 0 } else { p.lb / 4 + 10 };
        construct(p, rng, attempt % 5, noise)
    }
    fn current(&self) -> Objective {
        self.st.obj
    }
    fn makespan(&self) -> u64 {
        self.st.obj.makespan
    }
    fn save(&self) -> Sol {
        self.st.save()
    }
    fn load(&mut self, sol: &Sol) {
        self.st.load(self.p, sol);
    }
    fn optimal(&self, o: Objective) -> bool {
        (o.weighted_tardiness == 0 && o.makespan <= self.p.lb) || self.p.n == 0
    }
    fn stagnation(&self) -> u64 {
        300u64.max(10 * self.p.n as u64)
    }
    fn choose(
        &mut self,
        tabu: &TabuTable,
        best: Objective,
        now: u64,
        rng: &mut Rng,
    ) -> Option<Move> {
        let (p, st, moves) = (self.p, &mut self.st, &mut self.moves);
        let mut pick: Pick<Objective, Move> = Pick::new();
        // The sampled paths may offer no move (a job alone on its path); then try them all.
        for all in [false, true] {
            st.critical(p, rng, all);
            st.moves(p, moves);
            // On large instances a random sample of the candidates (each costs a pass over
            // what starts after it): many more iterations for the same time.
            if moves.len() > SAMPLE {
                for i in 0..SAMPLE {
                    let j = i + rng.below((moves.len() - i) as u64) as usize;
                    moves.swap(i, j);
                }
                moves.truncate(SAMPLE);
            }
            for &mv in moves.iter() {
                let tabu_move = st.is_tabu(tabu, mv, now);
                let Some(obj) = st.try_move(p, mv) else {
                    continue;
                };
                pick.offer(obj, mv, !tabu_move || obj < best, rng);
            }
            if pick.any() {
                break;
            }
        }
        pick.take()
    }
    fn commit(&mut self, mv: Move, tabu: &mut TabuTable, now: u64, rng: &mut Rng) -> bool {
        let (p, st) = (self.p, &mut self.st);
        st.o.commit(&p.jobs, mv, tabu, now, p.tenure, rng);
        st.evaluate(p)
    }
    fn perturb(&mut self, rng: &mut Rng, count: usize) {
        perturb(self.p, &mut self.st, rng, count);
    }
}

/// A few random moves of any operation (not only critical ones: with setups an operation
/// off the critical path may be the one to move), each kept only if acyclic.
fn perturb(p: &Prob, st: &mut St, rng: &mut Rng, count: usize) {
    for _ in 0..count {
        let v = rng.below(p.n as u64) as u32;
        let vu = v as usize;
        let (k, i) = (st.o.mach[vu], st.o.pos[vu] as usize);
        let (k2, j) = if p.flexible && p.jobs.alts[vu].len() > 1 && rng.chance(1, 2) {
            let k2 = p.jobs.alts[vu][rng.below(p.jobs.alts[vu].len() as u64) as usize].0;
            let len = st.o.seq[k2 as usize].len() - usize::from(k2 == k);
            (k2, rng.below(len as u64 + 1) as usize)
        } else {
            let len = st.o.seq[k as usize].len();
            let lo = i.saturating_sub(WINDOW);
            let hi = (i + WINDOW).min(len - 1);
            (k, lo + rng.below((hi - lo + 1) as u64) as usize)
        };
        st.o.apply(&p.jobs, v, k2, j);
        if !st.evaluate(p) {
            st.o.apply(&p.jobs, v, k, i);
        }
    }
    let ok = st.evaluate(p);
    debug_assert!(ok, "perturbation kept the graph acyclic");
}
