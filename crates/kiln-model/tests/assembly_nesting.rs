//! Sub-assemblies nested deep, wide or at random: never a panic, never a
//! loop; a product either expands exactly (checked against a naive
//! expansion) or the catalog check says why not (a cycle, too deep, too many
//! operations, quantities too large).

use kiln_model::{Diagnostic, Quantity, check};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn at(d: &[Diagnostic]) -> Vec<String> {
    d.iter()
        .map(|d| {
            format!(
                "{}:{}:{}: {}",
                d.file, d.span.line, d.span.column, d.message
            )
        })
        .collect()
}

#[test]
fn nesting_too_deep_or_too_wide_is_refused_not_followed() {
    let product = |a: &str| {
        format!(
            "[product]\nid = \"p\"\nname = \"P\"\ncurrency = \"EUR\"\nbase_price = 1\n\
             [[bom]]\nassembly = \"{a}\"\nqty = 1\n"
        )
    };
    let op = |a: &str| {
        format!("[[assembly.{a}.operation]]\nid = \"o\"\nwork_center = \"w\"\nminutes = 1\n")
    };
    let uses = |a: &str, b: &str| format!("[[assembly.{a}.bom]]\nassembly = \"{b}\"\nqty = 2\n");
    // A chain of 40.
    let mut chain = String::from("[work_center.w]\n");
    for i in 0..40 {
        chain += &op(&format!("a{i}"));
        if i < 39 {
            chain += &uses(&format!("a{i}"), &format!("a{}", i + 1));
        }
    }
    let r = check(&[("f.toml".into(), chain), ("p.toml".into(), product("a0"))]);
    assert_eq!(
        at(&r.diagnostics),
        ["p.toml:6:1: assembly `a0` nests more than 32 levels of assemblies"]
    );
    // Two ways down at each of 12 levels: 4096 paths.
    let mut wide = String::from("[work_center.w]\n");
    for i in 0..12 {
        let (x, y, z, next) = (
            format!("x{i}"),
            format!("y{i}"),
            format!("z{i}"),
            format!("x{}", i + 1),
        );
        wide += &(uses(&x, &y) + &uses(&x, &z) + &op(&y) + &op(&z));
        if i < 11 {
            wide += &(uses(&y, &next) + &uses(&z, &next));
        }
    }
    let r = check(&[("f.toml".into(), wide), ("p.toml".into(), product("x0"))]);
    assert_eq!(
        at(&r.diagnostics),
        ["p.toml:6:1: assembly `x0` adds more than 1000 operations"]
    );
    // Quantities beyond what a decimal holds.
    let mut huge = String::from("[work_center.w]\n[material.m]\nunit = \"kg\"\n");
    for i in 0..8 {
        huge += &format!(
            "[[assembly.h{i}.bom]]\nassembly = \"h{}\"\nqty = 99999999\n",
            i + 1
        );
    }
    huge += "[[assembly.h8.bom]]\nmaterial = \"m\"\nqty = 1\n";
    let r = check(&[("f.toml".into(), huge), ("p.toml".into(), product("h0"))]);
    assert_eq!(
        at(&r.diagnostics),
        ["p.toml:6:1: the quantities through assembly `h0` are too large to compute"]
    );
}

/// Per assembly: lines (`target` < n: an assembly, else a material) with a
/// qty, and operations' minutes.
#[derive(Debug, Clone)]
struct Nest {
    lines: Vec<Vec<(usize, u32)>>,
    ops: Vec<Vec<u32>>,
}

fn nest() -> impl Strategy<Value = Nest> {
    (1usize..=6).prop_flat_map(|n| {
        let lines = prop::collection::vec(prop::collection::vec((0..n + 2, 1u32..=9), 0..=3), n);
        let ops = prop::collection::vec(prop::collection::vec(1u32..=9, 0..=2), n);
        (lines, ops).prop_map(|(lines, ops)| Nest { lines, ops })
    })
}

