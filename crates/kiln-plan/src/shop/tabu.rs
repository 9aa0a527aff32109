//! The tabu-search machinery both shop solvers share: the random generator, the tabu table
//! and tenure, the choice among candidate moves, restarts after stagnation, and threads
//! sharing the best solution. What a solution is and how a move is scored stay with each
//! solver ([`super::solve`] the makespan, [`super::timed`] tardiness, then makespan).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::orders::Move;
use super::solve::{SolveOptions, SolveStats};

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
    /// The generator of search thread `thread` for the caller's seed.
    pub(super) fn for_thread(seed: u64, thread: u64) -> Self {
        Self::new(seed ^ thread.wrapping_mul(0xA076_1D64_78BD_642F))
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

/// Tabu attribute kinds: a machine order `(a before b)` a move undid, or a machine an
/// operation left.
pub(super) const ORDER: u64 = 1;
pub(super) const ASSIGN: u64 = 2;

/// Tabu tenure range in iterations, each attribute drawn uniformly from `min..=max`.
#[derive(Clone, Copy)]
pub(super) struct Tenure {
    pub(super) min: u64,
    pub(super) max: u64,
}

impl Tenure {
    /// The solver's own range, unless the caller gave one.
    pub(super) fn new(own: (u64, u64), given: Option<(u64, u64)>) -> Self {
        let (min, max) = match given {
            Some((lo, hi)) => (lo.max(1), hi.max(lo.max(1))),
            None => own,
        };
        Self { min, max }
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

    /// True when moving the operation at index `i` of machine sequence `s` to index `j`
    /// would restore a machine order that is tabu.
    pub(super) fn shift_is_tabu(&self, s: &[u32], i: usize, j: usize, now: u64) -> bool {
        let v = s[i];
        if j > i {
            s[i + 1..=j].iter().any(|&w| self.is_tabu(w, v, ORDER, now))
        } else {
            s[j..i].iter().any(|&w| self.is_tabu(v, w, ORDER, now))
        }
    }

    /// Makes undoing a move tabu: `v`, at index `i` of `from` (sequence `s`), goes to
    /// `machine` at index `j`. Within a machine the orders it reverses become tabu, else the
    /// machine it leaves.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn forbid_undo(
        &mut self,
        s: &[u32],
        from: u32,
        i: usize,
        machine: u32,
        j: usize,
        now: u64,
        tenure: Tenure,
        rng: &mut Rng,
    ) {
        let v = s[i];
        let span = tenure.max - tenure.min + 1;
        if from == machine {
            if j > i {
                for &w in &s[i + 1..=j] {
                    self.set(v, w, ORDER, now + tenure.min + rng.below(span));
                }
            } else {
                for &w in &s[j..i] {
                    self.set(w, v, ORDER, now + tenure.min + rng.below(span));
                }
            }
        } else {
            self.set(v, from, ASSIGN, now + tenure.min + rng.below(span));
        }
    }
}

/// The choice of one iteration's move: the best-scored allowed move (ties broken uniformly
/// at random), else a random tabu one.
pub(super) struct Pick<S, M> {
    chosen: Option<(S, M)>,
    ties: u64,
    fallback: Option<M>,
    fallback_seen: u64,
}

impl<S: Ord + Copy, M: Copy> Pick<S, M> {
    pub(super) fn new() -> Self {
        Self {
            chosen: None,
            ties: 0,
            fallback: None,
            fallback_seen: 0,
        }
    }

    /// The score of the best allowed move so far.
    pub(super) fn best(&self) -> Option<S> {
        self.chosen.map(|c| c.0)
    }

    /// Offers `mv`; `allowed` is false for a tabu move that does not beat the best solution.
    pub(super) fn offer(&mut self, score: S, mv: M, allowed: bool, rng: &mut Rng) {
        if !allowed {
            self.fallback_seen += 1;
            if rng.below(self.fallback_seen) == 0 {
                self.fallback = Some(mv);
            }
            return;
        }
        match self.chosen {
            Some((s, _)) if score > s => {}
            Some((s, _)) if score == s => {
                self.ties += 1;
                if rng.below(self.ties) == 0 {
                    self.chosen = Some((score, mv));
                }
            }
            _ => {
                self.chosen = Some((score, mv));
                self.ties = 1;
            }
        }
    }

    pub(super) fn any(&self) -> bool {
        self.chosen.is_some() || self.fallback.is_some()
    }

    pub(super) fn take(self) -> Option<M> {
        self.chosen.map(|c| c.1).or(self.fallback)
    }
}

/// A solution the threads share: the lower its score, the better.
pub(super) trait Scored: Clone + Send {
    type Score: Ord + Copy;
    fn score(&self) -> Self::Score;
}

/// The best solution over all threads, and whether the search is over.
pub(super) struct Shared<S> {
    best: Mutex<Option<S>>,
    done: AtomicBool,
}

impl<S: Scored> Shared<S> {
    fn new() -> Self {
        Self {
            best: Mutex::new(None),
            done: AtomicBool::new(false),
        }
    }

    /// True when some thread reached the bound or the caller says stop.
    pub(super) fn should_stop(&self, stop: &(dyn Fn() -> bool + Sync)) -> bool {
        self.done.load(Ordering::Relaxed) || stop()
    }

    /// Ends every thread's search (a bound was reached).
    pub(super) fn finish(&self) {
        self.done.store(true, Ordering::Relaxed);
    }

    pub(super) fn publish(&self, sol: &S) {
        if let Ok(mut g) = self.best.lock()
            && g.as_ref().is_none_or(|b| sol.score() < b.score())
        {
            *g = Some(sol.clone());
        }
    }

    /// Where a restart goes: `None` to perturb the current solution, else the best of the
    /// thread's own `best` and the shared one (a coin decides between equals).
    pub(super) fn restart_point(
        &self,
        best: &S,
        options: &SolveOptions,
        rng: &mut Rng,
    ) -> Option<S> {
        if rng.below(100) >= options.restart_from_best {
            return None;
        }
        let global = self.best.lock().ok().and_then(|g| g.clone());
        Some(match global {
            Some(g)
                if g.score() < best.score() || (g.score() == best.score() && rng.chance(1, 2)) =>
            {
                g
            }
            _ => best.clone(),
        })
    }
}

/// Counts non-improving iterations towards a restart.
struct Stagnation {
    limit: u64,
    since_improve: u64,
}

impl Stagnation {
    /// The caller's limit, or `own` from the instance size.
    fn new(options: &SolveOptions, own: u64) -> Self {
        Self {
            limit: options.stagnation.unwrap_or(own).max(1),
            since_improve: 0,
        }
    }

    fn improved(&mut self) {
        self.since_improve = 0;
    }

    /// Records an iteration without improvement; true when it is time to restart.
    fn stalled(&mut self) -> bool {
        self.since_improve += 1;
        if self.since_improve >= self.limit {
            self.since_improve = 0;
            true
        } else {
            false
        }
    }
}

/// Random moves at a restart: `1..=perturbation`.
fn perturbation_count(options: &SolveOptions, rng: &mut Rng) -> usize {
    1 + rng.below(options.perturbation.max(1)) as usize
}

/// Runs `search(thread, shared)` on `options.threads` threads and keeps the best solution
/// (the first among equals) with the threads' statistics summed.
pub(super) fn run_threads<S, F>(
    options: &SolveOptions,
    lower_bound: u64,
    search: F,
) -> (S, SolveStats)
where
    S: Scored,
    F: Fn(u64, &Shared<S>) -> (S, SolveStats) + Sync,
{
    let threads = options.threads.max(1);
    let shared = Shared::new();
    let mut results: Vec<(S, SolveStats)> = Vec::with_capacity(threads);
    if threads == 1 {
        results.push(search(0, &shared));
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (search, shared) = (&search, &shared);
                    scope.spawn(move || search(t as u64, shared))
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
        lower_bound,
        ..SolveStats::default()
    };
    let mut best: Option<S> = None;
    for (sol, st) in results {
        stats.iterations += st.iterations;
        stats.restarts += st.restarts;
        if stats.initial_makespan == 0 || st.initial_makespan < stats.initial_makespan {
            stats.initial_makespan = st.initial_makespan;
        }
        if best.as_ref().is_none_or(|b| sol.score() < b.score()) {
            best = Some(sol);
        }
    }
    (best.expect("at least one thread"), stats)
}

/// One thread's walk through the solutions, as [`descend`] drives it: each solver keeps its
/// own neighbourhood, evaluation and perturbation.
pub(super) trait Walk {
    type Sol: Scored;
    /// How many constructions to start from (the best is kept), and the one numbered
    /// `attempt`.
    fn constructions(&self) -> u64;
    fn construct(&mut self, attempt: u64, rng: &mut Rng) -> Self::Sol;
    /// The current solution's score, and its makespan.
    fn current(&self) -> <Self::Sol as Scored>::Score;
    fn makespan(&self) -> u64;
    fn save(&self) -> Self::Sol;
    fn load(&mut self, sol: &Self::Sol);
    /// True when `score` cannot be improved on (it meets the lower bound, or there is
    /// nothing to schedule).
    fn optimal(&self, score: <Self::Sol as Scored>::Score) -> bool;
    /// Non-improving iterations before a restart, unless the caller gave a number.
    fn stagnation(&self) -> u64;
    /// This iteration's move; `None` when nothing can move.
    fn choose(
        &mut self,
        tabu: &TabuTable,
        best: <Self::Sol as Scored>::Score,
        now: u64,
        rng: &mut Rng,
    ) -> Option<Move>;
    /// Makes undoing `mv` tabu and applies it; false if that closed a cycle.
    fn commit(&mut self, mv: Move, tabu: &mut TabuTable, now: u64, rng: &mut Rng) -> bool;
    /// A few random moves, to leave a local optimum.
    fn perturb(&mut self, rng: &mut Rng, count: usize);
}

/// One search thread: the best of the walk's constructions, then [`descend`] from it.
pub(super) fn search<W: Walk>(
    mut walk: W,
    options: &SolveOptions,
    thread: u64,
    shared: &Shared<W::Sol>,
    stop: &(dyn Fn() -> bool + Sync),
) -> (W::Sol, SolveStats) {
    let mut rng = Rng::for_thread(options.seed, thread);
    let mut stats = SolveStats::default();
    let mut start: Option<W::Sol> = None;
    for attempt in 0..walk.constructions() {
        let sol = walk.construct(attempt, &mut rng);
        walk.load(&sol);
        if start.as_ref().is_none_or(|s| walk.current() < s.score()) {
            start = Some(walk.save());
        }
    }
    let start = start.expect("constructed");
    walk.load(&start);
    stats.initial_makespan = walk.makespan();
    let best = walk.save();
    shared.publish(&best);
    if walk.optimal(best.score()) {
        shared.finish();
        return (best, stats);
    }
    let best = descend(&mut walk, best, options, shared, stop, &mut rng, &mut stats);
    (best, stats)
}

/// The tabu search from `best` (the walk's current solution): the best move each
/// iteration, a restart from the best solution (this thread's or another's) and a
/// perturbation after a stretch without improvement, until the budget, the caller or the
/// bound ends it. Returns the best solution found.
fn descend<W: Walk>(
    walk: &mut W,
    mut best: W::Sol,
    options: &SolveOptions,
    shared: &Shared<W::Sol>,
    stop: &(dyn Fn() -> bool + Sync),
    rng: &mut Rng,
    stats: &mut SolveStats,
) -> W::Sol {
    let mut tabu = TabuTable::new(16);
    let mut stagnation = Stagnation::new(options, walk.stagnation());
    let mut iter = 0u64;
    let max_iter = options.max_iterations.unwrap_or(u64::MAX);
    while iter < max_iter {
        if shared.should_stop(stop) {
            break;
        }
        iter += 1;
        let now = iter;
        let Some(mv) = walk.choose(&tabu, best.score(), now, rng) else {
            // Nothing on the critical paths can move: they are jobs alone, already optimal.
            break;
        };
        if !walk.commit(mv, &mut tabu, now, rng) {
            // The solvers' feasibility tests make this unreachable; recover anyway.
            walk.load(&best);
            continue;
        }
        if walk.current() < best.score() {
            best = walk.save();
            stagnation.improved();
            shared.publish(&best);
            if walk.optimal(best.score()) {
                shared.finish();
                break;
            }
        } else if stagnation.stalled() {
            stats.restarts += 1;
            if let Some(from) = shared.restart_point(&best, options, rng) {
                walk.load(&from);
            }
            let count = perturbation_count(options, rng);
            walk.perturb(rng, count);
            tabu.clear();
        }
    }
    stats.iterations = iter;
    best
}
