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

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::instance::Instance;
use super::schedule::{Objective, Placed, Schedule};
use super::solve::{ASSIGN, NONE, ORDER, Rng, SolveOptions, SolveStats, Solved, TabuTable};

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
    let mut p = Prob::new(instance, options.lower_bound);
    if let Some((lo, hi)) = options.tenure {
        p.tenure_min = lo.max(1);
        p.tenure_max = hi.max(p.tenure_min);
    }
    let threads = options.threads.max(1);
    let shared = Shared {
        best: Mutex::new(None),
        done: AtomicBool::new(false),
    };
    let mut results: Vec<(Sol, SolveStats)> = Vec::with_capacity(threads);
    if threads == 1 {
        results.push(search(&p, options, 0, &shared, stop));
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let p = &p;
                    let shared = &shared;
                    scope.spawn(move || search(p, options, t as u64, shared, stop))
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
        lower_bound: p.lb,
        ..SolveStats::default()
    };
    let mut best: Option<Sol> = None;
    for (sol, st) in results {
        stats.iterations += st.iterations;
        stats.restarts += st.restarts;
        if stats.initial_makespan == 0 || st.initial_makespan < stats.initial_makespan {
            stats.initial_makespan = st.initial_makespan;
        }
        if best.as_ref().is_none_or(|b| sol.obj < b.obj) {
            best = Some(sol);
        }
    }
    let best = best.expect("at least one thread");
    let mut st = St::new(&p);
    st.load(&p, &best);
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
    jp: Vec<u32>,
    js: Vec<u32>,
    job: Vec<u32>,
    release: Vec<u64>,
    alts: Vec<Vec<(u32, u64)>>,
    work_left: Vec<u64>,
    /// Per job: its last operation (`NONE` when empty), earliest possible completion, due
    /// date (`NEVER` if none), weight.
    last: Vec<u32>,
    earliest: Vec<u64>,
    due: Vec<u64>,
    weight: Vec<u64>,
    lb: u64,
    flexible: bool,
    tenure_min: u64,
    tenure_max: u64,
}

