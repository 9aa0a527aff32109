//! The disjunctive-graph representation both shop solvers share: the job arcs of an
//! instance, and a solution's machine choice and machine orders with the links derived
//! from them. Heads, tails and objectives stay with each solver.

use super::instance::Instance;
use super::schedule::Placed;
use super::tabu::{Rng, Scored, TabuTable, Tenure};

/// "No operation": the end of a job or of a machine sequence.
pub(super) const NONE: u32 = u32::MAX;

/// Job predecessor and successor of every operation, its eligible machines, and the work
/// left in its job from it on (shortest durations, for dispatching).
pub(super) struct Jobs {
    pub(super) jp: Vec<u32>,
    pub(super) js: Vec<u32>,
    pub(super) alts: Vec<Vec<(u32, u64)>>,
    pub(super) work_left: Vec<u64>,
}

impl Jobs {
    pub(super) fn new(instance: &Instance) -> Self {
        let n = instance.operations();
        let mut jobs = Self {
            jp: vec![NONE; n],
            js: vec![NONE; n],
            alts: Vec::with_capacity(n),
            work_left: vec![0; n],
        };
        for (j, ops) in instance.jobs().iter().enumerate() {
            let base = instance.job_starts()[j];
            for (k, op) in ops.iter().enumerate() {
                let id = base + k;
                if k > 0 {
                    jobs.jp[id] = (id - 1) as u32;
                    jobs.js[id - 1] = id as u32;
                }
                jobs.alts.push(op.alternatives.clone());
            }
            let mut acc = 0;
            for k in (0..ops.len()).rev() {
                acc += ops[k].min_duration();
                jobs.work_left[base + k] = acc;
            }
        }
        jobs
    }

    /// The duration of operation `v` on `machine` (zero if not eligible).
    pub(super) fn duration(&self, v: usize, machine: u32) -> u64 {
        self.alts[v]
            .iter()
            .find(|a| a.0 == machine)
            .map_or(0, |a| a.1)
    }
}

/// A stored solution: machine choice and machine orders (everything else follows), and
/// its score.
#[derive(Clone)]
pub(super) struct Stored<S> {
    pub(super) score: S,
    pub(super) mach: Vec<u32>,
    pub(super) seq: Vec<Vec<u32>>,
}

impl<S: Ord + Copy + Send> Scored for Stored<S> {
    type Score = S;
    fn score(&self) -> S {
        self.score
    }
}

/// A candidate move: `v` goes to `machine` at index `to` (in the sequence without `v`).
#[derive(Clone, Copy)]
pub(super) struct Move {
    pub(super) v: u32,
    pub(super) machine: u32,
    pub(super) to: u32,
}

/// A machine for every operation and an order on every machine, with each operation's
/// duration, place and machine neighbours.
#[derive(Clone)]
pub(super) struct Orders {
    pub(super) mach: Vec<u32>,
    pub(super) dur: Vec<u64>,
    pub(super) seq: Vec<Vec<u32>>,
    pub(super) pos: Vec<u32>,
    /// Machine predecessor and successor of each operation (`NONE` at the ends).
    pub(super) mprev: Vec<u32>,
    pub(super) mnext: Vec<u32>,
}

impl Orders {
    pub(super) fn new(n: usize, m: usize) -> Self {
        Self {
            mach: vec![0; n],
            dur: vec![0; n],
            seq: vec![Vec::new(); m],
            pos: vec![0; n],
            mprev: vec![NONE; n],
            mnext: vec![NONE; n],
        }
    }

    /// Takes a stored machine choice and machine orders, and derives the rest.
    pub(super) fn load(&mut self, jobs: &Jobs, mach: &[u32], seq: &[Vec<u32>]) {
        self.mach.clone_from_slice(mach);
        for (k, s) in seq.iter().enumerate() {
            self.seq[k].clone_from(s);
        }
        for v in 0..self.mach.len() {
            self.dur[v] = jobs.duration(v, self.mach[v]);
        }
        for k in 0..self.seq.len() {
            self.relink(k, 0);
        }
    }

    /// Positions and machine links of `seq[k]` from index `from` on (and the link into it).
    pub(super) fn relink(&mut self, k: usize, from: usize) {
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

    /// Moves `v` to index `to` of `machine` (index in the sequence after `v` is removed).
    pub(super) fn apply(&mut self, jobs: &Jobs, v: u32, machine: u32, to: usize) {
        let vu = v as usize;
        let from_k = self.mach[vu] as usize;
        let i = self.pos[vu] as usize;
        self.seq[from_k].remove(i);
        self.relink(from_k, i);
        let k = machine as usize;
        self.seq[k].insert(to, v);
        self.relink(k, to);
        self.mach[vu] = machine;
        self.dur[vu] = jobs.duration(vu, machine);
    }

    pub(super) fn save<S>(&self, score: S) -> Stored<S> {
        Stored {
            score,
            mach: self.mach.clone(),
            seq: self.seq.clone(),
        }
    }

    /// Applies `mv`, first making its undoing tabu.
    pub(super) fn commit(
        &mut self,
        jobs: &Jobs,
        mv: Move,
        tabu: &mut TabuTable,
        now: u64,
        tenure: Tenure,
        rng: &mut Rng,
    ) {
        let vu = mv.v as usize;
        let (k, i) = (self.mach[vu], self.pos[vu] as usize);
        let to = mv.to as usize;
        tabu.forbid_undo(
            &self.seq[k as usize],
            k,
            i,
            mv.machine,
            to,
            now,
            tenure,
            rng,
        );
        self.apply(jobs, mv.v, mv.machine, to);
    }

    /// Starts a topological pass: each operation's count of predecessors into `indeg`, the
    /// operations without one into `order`.
    pub(super) fn sources(&self, jobs: &Jobs, indeg: &mut [u8], order: &mut Vec<u32>) {
        order.clear();
        for (v, d) in indeg.iter_mut().enumerate() {
            *d = u8::from(jobs.jp[v] != NONE) + u8::from(self.pos[v] != 0);
            if *d == 0 {
                order.push(v as u32);
            }
        }
    }

    /// Every operation in job order, placed at the given heads.
    pub(super) fn placed(&self, instance: &Instance, heads: &[u64]) -> Vec<Placed> {
        let mut operations = Vec::with_capacity(self.mach.len());
        for (j, job) in instance.jobs().iter().enumerate() {
            for k in 0..job.len() {
                let v = instance.op_id(j, k);
                operations.push(Placed {
                    job: j,
                    op: k,
                    machine: self.mach[v],
                    start: heads[v],
                    end: heads[v] + self.dur[v],
                });
            }
        }
        operations
    }
}

/// The step back along a critical path from an operation whose job predecessor `a` and
/// machine predecessor `b` end where it starts (`a_ok`, `b_ok`); a coin decides between the
/// two, `NONE` at the path's start.
pub(super) fn critical_predecessor(a: u32, a_ok: bool, b: u32, b_ok: bool, rng: &mut Rng) -> u32 {
    match (a_ok, b_ok) {
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
    }
}
