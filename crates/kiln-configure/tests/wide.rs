//! The wide product (`fixtures/wide.toml`: 15 options of 20 values, 25
//! random rules, about 3e19 combinations) configures correctly: a valid,
//! complete first configuration, and half of it kept as selections leaves
//! every value explained that it disables. How fast is a benchmark figure,
//! not a test: `kiln bench configurator crates/kiln-configure/tests/fixtures/wide.toml
//! --random 200 --configure` (see docs/configurator.md).

use kiln_configure::{Configurator, Selections};

const WIDE: &str = include_str!("fixtures/wide.toml");

#[test]
fn the_wide_product_configures_and_explains_every_refusal() {
    let product = kiln_model::parse_product("wide.toml", WIDE).unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(product.options.len(), 15);
    assert_eq!(product.rules.len(), 25);
    let c = Configurator::new(&product);
    assert!(c.is_satisfiable());
    assert_eq!(c.count().unwrap().to_string(), "3064832102957822720");
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
    let o = c.configure(&selections).unwrap();
    assert!(o.valid);
    let unavailable: Vec<_> = o
        .options
        .iter()
        .flat_map(|opt| opt.values.iter().map(move |v| (opt, v)))
        .filter(|(_, v)| !v.available)
        .collect();
    assert!(!unavailable.is_empty());
    for (opt, v) in unavailable {
        let reason = v
            .reason
            .as_ref()
            .unwrap_or_else(|| panic!("{} {} unexplained", opt.id, v.id));
        assert!(!reason.rules.is_empty(), "{} {}: {reason:?}", opt.id, v.id);
        // The reason's selections are among the customer's.
        for (k, val) in &reason.selections {
            assert_eq!(selections.get(k), Some(val), "{} {}", opt.id, v.id);
        }
    }
}
