//! The shop solver on the platform's kind of instance: release times, due dates, weights and
//! sequence-dependent setups; objective weighted tardiness first, then makespan.

use kiln_plan::shop::{
    Infeasible, Instance, JobTerms, Objective, Operation, Placed, Schedule, Setups, SolveOptions,
    Solved, check, evaluate, solve,
};
use proptest::prelude::*;

fn solve_iters(inst: &Instance, iters: u64, seed: u64, threads: usize) -> Solved {
    let opts = SolveOptions {
        seed,
        threads,
        max_iterations: Some(iters),
        ..SolveOptions::default()
    };
    solve(inst, &opts, &|| false)
}

fn op(alts: &[(u32, u64)]) -> Operation {
    Operation {
        alternatives: alts.to_vec(),
    }
}

fn terms(release: u64, due: Option<u64>, weight: u64, family: u32) -> JobTerms {
    JobTerms {
        release,
        due,
        weight,
        family,
    }
}

/// Exact optimum (weighted tardiness, then makespan) by enumerating dispatch orders and
/// machine choices. Appending each operation to its machine as early as the job, the release
/// and the setup after the machine's last operation allow gives the semi-active schedule of
/// every machine order, and one of those is optimal for a regular objective.
fn brute_force(inst: &Instance) -> Objective {
    struct Search<'a> {
        inst: &'a Instance,
        next: Vec<usize>,
        job_ready: Vec<u64>,
        mach_free: Vec<u64>,
        mach_last: Vec<Option<usize>>,
        best: Objective,
    }
    impl Search<'_> {
        /// A lower bound on the objective of any completion of the partial schedule.
        fn bound(&self, makespan: u64) -> Objective {
            let mut lb = Objective {
                weighted_tardiness: 0,
                makespan,
            };
            for (j, ops) in self.inst.jobs().iter().enumerate() {
                let rest: u64 = ops[self.next[j]..]
                    .iter()
                    .map(Operation::min_duration)
                    .sum();
                let c = self.job_ready[j] + rest;
                lb.makespan = lb.makespan.max(c);
                let t = self.inst.terms(j);
                if let Some(d) = t.due {
                    lb.weighted_tardiness += t.weight * c.saturating_sub(d);
                }
            }
            lb
        }

        fn go(&mut self, makespan: u64) {
            if self.bound(makespan) >= self.best {
                return;
            }
            let mut any = false;
            for j in 0..self.inst.jobs().len() {
                let k = self.next[j];
                if k == self.inst.jobs()[j].len() {
                    continue;
                }
                any = true;
                for &(m, d) in &self.inst.jobs()[j][k].alternatives {
                    let mu = m as usize;
                    let setup = self.mach_last[mu].map_or(0, |l| self.inst.setup(m, l, j));
                    let start = self.job_ready[j].max(self.mach_free[mu] + setup);
                    let end = start + d;
                    let saved = (self.job_ready[j], self.mach_free[mu], self.mach_last[mu]);
                    self.job_ready[j] = end;
                    self.mach_free[mu] = end;
                    self.mach_last[mu] = Some(j);
                    self.next[j] += 1;
                    self.go(makespan.max(end));
                    self.next[j] -= 1;
                    (self.job_ready[j], self.mach_free[mu], self.mach_last[mu]) = saved;
                }
            }
            if !any {
                self.best = self.best.min(self.bound(makespan));
            }
        }
    }
    let jobs = inst.jobs().len();
    let mut s = Search {
        inst,
        next: vec![0; jobs],
        job_ready: (0..jobs).map(|j| inst.terms(j).release).collect(),
        mach_free: vec![0; inst.machines()],
        mach_last: vec![None; inst.machines()],
        best: Objective {
            weighted_tardiness: u64::MAX,
            makespan: u64::MAX,
        },
    };
    s.go(0);
    s.best
}

/// Two machines, three jobs of one operation each on machine 0; families A, B, A with a
/// setup of 5 between A and B. Batching the two A jobs avoids a setup.
fn batching_instance(due_b: Option<u64>) -> Instance {
    let jobs = vec![
        vec![op(&[(0, 2)])],
        vec![op(&[(0, 2)])],
        vec![op(&[(0, 2)])],
    ];
    Instance::new(2, jobs)
        .unwrap()
        .with_setups(Setups::uniform(2, 2, 5).unwrap())
        .unwrap()
        .with_terms(vec![
            terms(0, Some(100), 1, 0),
            terms(0, due_b, 1, 1),
            terms(0, Some(100), 1, 0),
        ])
        .unwrap()
}

#[test]
fn same_family_batches_without_setup() {
    // A A B: 2 + 2 + 5 + 2 = 11; any order that splits the As costs two setups (16).
    let inst = batching_instance(Some(100));
    let solved = solve_iters(&inst, 500, 1, 1);
    assert_eq!(
        evaluate(&inst, &solved.schedule),
        Ok(Objective {
            weighted_tardiness: 0,
            makespan: 11
        })
    );
    assert_eq!(solved.objective, evaluate(&inst, &solved.schedule).unwrap());
}

