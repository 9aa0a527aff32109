//! Table models (as imported from XCSP / DIMACS): exact counts and domains
//! against brute-force enumeration, minimal explanations, and import errors
//! with line numbers.

use kiln_configure::{Configurator, SelectionError, Selections};
use kiln_model::{import_dimacs, import_xcsp};
use proptest::prelude::*;

/// A random table model as XCSP text: `n` variables with small domains and
/// a few supports/conflicts relations.
/// Scope, supports (true) or conflicts, tuples.
type Con = (Vec<usize>, bool, Vec<Vec<usize>>);

fn xcsp(doms: &[usize], cons: &[Con]) -> String {
    let mut s =
        String::from("<instance>\n<presentation name=\"t\" format=\"XCSP 2.1\"/>\n<domains>\n");
    for (i, d) in doms.iter().enumerate() {
        s += &format!(
            "<domain name=\"D{i}\" nbValues=\"{d}\">0..{}</domain>\n",
            d - 1
        );
    }
    s += "</domains>\n<variables>\n";
    for i in 0..doms.len() {
        s += &format!("<variable name=\"v{i}\" domain=\"D{i}\"/>\n");
    }
    s += "</variables>\n<relations>\n";
    for (k, (scope, pos, tuples)) in cons.iter().enumerate() {
        let body: Vec<String> = tuples
            .iter()
            .map(|t| {
                t.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        s += &format!(
            "<relation name=\"R{k}\" arity=\"{}\" nbTuples=\"{}\" semantics=\"{}\">{}</relation>\n",
            scope.len(),
            tuples.len(),
            if *pos { "supports" } else { "conflicts" },
            body.join("|")
        );
    }
    s += "</relations>\n<constraints>\n";
    for (k, (scope, _, _)) in cons.iter().enumerate() {
        let sc: Vec<String> = scope.iter().map(|v| format!("v{v}")).collect();
        s += &format!(
            "<constraint name=\"C{k}\" arity=\"{}\" scope=\"{}\" reference=\"R{k}\"/>\n",
            scope.len(),
            sc.join(" ")
        );
    }
    s + "</constraints>\n</instance>\n"
}

fn holds(cons: &[Con], a: &[usize]) -> bool {
    cons.iter().all(|(scope, pos, tuples)| {
        let t: Vec<usize> = scope.iter().map(|&v| a[v]).collect();
        tuples.contains(&t) == *pos
    })
}

fn all(doms: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &d in doms {
        out = out
            .into_iter()
            .flat_map(|p| {
                (0..d).map(move |x| {
                    let mut q = p.clone();
                    q.push(x);
                    q
                })
            })
            .collect();
    }
    out
}

type Model = (Vec<usize>, Vec<Con>);

fn model() -> impl Strategy<Value = Model> {
    prop::collection::vec(1usize..4, 2..6).prop_flat_map(|doms| {
        let n = doms.len();
        let d2 = doms.clone();
        let con = (
            prop::sample::subsequence((0..n).collect::<Vec<_>>(), 1..=n.min(3)),
            any::<bool>(),
        )
            .prop_flat_map(move |(scope, pos)| {
                let sizes: Vec<usize> = scope.iter().map(|&v| d2[v]).collect();
                let tuple = sizes.iter().map(|&s| 0..s).collect::<Vec<_>>();
                (Just(scope), Just(pos), prop::collection::vec(tuple, 0..6))
            })
            .prop_map(|(scope, pos, mut tuples)| {
                tuples.sort();
                tuples.dedup();
                (scope, pos, tuples)
            });
        (Just(doms), prop::collection::vec(con, 0..4))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn count_and_domains_match_brute_force((doms, cons) in model(), pick in any::<u64>()) {
        let p = import_xcsp("t.xml", &xcsp(&doms, &cons)).expect("valid fixture");
        let c = Configurator::new(&p);
        let sols: Vec<Vec<usize>> = all(&doms).into_iter().filter(|a| holds(&cons, a)).collect();
        prop_assert_eq!(c.count().expect("countable").to_string(), sols.len().to_string());
        // Random selections: a prefix of a random assignment.
        let every = all(&doms);
        let a = &every[(pick as usize) % every.len()];
        let k = (pick >> 32) as usize % (doms.len() + 1);
        let mut sel = Selections::new();
        for (v, x) in a.iter().enumerate().take(k) {
            sel.insert(format!("v{v}"), x.to_string());
        }
        let d = c.domains(&sel).expect("known values");
        let ext: Vec<&Vec<usize>> = sols.iter().filter(|s| (0..k).all(|v| s[v] == a[v])).collect();
        prop_assert_eq!(d.consistent, !ext.is_empty());
        if d.consistent {
            for (v, (name, vals)) in d.domains.iter().enumerate() {
                prop_assert_eq!(name, &format!("v{v}"));
                let want: Vec<String> = (0..doms[v]).filter(|&x| ext.iter().any(|s| s[v] == x)).map(|x| x.to_string()).collect();
                prop_assert_eq!(vals, &want);
            }
        } else {
            // The conflict is minimal: it conflicts, and no proper subset does.
            let r = d.conflict.expect("a conflict");
            let conflicts = |subset: &[(String, String)]| !sols.iter().any(|s| subset.iter().all(|(o, x)| s[o[1..].parse::<usize>().unwrap()].to_string() == *x));
            prop_assert!(conflicts(&r.selections));
            for skip in 0..r.selections.len() {
                let mut less = r.selections.clone();
                less.remove(skip);
                prop_assert!(!conflicts(&less));
            }
        }
        // Explanations of a disabled value: valid and minimal.
        if d.consistent && k > 0 {
            let v = k.min(doms.len() - 1);
            for x in 0..doms[v] {
                let mut others = sel.clone();
                others.remove(&format!("v{v}"));
                let Some(r) = c.explain(&others, &format!("v{v}"), &x.to_string()).expect("known") else { continue };
                let rules_out = |subset: &[(String, String)]| !sols.iter().any(|s| s[v] == x && subset.iter().all(|(o, y)| s[o[1..].parse::<usize>().unwrap()].to_string() == *y));
                prop_assert!(rules_out(&r.selections));
                for skip in 0..r.selections.len() {
                    let mut less = r.selections.clone();
                    less.remove(skip);
                    prop_assert!(!rules_out(&less));
                }
                // The named constraints alone rule it out with those
                // selections, and none of them can be left out.
                let ids: Vec<usize> = r.rules.iter().map(|x| x.id[1..].parse().unwrap()).collect();
                let fixed: Vec<(usize, usize)> = r.selections.iter().map(|(o, y)| (o[1..].parse().unwrap(), y.parse().unwrap())).chain([(v, x)]).collect();
                let rules_forbid = |ids: &[usize]| {
                    let some: Vec<Con> = ids.iter().map(|&k| cons[k].clone()).collect();
                    !every.iter().any(|s| fixed.iter().all(|&(o, y)| s[o] == y) && holds(&some, s))
                };
                prop_assert!(rules_forbid(&ids), "rules {:?} do not rule out v{}={}", ids, v, x);
                for skip in 0..ids.len() {
                    let mut less = ids.clone();
                    less.remove(skip);
                    prop_assert!(!rules_forbid(&less), "rules {:?} not minimal", ids);
                }
            }
        }
    }
}

/// A random CNF: `n` variables, clauses of one to three literals
/// `(variable, positive)` (two literals most often, as in feature models).
type Cnf = (usize, Vec<Vec<(usize, bool)>>);

fn clause_model() -> impl Strategy<Value = Cnf> {
    (3usize..=9).prop_flat_map(|n| {
        let lit = (0..n, any::<bool>());
        let clause = prop_oneof![
            1 => prop::collection::vec(lit.clone(), 1..=1),
            4 => prop::collection::vec(lit.clone(), 2..=2),
            2 => prop::collection::vec(lit, 3..=3),
        ];
        (Just(n), prop::collection::vec(clause, 1..=24))
    })
}

fn satisfies(clauses: &[&Vec<(usize, bool)>], a: &[usize]) -> bool {
    clauses
        .iter()
        .all(|c| c.iter().any(|&(v, pos)| (a[v] == 1) == pos))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Clause models (the DIMACS path: binary clauses propagate through
    /// implication lists, longer ones through the clause stack): every
    /// disabled value's explanation rules it out, and no selection and no
    /// clause in it can be left out.
    #[test]
    fn cnf_explanations_are_minimal((n, clauses) in clause_model(), pick in any::<u64>()) {
        let mut text = format!("p cnf {n} {}\n", clauses.len());
        for c in &clauses {
            for &(v, pos) in c {
                text += &format!("{}{} ", if pos { "" } else { "-" }, v + 1);
            }
            text += "0\n";
        }
        let p = import_dimacs("f.cnf", &text).expect("valid fixture");
        let c = Configurator::new(&p);
        let every = all(&vec![2; n]);
        let all_clauses: Vec<&Vec<(usize, bool)>> = clauses.iter().collect();
        let sols: Vec<&Vec<usize>> = every.iter().filter(|a| satisfies(&all_clauses, a)).collect();
        prop_assert_eq!(c.count().expect("countable").to_string(), sols.len().to_string());
        if sols.is_empty() {
            return Ok(());
        }
        // Select a prefix of a solution, so the selections hold together.
        let a = sols[(pick as usize) % sols.len()];
        let k = (pick >> 32) as usize % n;
        let mut sel = Selections::new();
        for (v, x) in a.iter().enumerate().take(k) {
            sel.insert((v + 1).to_string(), x.to_string());
        }
        let id = |o: &str| o.parse::<usize>().expect("numbered option") - 1;
        for v in k..n {
            for x in 0..2 {
                let Some(r) = c.explain(&sel, &(v + 1).to_string(), &x.to_string()).expect("known") else {
                    prop_assert!(sols.iter().any(|s| s[v] == x && (0..k).all(|u| s[u] == a[u])), "v{}={} wrongly available", v, x);
                    continue;
                };
                let fixed: Vec<(usize, usize)> = r.selections.iter()
                    .map(|(o, y)| (id(o), y.parse().expect("0 or 1")))
                    .chain([(v, x)])
                    .collect();
                let out = |fixed: &[(usize, usize)], ids: &[usize]| {
                    let some: Vec<&Vec<(usize, bool)>> = ids.iter().map(|&i| &clauses[i]).collect();
                    !every.iter().any(|s| fixed.iter().all(|&(o, y)| s[o] == y) && satisfies(&some, s))
                };
                let every_clause: Vec<usize> = (0..clauses.len()).collect();
                prop_assert!(out(&fixed, &every_clause), "{:?} does not rule out v{}={}", r, v, x);
                for skip in 0..r.selections.len() {
                    let mut less = fixed.clone();
                    less.remove(skip);
                    prop_assert!(!out(&less, &every_clause), "selections of {:?} not minimal", r);
                }
                let ids: Vec<usize> = r.rules.iter().map(|x| x.id[1..].parse::<usize>().expect("c<k>") - 1).collect();
                prop_assert!(out(&fixed, &ids), "clauses {:?} do not rule out v{}={}", ids, v, x);
                for skip in 0..ids.len() {
                    let mut less = ids.clone();
                    less.remove(skip);
                    prop_assert!(!out(&fixed, &less), "clauses {:?} not minimal", ids);
                }
            }
        }
    }
}

#[test]
fn dimacs_count_matches_brute_force() {
    // (x1 or x2) and (not x1 or x3) and (not x2 or not x3): 2 of 8 assignments.
    let p = import_dimacs("f.cnf", "c 1 Root\np cnf 3 3\n1 2 0\n-1 3 0\n-2 -3 0\n").unwrap();
    assert_eq!(p.options[0].name, "Root");
    let c = Configurator::new(&p);
    let brute = (0..8u32)
        .filter(|m| {
            let x = |i: u32| m >> (i - 1) & 1 == 1;
            (x(1) || x(2)) && (!x(1) || x(3)) && (!x(2) || !x(3))
        })
        .count();
    assert_eq!(c.count().unwrap().to_string(), brute.to_string());
    let mut sel = Selections::new();
    sel.insert("1".into(), "1".into());
    let d = c.domains(&sel).unwrap();
    assert!(d.consistent);
    assert_eq!(d.domains[2].1, vec!["1".to_string()]);
    assert_eq!(d.domains[1].1, vec!["0".to_string()]);
}

#[test]
fn malformed_imports_name_the_line() {
    let e = import_dimacs("f.cnf", "p cnf 2 1\n1 x 0\n").unwrap_err();
    assert_eq!((e.span.line, e.span.column), (2, 3), "{e}");
    let e = import_dimacs("f.cnf", "p cnf 2 1\n1 3 0\n").unwrap_err();
    assert_eq!(e.span.line, 2, "{e}");
    let e = import_dimacs("f.cnf", "1 2 0\n").unwrap_err();
    assert_eq!(e.span.line, 1, "{e}");
    let bad = "<instance>\n<domains>\n<domain name=\"D\" nbValues=\"2\">0 x</domain>\n</domains>\n</instance>\n";
    let e = import_xcsp("m.xml", bad).unwrap_err();
    assert_eq!(e.span.line, 3, "{e}");
    let e = import_xcsp("m.xml", "<instance>\n<domains>\n</instance>").unwrap_err();
    assert_eq!(e.span.line, 3, "{e}");
    let unknown = "<instance><domains><domain name=\"D\">0 1</domain></domains>\n<variables><variable name=\"a\" domain=\"D\"/></variables>\n<relations><relation name=\"R\" arity=\"1\" semantics=\"supports\">0</relation></relations>\n<constraints>\n<constraint name=\"C\" arity=\"1\" scope=\"b\" reference=\"R\"/></constraints></instance>";
    let e = import_xcsp("m.xml", unknown).unwrap_err();
    assert_eq!(e.span.line, 5, "{e}");
}

proptest! {
    #[test]
    fn imports_never_panic(src in ".{0,200}", cut in any::<usize>()) {
        let _ = import_dimacs("f.cnf", &src);
        let _ = import_xcsp("m.xml", &src);
        let base = xcsp(&[2, 3], &[(vec![0, 1], true, vec![vec![0, 1], vec![1, 2]])]);
        let k = cut % (base.len() + 1);
        let mut s = base.clone();
        s.truncate(k);
        let _ = import_xcsp("m.xml", &s);
        let mut t = base;
        t.insert_str(k.min(t.len()), &src);
        let _ = import_xcsp("m.xml", &t);
    }
}

/// A DIMACS feature model names its variables in comments; a name that can
/// be an id becomes the id, and the number stays an alias.
const NAMED: &str = "c 1 Engine\nc 2 Roof\nc 3 Roof\nc 4 42\nc 5 Two words\n\
c 6 Sun_roof\np cnf 7 2\n-1 6 0\n-6 -7 0\n";

#[test]
fn dimacs_names_become_ids_and_numbers_stay_aliases() {
    let p = import_dimacs("f.cnf", NAMED).unwrap();
    let ids: Vec<&str> = p.options.iter().map(|o| o.id.as_str()).collect();
    // Roof names two variables and 42 is a number: those keep their numbers.
    assert_eq!(ids, ["Engine", "2", "3", "4", "5", "Sun_roof", "7"]);
    assert_eq!(p.options[0].aliases, ["1"]);
    assert!(p.options[1].aliases.is_empty());
    assert_eq!(p.options[4].name, "Two words");
    assert_eq!(p.option_index("6"), Some(5));
    assert_eq!(p.option_index("Sun_roof"), Some(5));

    let c = Configurator::new(&p);
    let by = |k: &str| {
        let mut sel = Selections::new();
        sel.insert(k.into(), "1".into());
        c.domains(&sel).unwrap()
    };
    let (named, numbered) = (by("Engine"), by("1"));
    assert_eq!(named, numbered);
    // Engine forces Sun_roof, which excludes variable 7: outputs use ids.
    assert_eq!(named.domains[5], ("Sun_roof".into(), vec!["1".into()]));
    assert_eq!(named.domains[6], ("7".into(), vec!["0".into()]));

    let mut twice = Selections::new();
    twice.insert("Engine".into(), "1".into());
    twice.insert("1".into(), "0".into());
    let e = c.domains(&twice).unwrap_err();
    assert!(matches!(e, SelectionError::SelectedTwice { .. }), "{e}");
}

#[test]
fn an_imported_model_keeps_its_names_through_the_model_language() {
    let p = import_dimacs("f.cnf", NAMED).unwrap();
    let toml = kiln_model::to_toml(&p);
    let back = kiln_model::parse_product("f.toml", &toml).unwrap_or_else(|d| panic!("{d:?}"));
    for (a, b) in p.options.iter().zip(&back.options) {
        assert_eq!((&a.id, &a.name, &a.aliases), (&b.id, &b.name, &b.aliases));
    }
    let mut sel = Selections::new();
    sel.insert("1".into(), "1".into());
    assert_eq!(
        Configurator::new(&p).domains(&sel).unwrap(),
        Configurator::new(&back).domains(&sel).unwrap()
    );
}

#[test]
fn aliases_are_names_and_cannot_clash() {
    let head = "[product]\nid = \"x\"\nname = \"X\"\ncurrency = \"EUR\"\nbase_price = \"1\"\n";
    let clash = format!(
        "{head}\n[option.a]\nvalues = [\"0\", \"1\"]\naliases = [\"b\"]\n\n[option.b]\nvalues = [\"0\"]\n"
    );
    let d = kiln_model::parse_product("x.toml", &clash).unwrap_err();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].span.line, d[0].span.column), (11, 9), "{}", d[0]);
    assert!(d[0].message.contains("already an alias"), "{}", d[0]);
    let bad = format!("{head}\n[option.a]\nvalues = [\"0\"]\naliases = [\"two words\", 3]\n");
    let d = kiln_model::parse_product("x.toml", &bad).unwrap_err();
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!((d[0].span.line, d[0].span.column), (9, 13), "{}", d[0]);
    assert!(d[0].message.contains("alias `two words`"), "{}", d[0]);
}

/// A random CNF over `n` variables: clauses of 1 to 3 literals.
fn cnf(n: usize) -> impl Strategy<Value = Vec<Vec<i64>>> {
    let lit = (1..=n as i64, any::<bool>()).prop_map(|(v, neg)| if neg { -v } else { v });
    prop::collection::vec(prop::collection::vec(lit, 1..=3), 0..14)
}

proptest! {
    /// Clauses the others imply (here: resolvents, and copies) are left out
    /// of compilation; counts and domains stay exact.
    #[test]
    fn implied_clauses_change_no_count_or_domain(
        clauses in cnf(7),
        picks in prop::collection::vec((any::<usize>(), any::<usize>()), 0..10),
        prefix in prop::collection::vec((0..7usize, any::<bool>()), 0..4),
    ) {
        let n = 7;
        let mut all = clauses.clone();
        for (a, b) in picks {
            let (Some(x), Some(y)) = (clauses.get(a % clauses.len().max(1)), clauses.get(b % clauses.len().max(1))) else { continue };
            if let Some(&p) = x.iter().find(|l| y.contains(&-**l)) {
                let mut r: Vec<i64> = x.iter().chain(y).copied().filter(|&l| l != p && l != -p).collect();
                r.sort_unstable();
                r.dedup();
                if !r.iter().any(|l| r.contains(&-l)) && !r.is_empty() {
                    all.push(r);
                }
            } else {
                all.push(x.clone());
            }
        }
        let mut src = format!("p cnf {n} {}\n", all.len());
        for c in &all {
            src += &c.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" ");
            src += " 0\n";
        }
        let p = import_dimacs("f.cnf", &src).unwrap();
        let c = Configurator::new(&p);
        let holds = |m: u32, cl: &Vec<i64>| cl.iter().any(|&l| (m >> (l.unsigned_abs() - 1) & 1 == 1) == (l > 0));
        let models: Vec<u32> = (0..1u32 << n).filter(|&m| all.iter().all(|cl| holds(m, cl))).collect();
        prop_assert_eq!(c.count().unwrap().to_string(), models.len().to_string());
        let mut sel = Selections::new();
        for &(v, x) in &prefix {
            sel.insert((v + 1).to_string(), u8::from(x).to_string());
        }
        let d = c.domains(&sel).unwrap();
        // Every prefix entry is in `sel` (a later one for a variable wins).
        let want: Vec<u32> = models.iter().copied().filter(|&m| sel.iter().all(|(k, v)| {
            let i: usize = k.parse::<usize>().unwrap() - 1;
            (m >> i & 1).to_string() == *v
        })).collect();
        prop_assert_eq!(d.consistent, !want.is_empty());
        if d.consistent {
            for (i, (_, vals)) in d.domains.iter().enumerate() {
                let mut expect: Vec<String> = Vec::new();
                for x in 0..2u32 {
                    if want.iter().any(|&m| (m >> i & 1) == x) {
                        expect.push(x.to_string());
                    }
                }
                prop_assert_eq!(vals, &expect, "option {}", i + 1);
            }
        }
    }
}

#[test]
fn a_saved_compilation_answers_as_the_compiled_one() {
    let p = import_dimacs("f.cnf", NAMED).unwrap();
    let c = Configurator::new(&p);
    let bytes = c.compiled_bytes().expect("a table model is compiled");
    let again = Configurator::with_compiled(&p, &bytes).expect("its own bytes load");
    assert_eq!(c.count().unwrap(), again.count().unwrap());
    let mut sel = Selections::new();
    sel.insert("Engine".into(), "1".into());
    assert_eq!(c.domains(&sel).unwrap(), again.domains(&sel).unwrap());
    // Another product's shape is refused, as is a native product.
    let other = import_dimacs("g.cnf", "p cnf 3 1\n1 2 0\n").unwrap();
    assert!(Configurator::with_compiled(&other, &bytes).is_none());
    let native = kiln_model::parse_product(
        "x.toml",
        "[product]\nid = \"x\"\nname = \"X\"\ncurrency = \"EUR\"\nbase_price = \"1\"\n",
    )
    .unwrap();
    assert!(Configurator::new(&native).compiled_bytes().is_none());
}

proptest! {
    /// Damaged bytes are refused or load a diagram that answers; never a panic.
    #[test]
    fn damaged_saved_compilations_never_panic(cut in any::<usize>(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..4)) {
        let p = import_dimacs("f.cnf", NAMED).unwrap();
        let mut bytes = Configurator::new(&p).compiled_bytes().unwrap();
        for (at, x) in flips {
            let k = at % bytes.len();
            bytes[k] ^= x;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if let Some(c) = Configurator::with_compiled(&p, &bytes) {
            let _ = c.count();
            let _ = c.domains(&Selections::new());
        }
    }
}
