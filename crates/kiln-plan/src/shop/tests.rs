use proptest::prelude::*;

use super::*;

const SMALL_JSP: &str = "3 3\n0 3 1 2 2 2\n0 2 2 1 1 4\n1 4 2 3 0 1\n";
const SMALL_FJSP: &str = "2 3 1.5\n2 2 0 3 1 5 1 2 2\n3 1 1 4 2 0 2 2 1 1 2 1\n";

fn solve_iters(inst: &Instance, iters: u64, seed: u64, threads: usize) -> Solved {
    let opts = SolveOptions {
        seed,
        threads,
        max_iterations: Some(iters),
        lower_bound: None,
        ..SolveOptions::default()
    };
    solve(inst, &opts, &|| false)
}

/// Exact optimum by enumerating dispatch orders and machine choices (append-only placement
/// reaches every left-justified schedule, hence the optimum), with bound pruning.
fn brute_force(inst: &Instance) -> u64 {
    fn go(
        inst: &Instance,
        next: &mut Vec<usize>,
        job_ready: &mut Vec<u64>,
        mach_free: &mut Vec<u64>,
        cur: u64,
        best: &mut u64,
    ) {
        if cur >= *best {
            return;
        }
        let mut any = false;
        for j in 0..inst.jobs().len() {
            let k = next[j];
            if k == inst.jobs()[j].len() {
                continue;
            }
            any = true;
            for &(m, d) in &inst.jobs()[j][k].alternatives {
                let start = job_ready[j].max(mach_free[m as usize]);
                let end = start + d;
                let (jr, mf) = (job_ready[j], mach_free[m as usize]);
                job_ready[j] = end;
                mach_free[m as usize] = end;
                next[j] += 1;
                go(inst, next, job_ready, mach_free, cur.max(end), best);
                next[j] -= 1;
                job_ready[j] = jr;
                mach_free[m as usize] = mf;
            }
        }
        if !any {
            *best = (*best).min(cur);
        }
    }
    let mut best = u64::MAX;
    go(
        inst,
        &mut vec![0; inst.jobs().len()],
        &mut vec![0; inst.jobs().len()],
        &mut vec![0; inst.machines()],
        0,
        &mut best,
    );
    best
}

#[test]
fn parses_jsp_with_file_machine_numbers() {
    let inst = parse_jsp(SMALL_JSP).unwrap();
    assert_eq!(inst.jobs().len(), 3);
    assert_eq!(inst.machines(), 3);
    assert_eq!(inst.operations(), 9);
    assert_eq!(inst.jobs()[2][0].alternatives, vec![(1, 4)]);
    assert!(inst.is_classic());
}

#[test]
fn parses_fjsp() {
    let inst = parse_fjsp(SMALL_FJSP).unwrap();
    assert_eq!(inst.jobs().len(), 2);
    assert_eq!(inst.jobs()[0].len(), 2);
    assert_eq!(inst.jobs()[0][0].alternatives, vec![(0, 3), (1, 5)]);
    assert_eq!(inst.jobs()[1][1].alternatives, vec![(0, 2), (2, 1)]);
    assert_eq!(inst.jobs()[1][2].alternatives, vec![(2, 1)]);
    assert!(!inst.is_classic());
}

#[test]
fn one_based_machine_numbers_keep_their_labels() {
    // Original Brandimarte files number machines from 1.
    let inst = parse_fjsp("1 2\n2 1 1 3 1 2 4\n").unwrap();
    let s = solve_iters(&inst, 100, 0, 1).schedule;
    assert_eq!(check(&inst, &s), Ok(7));
    let labels: Vec<u32> = s
        .operations
        .iter()
        .map(|o| inst.machine_label(o.machine))
        .collect();
    assert_eq!(labels, vec![1, 2]);
}

