//! A demo-sized model (15 options x 20 values, ~3e19 combinations) must
//! configure in well under 10 ms in release builds.

use std::time::{Duration, Instant};

use kiln_configure::{Configurator, Selections};
use kiln_model::*;
use rust_decimal::Decimal;

/// A tiny deterministic generator so the model is the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }
}

fn big() -> Product {
    let (n, k) = (15, 20);
    let mut g = Lcg(7);
    let options = (0..n)
        .map(|i| OptionDef {
            id: format!("o{i}"),
            name: format!("Option {i}"),
            aliases: Vec::new(),
            kind: OptionKind::Choice {
                values: (0..k)
                    .map(|v| Value {
                        id: format!("v{v}"),
                        label: format!("V{v}"),
                    })
                    .collect(),
            },
            optional: i % 5 == 4,
            default: None,
            span: Span::default(),
        })
        .collect();
    let mut rules = Vec::new();
    for r in 0..25 {
        let a = g.next(n);
        let b = (a + 1 + g.next(n - 1)) % n;
        let pick = |g: &mut Lcg, m: usize| -> Vec<String> {
            let mut v: Vec<String> = (0..m).map(|_| format!("v{}", g.next(k))).collect();
            v.dedup();
            v
        };
        let cond = pick(&mut g, 4);
        let then = pick(&mut g, 12);
        rules.push(Rule {
            id: format!("rule-{r}"),
            condition: Expr::In(format!("o{a}"), cond),
            then: Expr::In(format!("o{b}"), then),
            message: format!("message {r}"),
            span: Span::default(),
        });
    }
    Product {
        id: "big".into(),
        name: "Big".into(),
        description: String::new(),
        currency: "EUR".into(),
        base_price: Decimal::ONE,
        ship_days: 0,
        components: vec![],
        options,
        rules,
        tables: Vec::new(),
        prices: vec![],
        bom: vec![],
        operations: vec![],
        preview: Preview::default(),
        span: Span::default(),
    }
}

#[test]
fn demo_sized_model_is_fast() {
    let c = Configurator::new(&big());
    assert!(c.is_satisfiable());
    let first = c.configure(&Selections::new()).unwrap();
    assert!(first.valid && first.complete);
    // Select about half the options from a valid configuration.
    let selections: Selections = first
        .configuration
        .iter()
        .enumerate()
        .filter(|(k, _)| k % 2 == 0)
        .map(|(_, (o, v))| (o.clone(), v.clone()))
        .collect();
    let start = Instant::now();
    let runs = 10;
    let mut unavailable = 0;
    for _ in 0..runs {
        let o = c.configure(&selections).unwrap();
        assert!(o.valid);
        unavailable = o
            .options
            .iter()
            .flat_map(|o| &o.values)
            .filter(|v| !v.available)
            .count();
    }
    let each = start.elapsed() / runs;
    eprintln!("configure: {each:?} per call, {unavailable} unavailable values explained");
    // Debug builds are ~10-30x slower than release; keep the bound meaningful for both.
    let limit = if cfg!(debug_assertions) { 250 } else { 10 };
    assert!(each < Duration::from_millis(limit), "{each:?}");
}
