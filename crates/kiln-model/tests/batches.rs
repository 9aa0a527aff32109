//! `[factory] max_batch_units`: the most units one work order takes, none
//! unless the file sets it, and a bad value named at its line and column.

use kiln_model::{Diagnostic, check};

fn checked(factory: &str) -> kiln_model::CheckReport {
    check(&[("factory.toml".to_string(), factory.to_string())])
}

fn at(d: &[Diagnostic]) -> Vec<(u32, u32, String)> {
    d.iter()
        .map(|d| (d.span.line, d.span.column, d.message.clone()))
        .collect()
}

#[test]
fn a_factory_may_limit_its_batches() {
    let r = checked("[factory]\nname = \"Works\"\nmax_batch_units = 50\n");
    assert!(r.is_ok(), "{:?}", at(&r.diagnostics));
    assert_eq!(r.factory.max_batch_units, Some(50));

    let r = checked("[factory]\nname = \"Works\"\n");
    assert!(r.is_ok(), "{:?}", at(&r.diagnostics));
    assert_eq!(r.factory.max_batch_units, None, "a batch takes every line");
}

#[test]
fn a_batch_limit_is_a_whole_number_above_zero() {
    let r = checked("[factory]\nname = \"Works\"\nmax_batch_units = 0\n");
    assert_eq!(
        at(&r.diagnostics),
        vec![(3, 19, "`max_batch_units` is at least 1".to_string())]
    );
    let r = checked("[factory]\nmax_batch_units = -5\n");
    let found = at(&r.diagnostics);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (2, 19));
    assert!(found[0].2.contains("whole number"), "{found:?}");
    let r = checked("[factory]\nmax_batch_units = \"many\"\n");
    assert_eq!(at(&r.diagnostics).len(), 1, "{:?}", at(&r.diagnostics));
}