#[test]
fn parse_errors_name_the_line() {
    let cases: &[(&str, Format, usize, &str)] = &[
        ("", Format::Jsp, 1, "empty"),
        ("2\n", Format::Jsp, 1, "jobs machines"),
        (
            "2 2\n0 1 1 2\n",
            Format::Jsp,
            3,
            "expected 2 job line(s), found 1",
        ),
        ("2 2\n0 1 1 2\n\n0 1 1 x\n", Format::Jsp, 4, "`x`"),
        ("1 2\n0 1 1\n", Format::Jsp, 2, "expected 4 numbers"),
        ("1 1\n0 1\n0 1\n", Format::Jsp, 3, "unexpected data"),
        ("# comment\n1 1\n0 -1\n", Format::Jsp, 3, "non-negative"),
        ("1 2\n1 0\n", Format::Fjsp, 2, "no eligible machine"),
        ("1 2\n1 2 0 3\n", Format::Fjsp, 2, "line ends"),
        ("1 2\n1 1 0 3 9\n", Format::Fjsp, 2, "unexpected value"),
        ("1 2\n1 2 0 3 0 4\n", Format::Fjsp, 2, "twice"),
        ("1 2 x\n", Format::Fjsp, 1, "average"),
        ("1 2\n1 1 0 99999999999\n", Format::Fjsp, 2, "larger than"),
    ];
    for (text, fmt, line, needle) in cases {
        let e = parse(text, *fmt).unwrap_err();
        assert_eq!(e.line, *line, "{text:?}: {e}");
        assert!(e.to_string().contains(needle), "{text:?}: {e}");
        assert!(e.to_string().starts_with(&format!("line {line}: ")));
    }
}

#[test]
fn checker_catches_each_kind_of_fault() {
    let inst = parse_jsp(SMALL_JSP).unwrap();
    let good = solve_iters(&inst, 200, 1, 1).schedule;
    assert!(check(&inst, &good).is_ok());

    let mut s = good.clone();
    s.operations.pop();
    assert!(matches!(check(&inst, &s), Err(Infeasible::Missing { .. })));

    let mut s = good.clone();
    s.operations[0].machine = (s.operations[0].machine + 1) % 3;
    assert!(matches!(
        check(&inst, &s),
        Err(Infeasible::Ineligible { .. })
    ));

    let mut s = good.clone();
    s.operations[0].end += 1;
    assert!(matches!(check(&inst, &s), Err(Infeasible::Duration { .. })));

    let mut s = good.clone();
    let d = s.operations[1].end - s.operations[1].start;
    s.operations[1].start = 0;
    s.operations[1].end = d;
    assert!(matches!(
        check(&inst, &s),
        Err(Infeasible::Precedence { .. } | Infeasible::Overlap { .. })
    ));

    // Everything at time zero on its own job chain: machines overlap.
    let mut s = good.clone();
    let mut t = [0u64; 3];
    for o in &mut s.operations {
        let d = o.end - o.start;
        o.start = t[o.job];
        o.end = o.start + d;
        t[o.job] = o.end;
    }
    s.makespan = s.operations.iter().map(|o| o.end).max().unwrap();
    assert!(matches!(check(&inst, &s), Err(Infeasible::Overlap { .. })));

    let mut s = good.clone();
    s.makespan += 1;
    assert!(matches!(check(&inst, &s), Err(Infeasible::Makespan { .. })));
}

#[test]
fn small_instances_reach_the_optimum() {
    for (text, fmt) in [(SMALL_JSP, Format::Jsp), (SMALL_FJSP, Format::Fjsp)] {
        let inst = parse(text, fmt).unwrap();
        let opt = brute_force(&inst);
        let s = solve_iters(&inst, 2_000, 7, 2).schedule;
        assert_eq!(check(&inst, &s), Ok(opt));
    }
}

#[test]
fn empty_and_trivial_instances() {
    let inst = parse_jsp("0 0\n").unwrap();
    let s = solve_iters(&inst, 10, 0, 1).schedule;
    assert_eq!(s.makespan, 0);
    assert!(s.operations.is_empty());
    let inst = parse_jsp("1 3\n0 2 1 0 2 5\n").unwrap();
    let s = solve_iters(&inst, 10, 0, 1).schedule;
    assert_eq!(check(&inst, &s), Ok(7));
}

#[test]
fn same_seed_same_schedule() {
    let inst = random_instance(5, 4, 3, 11, true);
    let a = solve_iters(&inst, 500, 3, 1).schedule;
    let b = solve_iters(&inst, 500, 3, 1).schedule;
    assert_eq!(a, b);
}