fn factory_of(nest: &Nest) -> String {
    let n = nest.lines.len();
    let mut s = String::from(
        "[work_center.w]\n[material.m0]\nunit = \"kg\"\n[material.m1]\nunit = \"kg\"\n",
    );
    for a in 0..n {
        s += &format!("[assembly.a{a}]\n");
        for &(t, q) in &nest.lines[a] {
            let part = if t < n {
                format!("assembly = \"a{t}\"")
            } else {
                format!("material = \"m{}\"", t - n)
            };
            s += &format!("[[assembly.a{a}.bom]]\n{part}\nqty = {q}\n");
        }
        let mut ops = nest.ops[a].clone();
        if ops.is_empty() && nest.lines[a].is_empty() {
            ops.push(1);
        }
        for (k, m) in ops.iter().enumerate() {
            s += &format!(
                "[[assembly.a{a}.operation]]\nid = \"o{k}\"\nwork_center = \"w\"\nminutes = {m}\n"
            );
        }
    }
    s
}

fn cyclic(nest: &Nest) -> bool {
    let n = nest.lines.len();
    fn reaches(nest: &Nest, from: usize, to: usize, seen: &mut Vec<bool>) -> bool {
        let n = nest.lines.len();
        nest.lines[from].iter().any(|&(t, _)| {
            t < n
                && (t == to
                    || (!seen[t] && {
                        seen[t] = true;
                        reaches(nest, t, to, seen)
                    }))
        })
    }
    (0..n).any(|a| reaches(nest, a, a, &mut vec![false; n]))
}

/// Per material, units per unit of `a`; and operation minutes per unit of `a`, summed.
fn naive(nest: &Nest, a: usize) -> ([Decimal; 2], Decimal) {
    let n = nest.lines.len();
    let mut materials = [Decimal::ZERO; 2];
    let mut ops = nest.ops[a]
        .iter()
        .map(|&m| Decimal::from(m))
        .sum::<Decimal>();
    if ops.is_zero() && nest.lines[a].is_empty() {
        ops = Decimal::ONE;
    }
    for &(t, q) in &nest.lines[a] {
        let q = Decimal::from(q);
        if t < n {
            let (m, o) = naive(nest, t);
            materials[0] += q * m[0];
            materials[1] += q * m[1];
            ops += q * o;
        } else {
            materials[t - n] += q;
        }
    }
    (materials, ops)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_nesting_expands_or_reports_a_cycle(nest in nest(), large in 1u32..=3) {
        let factory = factory_of(&nest);
        let product = format!(
            "[product]\nid = \"p\"\nname = \"P\"\ncurrency = \"EUR\"\nbase_price = 1\n\
             [option.size]\nvalues = [\"S\", \"L\"]\n\
             [[bom]]\nassembly = \"a0\"\nqty = {{ S = 1, L = {large} }}\n"
        );
        let r = check(&[("f.toml".to_string(), factory), ("p.toml".to_string(), product)]);
        let p = &r.products[0];
        if cyclic(&nest) {
            prop_assert!(r.diagnostics.iter().any(|d| d.message.starts_with("assembly cycle: ")),
                "{:?}", at(&r.diagnostics));
        } else {
            prop_assert!(r.is_ok(), "{:?}", at(&r.diagnostics));
            let (materials, minutes) = naive(&nest, 0);
            let at_size = |q: &Quantity, v: &str| match q {
                Quantity::ByValue { by_value, .. } => by_value.iter().find(|(k, _)| k == v).unwrap().1,
                Quantity::Fixed(d) => *d,
            };
            for (size, times) in [("S", Decimal::ONE), ("L", Decimal::from(large))] {
                for (k, want) in materials.iter().enumerate() {
                    let got: Decimal = p.bom.iter()
                        .filter(|b| b.material == format!("m{k}"))
                        .map(|b| at_size(&b.qty, size))
                        .sum();
                    prop_assert_eq!(got, want * times);
                }
                let got: Decimal = p.operations.iter().map(|o| at_size(&o.minutes, size)).sum();
                prop_assert_eq!(got, minutes * times);
            }
            let mut ids: Vec<&str> = p.operations.iter().map(|o| o.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), p.operations.len());
        }
    }
}
