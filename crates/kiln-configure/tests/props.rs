//! Random small models checked against brute-force enumeration.

use std::collections::{BTreeMap, HashMap};

use kiln_configure::{Configurator, Outcome, Reason, Selections};
use kiln_model::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Options `o0..`, values `v0..`; `None` in a configuration means left out.
struct Model {
    product: Product,
    sizes: Vec<usize>,
    optional: Vec<bool>,
}

type Raw = (
    Vec<(usize, bool)>,
    Vec<(usize, u8, usize, u8)>,
    Vec<Option<usize>>,
);

fn raw() -> impl Strategy<Value = Raw> {
    (
        prop::collection::vec((2usize..=4, prop::bool::weighted(0.3)), 3..=5),
        prop::collection::vec((0usize..5, 1u8..16, 0usize..5, 0u8..16), 1..=4),
        prop::collection::vec(prop::option::weighted(0.5, 0usize..4), 5),
    )
}

fn model(opts: &[(usize, bool)], rules: &[(usize, u8, usize, u8)]) -> Model {
    let n = opts.len();
    let options = opts
        .iter()
        .enumerate()
        .map(|(i, (k, optional))| OptionDef {
            id: format!("o{i}"),
            name: format!("Option {i}"),
            aliases: Vec::new(),
            kind: OptionKind::Choice {
                values: (0..*k)
                    .map(|v| Value {
                        id: format!("v{v}"),
                        label: format!("V{v}"),
                    })
                    .collect(),
            },
            optional: *optional,
            default: None,
            span: Span::default(),
        })
        .collect();
    let set = |o: usize, mask: u8| {
        let vals = (0..opts[o].0)
            .filter(|v| mask >> v & 1 == 1)
            .map(|v| format!("v{v}"))
            .collect();
        Expr::In(format!("o{o}"), vals)
    };
    let rules = rules
        .iter()
        .enumerate()
        .filter_map(|(r, &(a, ma, b, mb))| {
            let (a, b) = (a % n, b % n);
            (a != b).then(|| Rule {
                id: format!("rule-{r}"),
                condition: set(a, ma),
                then: set(b, mb),
                message: format!("message {r}"),
                span: Span::default(),
            })
        })
        .collect();
    Model {
        product: Product {
            id: "p".into(),
            name: "P".into(),
            description: String::new(),
            currency: "EUR".into(),
            base_price: Decimal::ONE,
            ship_days: 0,
            warranty_months: 0,
            gtin: None,
            components: vec![],
            options,
            rules,
            tables: Vec::new(),
            prices: vec![],
            bom: vec![],
            operations: vec![],
            repair_operations: Vec::new(),
            assemblies: Vec::new(),
            parcel: None,
            preview: Preview::default(),
            span: Span::default(),
        },
        sizes: opts.iter().map(|o| o.0).collect(),
        optional: opts.iter().map(|o| o.1).collect(),
    }
}

type Config = Vec<Option<usize>>;

impl Model {
    fn all(&self) -> Vec<Config> {
        let mut out: Vec<Config> = vec![vec![]];
        for (i, &k) in self.sizes.iter().enumerate() {
            let mut dom: Vec<Option<usize>> = (0..k).map(Some).collect();
            if self.optional[i] {
                dom.push(None);
            }
            out = out
                .into_iter()
                .flat_map(|c| {
                    dom.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push(*v);
                        c
                    })
                })
                .collect();
        }
        out
    }
    fn map(c: &Config) -> BTreeMap<String, String> {
        c.iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (format!("o{i}"), format!("v{v}"))))
            .collect()
    }
    /// The valid configurations under a subset of the rules (by id).
    fn valid(&self, rules: Option<&[String]>) -> Vec<Config> {
        self.all()
            .into_iter()
            .filter(|c| {
                let m = Model::map(c);
                self.product
                    .rules
                    .iter()
                    .filter(|r| rules.is_none_or(|ids| ids.contains(&r.id)))
                    .all(|r| !r.condition.holds(&m) || r.then.holds(&m))
            })
            .collect()
    }
}

fn parse(pairs: &[(String, String)]) -> Vec<(usize, usize)> {
    pairs
        .iter()
        .map(|(o, v)| (o[1..].parse().unwrap(), v[1..].parse().unwrap()))
        .collect()
}

fn agrees(c: &Config, fixed: &[(usize, usize)]) -> bool {
    fixed.iter().all(|&(o, v)| c[o] == Some(v))
}