impl<'a> Prob<'a> {
    fn new(inst: &'a Instance, given_lb: Option<u64>) -> Self {
        let n = inst.operations();
        let jobs = inst.jobs().len();
        let mut p = Self {
            inst,
            n,
            m: inst.machines(),
            jp: vec![NONE; n],
            js: vec![NONE; n],
            job: vec![0; n],
            release: vec![0; n],
            alts: Vec::with_capacity(n),
            work_left: vec![0; n],
            last: vec![NONE; jobs],
            earliest: vec![0; jobs],
            due: vec![NEVER; jobs],
            weight: vec![0; jobs],
            lb: 0,
            flexible: !inst.is_classic(),
            tenure_min: 0,
            tenure_max: 0,
        };
        for (j, ops) in inst.jobs().iter().enumerate() {
            let base = inst.job_starts()[j];
            let terms = inst.terms(j);
            for (k, op) in ops.iter().enumerate() {
                let id = base + k;
                if k > 0 {
                    p.jp[id] = (id - 1) as u32;
                    p.js[id - 1] = id as u32;
                }
                p.job[id] = j as u32;
                p.release[id] = terms.release;
                p.alts.push(op.alternatives.clone());
            }
            let mut acc = 0;
            for k in (0..ops.len()).rev() {
                acc += ops[k].min_duration();
                p.work_left[base + k] = acc;
            }
            if !ops.is_empty() {
                p.last[j] = (base + ops.len() - 1) as u32;
            }
            p.earliest[j] = terms.release + acc;
            p.due[j] = terms.due.unwrap_or(NEVER);
            p.weight[j] = terms.weight;
        }
        let own_lb = inst.lower_bound();
        p.lb = given_lb.map_or(own_lb, |b| b.max(own_lb));
        let t = 10 + jobs.max(1) as u64 / inst.machines().max(1) as u64;
        p.tenure_min = t;
        p.tenure_max = t * 3 / 2;
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

struct Shared {
    best: Mutex<Option<Sol>>,
    done: AtomicBool,
}

#[derive(Clone)]
struct Sol {
    obj: Objective,
    mach: Vec<u32>,
    seq: Vec<Vec<u32>>,
}

/// `v` goes to `machine` at index `to` (in the sequence without `v`).
#[derive(Clone, Copy)]
struct Move {
    v: u32,
    machine: u32,
    to: u32,
}

#[derive(Clone)]
struct St {
    mach: Vec<u32>,
    dur: Vec<u64>,
    seq: Vec<Vec<u32>>,
    pos: Vec<u32>,
    mprev: Vec<u32>,
    mnext: Vec<u32>,
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
            mach: vec![0; p.n],
            dur: vec![0; p.n],
            seq: vec![Vec::new(); p.m],
            pos: vec![0; p.n],
            mprev: vec![NONE; p.n],
            mnext: vec![NONE; p.n],
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
        self.mach.clone_from(&sol.mach);
        for (k, s) in sol.seq.iter().enumerate() {
            self.seq[k].clone_from(s);
        }
        for v in 0..p.n {
            let m = self.mach[v];
            self.dur[v] = p.alts[v].iter().find(|a| a.0 == m).map_or(0, |a| a.1);
        }
        for k in 0..p.m {
            self.relink(k, 0);
        }
        let ok = self.evaluate(p);
        debug_assert!(ok, "a stored solution is acyclic");
    }

    fn save(&self) -> Sol {
        Sol {
            obj: self.obj,
            mach: self.mach.clone(),
            seq: self.seq.clone(),
        }
    }

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
    fn end(&self, v: u32) -> u64 {
        if v == NONE {
            0
        } else {
            self.r[v as usize] + self.dur[v as usize]
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
        self.order.clear();
        for v in 0..p.n {
            let d = u8::from(p.jp[v] != NONE) + u8::from(self.pos[v] != 0);
            self.indeg[v] = d;
            if d == 0 {
                self.order.push(v as u32);
            }
        }
        let mut head = 0;
        while head < self.order.len() {
            let v = self.order[head];
            let vu = v as usize;
            head += 1;
            let mp = self.mprev[vu];
            let from_machine = if mp == NONE {
                0
            } else {
                self.end(mp) + p.setup(self.mach[vu], mp, v)
            };
            self.r[vu] = p.release[vu].max(self.end(p.jp[vu])).max(from_machine);
            for w in [p.js[vu], self.mnext[vu]] {
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
            let end = self.r[vu] + self.dur[vu];
            self.pre_end[t + 1] = self.pre_end[t].max(end);
            let late = if p.js[vu] == NONE {
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
            let d = u8::from(in_suffix(self, p.jp[v as usize]))
                + u8::from(in_suffix(self, self.mprev[v as usize]));
            self.indeg[v as usize] = d;
            if d == 0 {
                self.queue.push(v);
            }
        }
        let end_of = |st: &St, w: u32| -> u64 {
            if w == NONE {
                0
            } else if st.tpos[w as usize] as usize >= t0 {
                st.r2[w as usize] + st.dur[w as usize]
            } else {
                st.r[w as usize] + st.dur[w as usize]
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
            let mp = self.mprev[vu];
            let from_machine = if mp == NONE {
                0
            } else {
                end_of(self, mp) + p.setup(self.mach[vu], mp, v)
            };
            let r = p.release[vu].max(end_of(self, p.jp[vu])).max(from_machine);
            self.r2[vu] = r;
            let end = r + self.dur[vu];
            obj.makespan = obj.makespan.max(end);
            let js = p.js[vu];
            if js == NONE {
                obj.weighted_tardiness =
                    obj.weighted_tardiness
                        .saturating_add(Self::late(p, p.job[vu] as usize, end));
            }
            for w in [js, self.mnext[vu]] {
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
            let a = p.jp[vu];
            let b = self.mprev[vu];
            let a_ok = a != NONE && self.end(a) == start;
            let b_ok = b != NONE && self.end(b) + p.setup(self.mach[vu], b, v) == start;
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
                if self.r[v] + self.dur[v] == self.obj.makespan {
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

    fn apply(&mut self, p: &Prob, v: u32, machine: u32, to: usize) {
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

    /// True when the move would restore a machine order or assignment that is tabu.
    fn is_tabu(&self, tabu: &TabuTable, mv: Move, now: u64) -> bool {
        let vu = mv.v as usize;
        let k = self.mach[vu];
        if mv.machine != k {
            return tabu.is_tabu(mv.v, mv.machine, ASSIGN, now);
        }
        let s = &self.seq[k as usize];
        let (i, j) = (self.pos[vu] as usize, mv.to as usize);
        if j > i {
            s[i + 1..=j]
                .iter()
                .any(|&w| tabu.is_tabu(w, mv.v, ORDER, now))
        } else {
            s[j..i].iter().any(|&w| tabu.is_tabu(mv.v, w, ORDER, now))
        }
    }

    /// Every candidate move of the critical operations, into `out`.
    fn moves(&self, p: &Prob, out: &mut Vec<Move>) {
        out.clear();
        for &v in &self.crit {
            let vu = v as usize;
            let k = self.mach[vu];
            let len = self.seq[k as usize].len();
            let i = self.pos[vu] as usize;
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
            for &(k2, _) in &p.alts[vu] {
                if k2 == k {
                    continue;
                }
                let s2 = &self.seq[k2 as usize];
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
        let (k, i) = (self.mach[vu], self.pos[vu] as usize);
        let j = mv.to as usize;
        // The operations whose machine predecessor (or duration) changes: the first in
        // the committed order bounds what must be evaluated again.
        let s = &self.seq[k as usize];
        let tp = |w: u32| self.tpos[w as usize];
        let t0 = if mv.machine == k {
            // Old places min(i, j) ..= max(i, j) + 1 get a new machine predecessor.
            let hi = (i.max(j) + 1).min(s.len() - 1);
            s[i.min(j)..=hi].iter().map(|&w| tp(w)).min().unwrap_or(0)
        } else {
            // `v` itself, its old machine successor, and its new one.
            let s2 = &self.seq[mv.machine as usize];
            let mut t = tp(mv.v);
            if i + 1 < s.len() {
                t = t.min(tp(s[i + 1]));
            }
            if j < s2.len() {
                t = t.min(tp(s2[j]));
            }
            t
        } as usize;
        self.apply(p, mv.v, mv.machine, j);
        let result = self.evaluate_from(p, t0);
        #[cfg(debug_assertions)]
        {
            let mut full = self.clone();
            let ok = full.evaluate(p);
            debug_assert_eq!(result, ok.then_some(full.obj), "suffix evaluation");
        }
        self.apply(p, mv.v, k, i);
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
        if p.jp[v] == NONE {
            ready.push((v as u32, p.release[v]));
        }
    }
    let start_on = |free: &[u64], last: &[u32], v: u32, t: u64, k: u32| -> u64 {
        t.max(free[k as usize] + p.setup(k, last[k as usize], v))
    };
    while !ready.is_empty() {
        let mut best = (u64::MAX, 0u32);
        for &(v, t) in &ready {
            for &(k, d) in &p.alts[v as usize] {
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
            let Some(d) = p.alts[vu].iter().find(|a| a.0 == k_star).map(|a| a.1) else {
                continue;
            };
            let s = start_on(&free, &last, v, t, k_star);
            if s >= c_star && !(d == 0 && s == c_star) {
                continue;
            }
            let j = p.job[vu] as usize;
            let slack = i128::from(p.due[j]) - i128::from(s) - i128::from(p.work_left[vu]);
            let mut score: i128 = match rule {
                0 => i128::from(p.work_left[vu]),
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
                    p.alts[v as usize]
                        .iter()
                        .any(|&(k, d)| k == k_star && start_on(&free, &last, v, t, k) + d == c_star)
                })
                .unwrap_or(0);
        }
        let (v, t) = ready.swap_remove(pick);
        let d = p.alts[v as usize]
            .iter()
            .find(|a| a.0 == k_star)
            .map_or(0, |a| a.1);
        let end = start_on(&free, &last, v, t, k_star) + d;
        free[k_star as usize] = end;
        last[k_star as usize] = v;
        mach[v as usize] = k_star;
        seq[k_star as usize].push(v);
        let js = p.js[v as usize];
        if js != NONE {
            ready.push((js, end));
        }
    }
    Sol {
        obj: Objective::default(),
        mach,
        seq,
    }
}

fn search(
    p: &Prob,
    options: &SolveOptions,
    thread: u64,
    shared: &Shared,
    stop: &(dyn Fn() -> bool + Sync),
) -> (Sol, SolveStats) {
    let mut rng = Rng::new(options.seed ^ thread.wrapping_mul(0xA076_1D64_78BD_642F));
    let mut st = St::new(p);
    let mut stats = SolveStats::default();
    let mut start: Option<Sol> = None;
    for attempt in 0..10u64 {
        let noise = if attempt < 5 { 0 } else { p.lb / 4 + 10 };
        let sol = construct(p, &mut rng, attempt % 5, noise);
        st.load(p, &sol);
        if start.as_ref().is_none_or(|s| st.obj < s.obj) {
            start = Some(st.save());
        }
    }
    let start = start.expect("constructed");
    st.load(p, &start);
    stats.initial_makespan = st.obj.makespan;
    let mut best = st.save();
    publish(shared, &best);
    let optimal = |o: Objective| o.weighted_tardiness == 0 && o.makespan <= p.lb;
    if optimal(best.obj) || p.n == 0 {
        shared.done.store(true, Ordering::Relaxed);
        return (best, stats);
    }
    let mut tabu = TabuTable::new(16);
    let mut moves: Vec<Move> = Vec::new();
    let stagnation = options
        .stagnation
        .unwrap_or_else(|| 300u64.max(10 * p.n as u64))
        .max(1);
    let span = p.tenure_max - p.tenure_min + 1;
    let mut since_improve = 0u64;
    let mut iter = 0u64;
    let max_iter = options.max_iterations.unwrap_or(u64::MAX);
    while iter < max_iter {
        if shared.done.load(Ordering::Relaxed) || stop() {
            break;
        }
        iter += 1;
        let now = iter;
        let mut chosen: Option<(Objective, Move)> = None;
        let mut ties = 0u64;
        let mut fallback: Option<Move> = None;
        let mut fallback_seen = 0u64;
        // The sampled paths may offer no move (a job alone on its path); then try them all.
        for all in [false, true] {
            st.critical(p, &mut rng, all);
            st.moves(p, &mut moves);
            // On large instances a random sample of the candidates (each costs a pass over
            // what starts after it): many more iterations for the same time.
            if moves.len() > SAMPLE {
                for i in 0..SAMPLE {
                    let j = i + rng.below((moves.len() - i) as u64) as usize;
                    moves.swap(i, j);
                }
                moves.truncate(SAMPLE);
            }
            for &mv in &moves {
                let tabu_move = st.is_tabu(&tabu, mv, now);
                let Some(obj) = st.try_move(p, mv) else {
                    continue;
                };
                if tabu_move && obj >= best.obj {
                    fallback_seen += 1;
                    if rng.below(fallback_seen) == 0 {
                        fallback = Some(mv);
                    }
                    continue;
                }
                match chosen {
                    Some((o, _)) if obj > o => {}
                    Some((o, _)) if obj == o => {
                        ties += 1;
                        if rng.below(ties) == 0 {
                            chosen = Some((obj, mv));
                        }
                    }
                    _ => {
                        chosen = Some((obj, mv));
                        ties = 1;
                    }
                }
            }
            if chosen.is_some() || fallback.is_some() {
                break;
            }
        }
        let Some(mv) = chosen.map(|c| c.1).or(fallback) else {
            // Nothing on the critical paths can move: they are jobs alone, already optimal.
            break;
        };
        // Tabu: the machine orders the move undoes, or the machine it leaves.
        let vu = mv.v as usize;
        let k = st.mach[vu];
        if k == mv.machine {
            let s = &st.seq[k as usize];
            let (i, j) = (st.pos[vu] as usize, mv.to as usize);
            if j > i {
                for &w in &s[i + 1..=j] {
                    tabu.set(mv.v, w, ORDER, now + p.tenure_min + rng.below(span));
                }
            } else {
                for &w in &s[j..i] {
                    tabu.set(w, mv.v, ORDER, now + p.tenure_min + rng.below(span));
                }
            }
        } else {
            tabu.set(mv.v, k, ASSIGN, now + p.tenure_min + rng.below(span));
        }
        st.apply(p, mv.v, mv.machine, mv.to as usize);
        if !st.evaluate(p) {
            st.load(p, &best);
            continue;
        }
        if st.obj < best.obj {
            best = st.save();
            since_improve = 0;
            publish(shared, &best);
            if optimal(best.obj) {
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
                    Some(g) if g.obj < best.obj || (g.obj == best.obj && rng.chance(1, 2)) => g,
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

/// A few random moves of any operation (not only critical ones: with setups an operation
/// off the critical path may be the one to move), each kept only if acyclic.
fn perturb(p: &Prob, st: &mut St, rng: &mut Rng, count: usize) {
    for _ in 0..count {
        let v = rng.below(p.n as u64) as u32;
        let vu = v as usize;
        let (k, i) = (st.mach[vu], st.pos[vu] as usize);
        let (k2, j) = if p.flexible && p.alts[vu].len() > 1 && rng.chance(1, 2) {
            let k2 = p.alts[vu][rng.below(p.alts[vu].len() as u64) as usize].0;
            let len = st.seq[k2 as usize].len() - usize::from(k2 == k);
            (k2, rng.below(len as u64 + 1) as usize)
        } else {
            let len = st.seq[k as usize].len();
            let lo = i.saturating_sub(WINDOW);
            let hi = (i + WINDOW).min(len - 1);
            (k, lo + rng.below((hi - lo + 1) as u64) as usize)
        };
        st.apply(p, v, k2, j);
        if !st.evaluate(p) {
            st.apply(p, v, k, i);
        }
    }
    let ok = st.evaluate(p);
    debug_assert!(ok, "perturbation kept the graph acyclic");
}

fn publish(shared: &Shared, sol: &Sol) {
    if let Ok(mut g) = shared.best.lock()
        && g.as_ref().is_none_or(|b| sol.obj < b.obj)
    {
        *g = Some(sol.clone());
    }
}