#[test]
fn tardiness_comes_before_makespan() {
    // B due at 2: B first, then A A after one setup: 2 + 5 + 2 + 2 = 11, no tardiness.
    let inst = batching_instance(Some(2));
    let solved = solve_iters(&inst, 500, 1, 1);
    let b = solved.schedule.operations[1];
    assert_eq!((b.start, b.end), (0, 2));
    assert_eq!(
        solved.objective,
        Objective {
            weighted_tardiness: 0,
            makespan: 11
        }
    );
    // One machine, the As due at 4 (weight 1), B due at 2 (weight 10): someone is late
    // whatever the order, and the weights decide.
    let inst = Instance::new(1, vec![vec![op(&[(0, 2)])]; 3])
        .unwrap()
        .with_setups(Setups::uniform(1, 2, 5).unwrap())
        .unwrap()
        .with_terms(vec![
            terms(0, Some(4), 1, 0),
            terms(0, Some(2), 10, 1),
            terms(0, Some(4), 1, 0),
        ])
        .unwrap();
    // B first (0–2), then A (7–9) and A (9–11): tardiness 5 + 7 = 12. A A B: B ends at 11,
    // 9 late × 10 = 90. A B A: 2 + 5 + 2 = 9 → B 7–9 (70), A 14–16 (12) = 82.
    let solved = solve_iters(&inst, 500, 2, 1);
    assert_eq!(
        solved.objective,
        Objective {
            weighted_tardiness: 12,
            makespan: 11
        }
    );
    assert_eq!(brute_force(&inst), solved.objective);
}

#[test]
fn release_times_delay_the_start() {
    // One machine; job 0 (3 long) released at 10, job 1 (4 long) at 0, due 20 each.
    let inst = Instance::new(1, vec![vec![op(&[(0, 3)])], vec![op(&[(0, 4)])]])
        .unwrap()
        .with_terms(vec![terms(10, Some(20), 1, 0), terms(0, Some(20), 1, 0)])
        .unwrap();
    let solved = solve_iters(&inst, 200, 0, 1);
    let ops = &solved.schedule.operations;
    assert_eq!((ops[0].start, ops[0].end), (10, 13));
    assert_eq!((ops[1].start, ops[1].end), (0, 4));
    assert_eq!(solved.objective.makespan, 13);
    assert_eq!(check(&inst, &solved.schedule), Ok(13));
}

#[test]
fn checker_catches_release_and_setup_faults() {
    let inst = batching_instance(Some(100));
    let place = |job, start, end| Placed {
        job,
        op: 0,
        machine: 0,
        start,
        end,
    };
    let good = Schedule {
        makespan: 11,
        operations: vec![place(0, 0, 2), place(1, 9, 11), place(2, 2, 4)],
    };
    assert_eq!(check(&inst, &good), Ok(11));
    // B right after an A with only 4 of its 5 setup units.
    let bad = Schedule {
        makespan: 10,
        operations: vec![place(0, 0, 2), place(1, 8, 10), place(2, 2, 4)],
    };
    assert!(matches!(
        check(&inst, &bad),
        Err(Infeasible::Setup {
            machine: 0,
            at: 8,
            setup: 5
        })
    ));
    let released = inst
        .clone()
        .with_terms(vec![
            terms(1, None, 1, 0),
            terms(0, None, 1, 1),
            terms(0, None, 1, 0),
        ])
        .unwrap();
    assert!(matches!(
        check(&released, &good),
        Err(Infeasible::Release { job: 0, .. })
    ));
}

#[test]
fn bad_terms_and_setups_are_errors() {
    let inst = Instance::new(1, vec![vec![op(&[(0, 2)])]]).unwrap();
    assert!(inst.clone().with_terms(vec![]).is_err());
    assert!(Setups::new(2, vec![vec![0, 1, 1, 1]]).is_err(), "diagonal");
    assert!(Setups::new(2, vec![vec![0, 1, 1]]).is_err(), "size");
    assert!(
        inst.clone()
            .with_setups(Setups::uniform(2, 1, 0).unwrap())
            .is_err()
    );
    let with_setups = inst
        .clone()
        .with_setups(Setups::uniform(1, 2, 3).unwrap())
        .unwrap();
    assert!(
        with_setups
            .with_terms(vec![terms(0, None, 1, 2)])
            .unwrap_err()
            .contains("family 2")
    );
    let zero = Instance::new(1, vec![vec![op(&[(0, 0)])]]).unwrap();
    assert!(zero.with_setups(Setups::uniform(1, 1, 0).unwrap()).is_err());
}