/// `fixed` has no solution under `rules`, and dropping any one selection or
/// any one rule gives one.
fn check_minimal(m: &Model, reason: &Reason, extra: &[(usize, usize)], solutions: &[Config]) {
    let fixed: Vec<(usize, usize)> = parse(&reason.selections)
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    assert!(
        !solutions.iter().any(|c| agrees(c, &fixed)),
        "not a reason: {reason:?}"
    );
    for k in 0..reason.selections.len() {
        let mut fewer = fixed.clone();
        fewer.remove(k);
        assert!(
            solutions.iter().any(|c| agrees(c, &fewer)),
            "not minimal: {reason:?}"
        );
    }
    let ids: Vec<String> = reason.rules.iter().map(|r| r.id.clone()).collect();
    assert!(
        !m.valid(Some(&ids)).iter().any(|c| agrees(c, &fixed)),
        "rules do not forbid: {reason:?}"
    );
    for k in 0..ids.len() {
        let mut fewer = ids.clone();
        fewer.remove(k);
        assert!(
            m.valid(Some(&fewer)).iter().any(|c| agrees(c, &fixed)),
            "rules not minimal: {reason:?}"
        );
    }
}

fn check(m: &Model, sel: &[(usize, usize)], o: &Outcome) {
    let solutions = m.valid(None);
    let consistent = solutions.iter().any(|c| agrees(c, sel));
    assert_eq!(o.valid, consistent);
    if !o.valid {
        let reason = o.conflict.as_ref().unwrap();
        for s in parse(&reason.selections) {
            assert!(sel.contains(&s));
        }
        check_minimal(m, reason, &[], &solutions);
        return;
    }
    // Every value available iff brute force finds a completion.
    for (i, opt) in o.options.iter().enumerate() {
        let others: Vec<(usize, usize)> = sel.iter().copied().filter(|s| s.0 != i).collect();
        for (k, v) in opt.values.iter().enumerate() {
            let exists = solutions
                .iter()
                .any(|c| c[i] == Some(k) && agrees(c, &others));
            assert_eq!(v.available, exists, "o{i}=v{k}");
            assert_eq!(v.reason.is_some(), !exists);
            if let Some(r) = &v.reason {
                for s in parse(&r.selections) {
                    assert!(others.contains(&s));
                }
                check_minimal(m, r, &[(i, k)], &solutions);
            }
        }
        let omit = m.optional[i]
            && solutions
                .iter()
                .any(|c| c[i].is_none() && agrees(c, &others));
        assert_eq!(opt.can_be_omitted, omit);
    }
    assert!(o.complete);
    let config = &o.configuration;
    for (a, b) in sel {
        assert_eq!(config[&format!("o{a}")], format!("v{b}"));
    }
    for r in &m.product.rules {
        assert!(
            !r.condition.holds(config) || r.then.holds(config),
            "{} broken",
            r.id
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn agrees_with_brute_force((opts, rules, picks) in raw()) {
        let m = model(&opts, &rules);
        let c = Configurator::new(&m.product);
        let sel: Vec<(usize, usize)> = picks
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < opts.len())
            .filter_map(|(i, p)| p.map(|v| (i, v % opts[i].0)))
            .collect();
        let selections: Selections = sel.iter().map(|&(o, v)| (format!("o{o}"), format!("v{v}"))).collect();
        let o = c.configure(&selections).unwrap();
        check(&m, &sel, &o);
        prop_assert_eq!(c.is_satisfiable(), !m.valid(None).is_empty());
    }

    #[test]
    fn sku_is_canonical_and_injective((opts, rules, _picks) in raw(), seed in any::<u64>()) {
        let m = model(&opts, &rules);
        let c = Configurator::new(&m.product);
        let mut seen: HashMap<String, Config> = HashMap::new();
        for config in m.valid(None) {
            let pairs: Vec<(String, String)> = Model::map(&config).into_iter().collect();
            // Insert in a seed-dependent order: the SKU must not care.
            let mut shuffled = pairs.clone();
            let len = shuffled.len().max(1);
            shuffled.rotate_left(seed as usize % len);
            let a = c.configure(&pairs.into_iter().collect()).unwrap();
            let b = c.configure(&shuffled.into_iter().collect()).unwrap();
            prop_assert_eq!(&a.sku, &b.sku);
            prop_assert!(a.valid && a.complete);
            prop_assert_eq!(&a.configuration, &Model::map(&config));
            let sku = a.sku.unwrap();
            if let Some(other) = seen.insert(sku.clone(), config.clone()) {
                prop_assert_eq!(Model::map(&other), Model::map(&config), "shared SKU {}", sku);
            }
        }
    }
}

/// The same model with a table that forbids nothing: it takes the table
/// engine, whose network is compiled into a decision diagram.
fn with_table(m: &Model) -> Model {
    let mut product = m.product.clone();
    product.tables.push(TableConstraint {
        id: "table-1".into(),
        scope: vec![0],
        kind: TableKind::Conflicts,
        tuples: Vec::new(),
        message: "nothing".into(),
        span: Span::default(),
    });
    Model {
        product,
        sizes: m.sizes.clone(),
        optional: m.optional.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The compiled engine: the same answers as brute force (values, minimal
    /// reasons with minimal rules, conflicts), the exact count, and the same
    /// available values whatever order the selections were made in.
    #[test]
    fn compiled_agrees_with_brute_force((opts, rules, picks) in raw(), seed in any::<u64>()) {
        let m = with_table(&model(&opts, &rules));
        let c = Configurator::new(&m.product);
        let sel: Vec<(usize, usize)> = picks
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < opts.len())
            .filter_map(|(i, p)| p.map(|v| (i, v % opts[i].0)))
            .collect();
        let selections: Selections = sel.iter().map(|&(o, v)| (format!("o{o}"), format!("v{v}"))).collect();
        let o = c.configure(&selections).unwrap();
        check(&m, &sel, &o);
        let solutions = m.valid(None);
        prop_assert_eq!(c.is_satisfiable(), !solutions.is_empty());
        prop_assert_eq!(c.count().unwrap().to_string(), solutions.len().to_string());
        // Every selection held: exactly the values of configurations that
        // agree with all of them.
        let state = c.state(&selections).unwrap();
        let available = c.available(&state);
        prop_assert_eq!(available.is_some(), solutions.iter().any(|s| agrees(s, &sel)));
        if let Some(a) = &available {
            for (i, &size) in m.sizes.iter().enumerate() {
                for k in 0..size {
                    let exists = solutions.iter().any(|s| s[i] == Some(k) && agrees(s, &sel));
                    prop_assert_eq!(a.contains(i, k), exists, "o{}=v{}", i, k);
                }
            }
        }
        // Any order: set them shuffled, with a detour through another value
        // and a clearing, and get the same state and answer.
        let mut shuffled = sel.clone();
        let len = shuffled.len().max(1);
        shuffled.rotate_left(seed as usize % len);
        let mut s2 = c.state(&Selections::new()).unwrap();
        for &(o, v) in &shuffled {
            let other = (v + 1) % m.sizes[o];
            c.set(&mut s2, &format!("o{o}"), &format!("v{other}")).unwrap();
            c.clear(&mut s2, &format!("o{o}")).unwrap();
            c.set(&mut s2, &format!("o{o}"), &format!("v{v}")).unwrap();
        }
        prop_assert_eq!(&s2, &state);
        prop_assert_eq!(c.available(&s2), available);
    }
}

/// Options (values, optional) and rules (option, mask, option, mask), as
/// [`model`] takes them.
type Tight = (Vec<(usize, bool)>, Vec<(usize, u8, usize, u8)>);

/// Small models with more, tighter rules than [`raw`]: many have no valid
/// configuration at all.
fn tight() -> impl Strategy<Value = Tight> {
    (
        prop::collection::vec((2usize..=3, prop::bool::weighted(0.2)), 2..=4),
        prop::collection::vec((0usize..4, 1u8..8, 0usize..4, 0u8..8), 2..=8),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A product with no valid configuration names a minimal unsatisfiable
    /// set of its rules (each proper subset has a configuration, checked by
    /// brute force), and exactly the required options that, were they
    /// optional, would let those rules hold; on both engines.
    #[test]
    fn a_conflict_is_a_minimal_unsatisfiable_set((opts, rules) in tight(), table in any::<bool>()) {
        let m = model(&opts, &rules);
        let m = if table { with_table(&m) } else { m };
        let c = Configurator::new(&m.product);
        let conflict = c.conflict();
        prop_assert_eq!(conflict.is_none(), !m.valid(None).is_empty());
        let Some(conflict) = conflict else { return Ok(()) };
        let ids: Vec<String> = conflict.rules.iter().map(|r| r.id.clone()).collect();
        prop_assert!(!ids.is_empty());
        prop_assert!(m.valid(Some(&ids)).is_empty(), "not a conflict: {:?}", ids);
        for k in 0..ids.len() {
            let mut fewer = ids.clone();
            fewer.remove(k);
            prop_assert!(!m.valid(Some(&fewer)).is_empty(), "not minimal: {:?}", ids);
        }
        let named: Vec<&Rule> = m.product.rules.iter().filter(|r| ids.contains(&r.id)).collect();
        for i in 0..m.sizes.len() {
            let o = format!("o{i}");
            let on = |e: &Expr| matches!(e, Expr::In(x, _) if *x == o);
            let mentioned = named.iter().any(|r| on(&r.condition) || on(&r.then));
            let mut optional = m.optional.clone();
            optional[i] = true;
            let relaxed = Model { product: m.product.clone(), sizes: m.sizes.clone(), optional };
            let rescued = !m.optional[i] && mentioned && !relaxed.valid(Some(&ids)).is_empty();
            prop_assert_eq!(conflict.required.contains(&o), rescued, "{} in {:?}", o, conflict);
        }
        // One diagnostic per named rule.
        prop_assert_eq!(kiln_configure::check_satisfiable("p.toml", &c).len(), ids.len());
    }
}
