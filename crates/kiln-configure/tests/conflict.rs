//! A product whose rules together leave no valid configuration is reported
//! with the minimal set of conflicting rules, each at its own line and
//! column, and harmless rules are left out.

use kiln_configure::{Configurator, RuleKind, check_catalog, check_satisfiable};
use kiln_model::Span;

/// A mug with harmless rules around three that cannot all hold.
const MUG: &str = r#"[product]
id = "x"
name = "Mug"
currency = "EUR"
base_price = "10.00"

[option.size]
values = ["S", "M", "L"]

[option.color]
values = ["red", "blue", "green"]

[option.width]
kind = "number"
min = 6
max = 12

[option.engraving]
kind = "text"
max_length = 12
optional = true

[[rule]]
id = "small-blue"
if = "size = S"
then = "color = blue"

[[rule]]
id = "large-only"
then = "size = L"
message = "Only large mugs this season"

[[rule]]
id = "wide-not-small"
if = "width > 10"
then = "size in (M, L)"

[[rule]]
id = "needs-red"
if = "size = L"
then = "color = red"

[[rule]]
id = "engraved-not-green"
if = "engraving"
then = "color != green"

[[rule]]
id = "no-red-large"
if = "size = L"
then = "color != red"
message = "Large mugs are never red"
"#;

/// The `[[rule]]`/`[[table]]` header above `id = "<id>"`, as a span.
fn header(source: &str, id: &str) -> Span {
    let lines: Vec<&str> = source.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("id = \"{id}\""))
        .unwrap();
    let header = (0..at).rev().find(|&k| lines[k].starts_with("[[")).unwrap();
    Span {
        line: header as u32 + 1,
        column: 1,
    }
}

fn configurator(source: &str) -> Configurator {
    Configurator::new(&kiln_model::parse_product("x.toml", source).unwrap())
}

#[test]
fn names_exactly_the_conflicting_rules_at_their_lines() {
    let c = configurator(MUG);
    let conflict = c.conflict().expect("no valid configuration");
    let named: Vec<(&str, Span)> = conflict
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r.span))
        .collect();
    assert_eq!(
        named,
        [
            ("large-only", header(MUG, "large-only")),
            ("needs-red", header(MUG, "needs-red")),
            ("no-red-large", header(MUG, "no-red-large")),
        ]
    );
    assert!(conflict.rules.iter().all(|r| r.kind == RuleKind::Rule));
    assert!(conflict.required.is_empty(), "{:?}", conflict.required);

    let lines: Vec<String> = check_satisfiable("x.toml", &c)
        .iter()
        .map(|d| d.to_string())
        .collect();
    let at = |id| {
        let s = header(MUG, id);
        format!("x.toml:{}:{}", s.line, s.column)
    };
    assert_eq!(
        lines,
        [
            format!(
                "{}: rule `large-only` (Only large mugs this season) conflicts with rules \
                 `needs-red` and `no-red-large`: together they leave no valid configuration of `x`",
                at("large-only")
            ),
            format!(
                "{}: rule `needs-red` (when size = L: color = red) conflicts with rules \
                 `large-only` and `no-red-large`: together they leave no valid configuration of `x`",
                at("needs-red")
            ),
            format!(
                "{}: rule `no-red-large` (Large mugs are never red) conflicts with rules \
                 `large-only` and `needs-red`: together they leave no valid configuration of `x`",
                at("no-red-large")
            ),
        ]
    );
}

#[test]
fn a_satisfiable_product_has_no_conflict() {
    let fixed = MUG.replace("then = \"color != red\"", "then = \"color != blue\"");
    let c = configurator(&fixed);
    assert!(c.is_satisfiable());
    assert_eq!(c.conflict(), None);
    assert!(check_satisfiable("x.toml", &c).is_empty());
}

#[test]
fn a_required_option_left_without_a_value_is_said_plainly() {
    let source = r#"[product]
id = "x"
name = "Mug"
currency = "EUR"
base_price = "10.00"

[option.size]
values = ["S", "L"]

[option.color]
values = ["red", "blue"]

[[rule]]
id = "no-red"
then = "color != red"

[[rule]]
id = "small"
then = "size = S"

[[rule]]
id = "no-blue"
then = "color != blue"
"#;
    let c = configurator(source);
    let conflict = c.conflict().unwrap();
    let ids: Vec<&str> = conflict.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["no-red", "no-blue"]);
    assert_eq!(conflict.required, ["color"]);
    let d = check_satisfiable("x.toml", &c);
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].span, header(source, "no-red"));
    assert_eq!(
        d[0].message,
        "rule `no-red` (color != red) conflicts with rule `no-blue`: together they leave \
         the required option `color` without a value, so `x` has no valid configuration"
    );
    // Optional, the colour may be left out: then there is a configuration.
    let optional = source.replace(
        "values = [\"red\", \"blue\"]",
        "values = [\"red\", \"blue\"]\noptional = true",
    );
    assert!(configurator(&optional).conflict().is_none());
}

#[test]
fn a_rule_that_can_never_hold_is_named_alone() {
    let source = r#"[product]
id = "x"
name = "Mug"
currency = "EUR"
base_price = "10.00"

[option.width]
kind = "number"
min = 6
max = 12

[[rule]]
id = "too-wide"
then = "width > 20"
message = "At least 20 cm wide"
"#;
    let d = check_satisfiable("x.toml", &configurator(source));
    let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    let s = header(source, "too-wide");
    assert_eq!(
        lines,
        [format!(
            "x.toml:{}:{}: rule `too-wide` (At least 20 cm wide) can never hold, so `x` has no valid configuration",
            s.line, s.column
        )]
    );
}

#[test]
fn tables_are_named_with_rules() {
    let source = r#"[product]
id = "x"
name = "Mug"
currency = "EUR"
base_price = "10.00"

[option.size]
values = ["S", "M", "L"]

[option.color]
values = ["red", "blue"]

[[rule]]
id = "large-only"
then = "size = L"

[[rule]]
id = "blue-medium"
if = "color = blue"
then = "size != S"

[[table]]
id = "small-sizes"
scope = ["size"]
supports = """
S
M
"""
"#;
    let c = configurator(source);
    let conflict = c.conflict().unwrap();
    let named: Vec<(RuleKind, &str, Span)> = conflict
        .rules
        .iter()
        .map(|r| (r.kind, r.id.as_str(), r.span))
        .collect();
    assert_eq!(
        named,
        [
            (RuleKind::Rule, "large-only", header(source, "large-only")),
            (
                RuleKind::Table,
                "small-sizes",
                header(source, "small-sizes")
            ),
        ]
    );
    let messages: Vec<String> = check_satisfiable("x.toml", &c)
        .into_iter()
        .map(|d| d.message)
        .collect();
    assert_eq!(
        messages,
        [
            "rule `large-only` (size = L) conflicts with table `small-sizes`: together they leave no valid configuration of `x`",
            "table `small-sizes` conflicts with rule `large-only`: together they leave no valid configuration of `x`",
        ]
    );
}

#[test]
fn check_catalog_adds_the_conflict_to_the_model_checks() {
    let files = vec![
        (
            "ok.toml".to_string(),
            MUG.replace("id = \"x\"", "id = \"y\"")
                .replace("then = \"color != red\"", "then = \"color != blue\""),
        ),
        ("x.toml".to_string(), MUG.to_string()),
    ];
    let checked = check_catalog(&files);
    assert_eq!(checked.products.len(), 2);
    let d = &checked.report.diagnostics;
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(d.iter().all(|d| d.file == "x.toml"));
    assert_eq!(d[0].span, header(MUG, "large-only"));
}