/// A deterministic pseudo-random instance (jobs × ops, machines, max alternatives).
fn random_instance(jobs: usize, machines: u32, ops: usize, seed: u64, flexible: bool) -> Instance {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    let mut rnd = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let jobs = (0..jobs)
        .map(|_| {
            (0..ops)
                .map(|_| {
                    let count = if flexible {
                        1 + rnd(u64::from(machines))
                    } else {
                        1
                    };
                    let mut alts: Vec<(u32, u64)> = Vec::new();
                    while (alts.len() as u64) < count {
                        let m = rnd(u64::from(machines)) as u32;
                        if !alts.iter().any(|a| a.0 == m) {
                            alts.push((m, 1 + rnd(9)));
                        }
                    }
                    Operation { alternatives: alts }
                })
                .collect()
        })
        .collect();
    Instance::new(machines, jobs).unwrap()
}

#[test]
fn larger_random_instances_stay_feasible() {
    for seed in 0..6 {
        let inst = random_instance(12, 6, 6, seed, seed % 2 == 0);
        let solved = solve_iters(&inst, 3_000, seed, 2);
        let ms = check(&inst, &solved.schedule).unwrap();
        assert!(ms >= inst.lower_bound());
        assert!(ms <= solved.stats.initial_makespan);
    }
}

/// Tiny instances with operations of `shortest..=6` time units.
fn tiny_instance_from(shortest: u64) -> impl Strategy<Value = Instance> {
    (1usize..=3, 1u32..=3, 1usize..=3, any::<bool>()).prop_flat_map(
        move |(jobs, machines, ops, flexible)| {
            let op = proptest::collection::vec(
                (0..machines, shortest..=6u64),
                1..=if flexible { machines as usize } else { 1 },
            )
            .prop_map(|mut alts| {
                alts.sort_by_key(|a| a.0);
                alts.dedup_by_key(|a| a.0);
                Operation { alternatives: alts }
            });
            proptest::collection::vec(proptest::collection::vec(op, ops), jobs)
                .prop_map(move |jobs| Instance::new(machines, jobs).unwrap())
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    // A local search is not complete: its neighbourhood (critical blocks) is
    // not connected, and from some starts it stops one unit above the optimum
    // (CI proptests found 16 for 15, with and without zero-length
    // operations). So random cases are held to valid schedules no better than
    // the optimum; how often the optimum is reached is measured on a fixed
    // set (`tiny_instances_mostly_reach_the_optimum`).
    #[test]
    fn tiny_instances_give_valid_schedules(inst in tiny_instance_from(1), seed in any::<u64>()) {
        let opt = brute_force(&inst);
        let solved = solve_iters(&inst, 3_000, seed, 1);
        let ms = check(&inst, &solved.schedule).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(ms >= opt);
    }

    #[test]
    fn zero_length_operations_give_valid_schedules(inst in tiny_instance_from(0), seed in any::<u64>()) {
        let opt = brute_force(&inst);
        let solved = solve_iters(&inst, 3_000, seed, 1);
        let ms = check(&inst, &solved.schedule).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(ms >= opt);
    }

    #[test]
    fn parsers_never_panic(text in "[0-9 \\n#x.\\-]{0,80}") {
        let _ = parse_jsp(&text);
        let _ = parse_fjsp(&text);
    }

    #[test]
    fn parsers_survive_mangled_valid_files(cut in 0usize..60, junk in "[0-9 \\n]{0,6}") {
        for text in [SMALL_JSP, SMALL_FJSP] {
            let cut = cut.min(text.len());
            let mangled = format!("{}{}{}", &text[..cut], junk, &text[cut..]);
            for fmt in [Format::Jsp, Format::Fjsp] {
                if let Ok(inst) = parse(&mangled, fmt) {
                    let s = solve_iters(&inst, 50, 0, 1).schedule;
                    prop_assert!(check(&inst, &s).is_ok());
                }
            }
        }
    }
}

/// On a fixed set of 400 tiny instances (proptest's deterministic runner), the
/// search reaches the brute-force optimum nearly always, and never goes below.
#[test]
fn tiny_instances_mostly_reach_the_optimum() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = tiny_instance_from(1);
    let (mut optimal, mut total) = (0, 0);
    for seed in 0..400u64 {
        let inst = strategy.new_tree(&mut runner).unwrap().current();
        let opt = brute_force(&inst);
        let ms = check(&inst, &solve_iters(&inst, 3_000, seed, 1).schedule).unwrap();
        assert!(ms >= opt, "{ms} below the optimum {opt}: {inst:?}");
        optimal += usize::from(ms == opt);
        total += 1;
    }
    assert!(
        optimal * 100 >= total * 98,
        "optimal in {optimal} of {total}"
    );
}