#[test]
fn plain_terms_keep_the_makespan_search() {
    // Weights and families without due dates, releases or setups: a benchmark instance.
    let inst = Instance::new(2, vec![vec![op(&[(0, 3)]), op(&[(1, 2)])]; 2])
        .unwrap()
        .with_terms(vec![terms(0, None, 3, 0); 2])
        .unwrap();
    assert!(inst.is_plain());
    let solved = solve_iters(&inst, 100, 0, 1);
    assert_eq!(check(&inst, &solved.schedule), Ok(8));
}

#[test]
fn larger_instances_stay_feasible_and_improve_on_the_start() {
    for seed in 0..4u64 {
        let inst = random_instance(10, 4, 4, seed);
        let solved = solve_iters(&inst, 400, seed, 2);
        let obj = evaluate(&inst, &solved.schedule).unwrap();
        assert_eq!(obj, solved.objective);
        assert!(obj.makespan >= inst.lower_bound());
    }
}

#[test]
fn same_seed_same_schedule() {
    let inst = random_instance(6, 3, 3, 9);
    let a = solve_iters(&inst, 300, 5, 1).schedule;
    let b = solve_iters(&inst, 300, 5, 1).schedule;
    assert_eq!(a, b);
}

/// A deterministic instance with releases, due dates, weights and setups.
fn random_instance(jobs: usize, machines: u32, ops: usize, seed: u64) -> Instance {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1) | 1;
    let mut rnd = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let families = 3usize;
    let job_ops: Vec<Vec<Operation>> = (0..jobs)
        .map(|_| {
            (0..ops)
                .map(|_| {
                    let count = 1 + rnd(2);
                    let mut alts: Vec<(u32, u64)> = Vec::new();
                    while (alts.len() as u64) < count {
                        let m = rnd(u64::from(machines)) as u32;
                        if !alts.iter().any(|a| a.0 == m) {
                            alts.push((m, 1 + rnd(9)));
                        }
                    }
                    op(&alts)
                })
                .collect()
        })
        .collect();
    let times = (0..machines)
        .map(|_| {
            (0..families * families)
                .map(|i| {
                    if i / families == i % families {
                        0
                    } else {
                        rnd(6)
                    }
                })
                .collect()
        })
        .collect();
    let t: Vec<JobTerms> = (0..jobs)
        .map(|_| terms(rnd(10), Some(10 + rnd(40)), 1 + rnd(3), rnd(3) as u32))
        .collect();
    Instance::new(machines, job_ops)
        .unwrap()
        .with_setups(Setups::new(families, times).unwrap())
        .unwrap()
        .with_terms(t)
        .unwrap()
}

/// Random tiny instances: 1–3 jobs of 1–3 operations on 1–3 machines (flexible or not),
/// releases, optional due dates, weights, and optionally setups between two families.
fn tiny_instance(due_dates: bool) -> impl Strategy<Value = Instance> {
    (
        1usize..=3,
        1u32..=3,
        1usize..=3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(move |(jobs, machines, ops, flexible, with_setups)| {
            let op = proptest::collection::vec(
                (0..machines, 1u64..=6),
                1..=if flexible { machines as usize } else { 1 },
            )
            .prop_map(|mut alts| {
                alts.sort_by_key(|a| a.0);
                alts.dedup_by_key(|a| a.0);
                Operation { alternatives: alts }
            });
            let due = if due_dates {
                proptest::option::weighted(0.8, 0u64..=20).boxed()
            } else {
                Just(None).boxed()
            };
            let job_terms = (0u64..=5, due, 1u64..=3, 0u32..2)
                .prop_map(|(release, due, weight, family)| terms(release, due, weight, family));
            let setup_times = proptest::collection::vec(
                proptest::collection::vec(0u64..=4, 2),
                machines as usize,
            );
            (
                proptest::collection::vec(proptest::collection::vec(op, ops), jobs),
                proptest::collection::vec(job_terms, jobs),
                setup_times,
            )
                .prop_map(move |(job_ops, t, st)| {
                    let mut inst = Instance::new(machines, job_ops).unwrap();
                    if with_setups {
                        // 2 families: [0, a→b, b→a, 0] per machine.
                        let times = st.iter().map(|x| vec![0, x[0], x[1], 0]).collect();
                        inst = inst.with_setups(Setups::new(2, times).unwrap()).unwrap();
                    }
                    inst.with_terms(t).unwrap()
                })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn tiny_makespan_instances_match_brute_force(inst in tiny_instance(false), seed in any::<u64>()) {
        let opt = brute_force(&inst);
        let solved = solve_iters(&inst, 2_000, seed, 1);
        let obj = evaluate(&inst, &solved.schedule).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(obj, solved.objective);
        prop_assert_eq!(obj, opt);
    }

    #[test]
    fn tiny_tardiness_instances_match_brute_force(inst in tiny_instance(true), seed in any::<u64>()) {
        let opt = brute_force(&inst);
        let solved = solve_iters(&inst, 2_000, seed, 1);
        let obj = evaluate(&inst, &solved.schedule).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(obj, solved.objective);
        prop_assert_eq!(obj, opt);
    }
}
