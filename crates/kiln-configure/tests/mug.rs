//! The engine on a small mug model built in code.

use std::collections::BTreeMap;

use kiln_configure::{Configurator, Outcome, RuleRef, SelectionError, Selections};
use kiln_model::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn choice(id: &str, kind: &str, values: &[(&str, &str)], default: Option<&str>) -> OptionDef {
    let values = values
        .iter()
        .map(|(id, label)| Value {
            id: id.to_string(),
            label: label.to_string(),
        })
        .collect();
    OptionDef {
        id: id.into(),
        name: id.to_uppercase(),
        aliases: Vec::new(),
        kind: if kind == "color" {
            OptionKind::Color { values }
        } else {
            OptionKind::Choice { values }
        },
        optional: false,
        default: default.map(String::from),
        span: Span::default(),
    }
}

fn is(o: &str, vals: &[&str]) -> Expr {
    Expr::In(o.into(), vals.iter().map(|v| v.to_string()).collect())
}

fn rule(n: u32, condition: Expr, then: Expr, message: &str) -> Rule {
    Rule {
        id: format!("rule-{n}"),
        condition,
        then,
        message: message.into(),
        span: Span::default(),
    }
}

fn mug() -> Product {
    let engraving = OptionDef {
        id: "engraving".into(),
        name: "Engraving".into(),
        aliases: Vec::new(),
        kind: OptionKind::Text {
            max_length: 20,
            characters: None,
        },
        optional: true,
        default: None,
        span: Span::default(),
    };
    let height = OptionDef {
        id: "height".into(),
        name: "Height".into(),
        aliases: Vec::new(),
        kind: OptionKind::Number {
            min: d("8"),
            max: d("16"),
            unit: "cm".into(),
        },
        optional: false,
        default: Some("10".into()),
        span: Span::default(),
    };
    Product {
        id: "mug".into(),
        name: "Ceramic mug".into(),
        description: String::new(),
        currency: "EUR".into(),
        base_price: d("12.00"),
        ship_days: 3,
        warranty_months: 0,
        gtin: None,
        components: vec![Component {
            id: "handle".into(),
            name: "Handle".into(),
            span: Span::default(),
        }],
        options: vec![
            choice(
                "size",
                "choice",
                &[("S", "250 ml"), ("M", "350 ml"), ("L", "450 ml")],
                Some("M"),
            ),
            choice(
                "shape",
                "choice",
                &[
                    ("classic", "Classic"),
                    ("tall", "Tall"),
                    ("conical", "Conical"),
                ],
                Some("classic"),
            ),
            choice(
                "glaze",
                "color",
                &[
                    ("#f4f1de", "Cream"),
                    ("#1d3557", "Navy"),
                    ("#e63946", "Red"),
                    ("#000000", "Black"),
                ],
                None,
            ),
            engraving,
            height,
        ],
        rules: vec![
            rule(
                1,
                is("shape", &["conical"]),
                Expr::Not(Box::new(is("size", &["L"]))),
                "Conical mugs come in S and M",
            ),
            rule(
                2,
                is("shape", &["tall"]),
                Expr::Cmp("height".into(), CmpOp::Ge, d("12")),
                "Tall mugs are at least 12 cm",
            ),
            rule(
                3,
                is("glaze", &["#e63946"]),
                Expr::Not(Box::new(Expr::Set("engraving".into()))),
                "Red glaze cannot be engraved",
            ),
            rule(
                4,
                is("size", &["S"]),
                Expr::Cmp("height".into(), CmpOp::Lt, d("12")),
                "Small mugs are under 12 cm",
            ),
            rule(
                5,
                Expr::always(),
                Expr::Not(Box::new(is("glaze", &["#000000"]))),
                "Black glaze is out of stock",
            ),
        ],
        tables: Vec::new(),
        prices: vec![
            PriceRule {
                label: "Large".into(),
                condition: is("size", &["L"]),
                add: d("3.00"),
                per_char_of: None,
                min_quantity: 1,
                quantity_of: Default::default(),
                span: Span::default(),
            },
            PriceRule {
                label: "Engraving".into(),
                condition: Expr::Set("engraving".into()),
                add: d("0.50"),
                per_char_of: Some("engraving".into()),
                min_quantity: 1,
                quantity_of: Default::default(),
                span: Span::default(),
            },
        ],
        bom: vec![
            BomLine {
                material: "stoneware-clay".into(),
                qty: Quantity::ByValue {
                    option: "size".into(),
                    by_value: vec![
                        ("S".into(), d("0.30")),
                        ("M".into(), d("0.38")),
                        ("L".into(), d("0.46")),
                    ],
                },
                condition: Expr::always(),
                span: Span::default(),
            },
            BomLine {
                material: "glaze".into(),
                qty: Quantity::Fixed(d("0.05")),
                condition: Expr::always(),
                span: Span::default(),
            },
        ],
        operations: vec![
            Operation {
                id: "throw".into(),
                name: "Throw".into(),
                work_center: "wheel".into(),
                minutes: Quantity::Fixed(d("6")),
                setup_minutes: d("10"),
                condition: Expr::always(),
                span: Span::default(),
            },
            Operation {
                id: "engrave".into(),
                name: "Engrave".into(),
                work_center: "laser".into(),
                minutes: Quantity::Fixed(d("2")),
                setup_minutes: d("5"),
                condition: Expr::Set("engraving".into()),
                span: Span::default(),
            },
        ],
        repair_operations: Vec::new(),
        assemblies: Vec::new(),
        parcel: None,
        preview: Preview {
            view_box: "0 0 200 200".into(),
            layers: vec![
                PreviewLayer {
                    fit: None,
                    scaled: true,
                    svg: r#"<rect fill="{glaze}"/>"#.into(),
                    condition: Expr::always(),
                    span: Span::default(),
                },
                PreviewLayer {
                    fit: None,
                    scaled: true,
                    svg: "<text>{engraving}</text>".into(),
                    condition: Expr::Set("engraving".into()),
                    span: Span::default(),
                },
            ],
            scale: None,
        },
        span: Span::default(),
    }
}

fn sel(pairs: &[(&str, &str)]) -> Selections {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn run(pairs: &[(&str, &str)]) -> Outcome {
    Configurator::new(&mug()).configure(&sel(pairs)).unwrap()
}

fn value<'a>(o: &'a Outcome, option: &str, value: &str) -> &'a kiln_configure::ValueState {
    let opt = o.options.iter().find(|x| x.id == option).unwrap();
    opt.values.iter().find(|v| v.id == value).unwrap()
}

fn rules(ids: &[(&str, &str)]) -> Vec<RuleRef> {
    ids.iter()
        .map(|(id, m)| RuleRef {
            id: id.to_string(),
            message: m.to_string(),
        })
        .collect()
}

#[test]
fn defaults_complete_the_configuration() {
    let o = run(&[]);
    assert!(o.valid && o.complete);
    let expected: BTreeMap<String, String> = sel(&[
        ("size", "M"),
        ("shape", "classic"),
        ("glaze", "#f4f1de"),
        ("height", "10"),
    ]);
    assert_eq!(o.configuration, expected);
    assert_eq!(o.sku.as_deref(), Some("MUG-M-CLASSIC-F4F1DE-H10"));
    let price = o.price.unwrap();
    assert_eq!(price.total, d("12.00"));
    assert!(price.lines.is_empty());
    assert_eq!(o.bom.len(), 2);
    assert_eq!(o.bom[0].qty, d("0.38"));
    assert_eq!(o.routing.len(), 1);
    assert_eq!(
        o.preview_svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200"><rect fill="#f4f1de"/></svg>"##
    );
    let engraving = o.options.iter().find(|x| x.id == "engraving").unwrap();
    assert!(engraving.can_be_omitted && engraving.values.is_empty());
    assert_eq!(engraving.max_length, Some(20));
}

#[test]
fn selected_value_blocks_others_with_a_reason() {
    let o = run(&[("shape", "conical")]);
    assert!(o.valid);
    let l = value(&o, "size", "L");
    assert!(!l.available);
    let r = l.reason.as_ref().unwrap();
    assert_eq!(r.selections, vec![("shape".into(), "conical".into())]);
    assert_eq!(
        r.rules,
        rules(&[("rule-1", "Conical mugs come in S and M")])
    );
    // The selected option's own values are judged against the other selections.
    assert!(value(&o, "shape", "tall").available);
    assert!(value(&o, "size", "S").available && value(&o, "size", "M").available);
}

#[test]
fn reasons_chain_through_numbers() {
    let o = run(&[("size", "S")]);
    let tall = value(&o, "shape", "tall");
    assert!(!tall.available);
    let r = tall.reason.as_ref().unwrap();
    assert_eq!(r.selections, vec![("size".into(), "S".into())]);
    let ids: Vec<&str> = r.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["rule-2", "rule-4"]);
    // Small mug: the default height 10 still fits.
    assert_eq!(o.configuration["height"], "10");
    // Tall: the default 10 no longer fits, so the first valid interval is used.
    let o = run(&[("shape", "tall")]);
    assert!(o.complete);
    assert_eq!(o.configuration["height"], "12");
}

#[test]
fn impossible_values_have_rule_only_reasons() {
    let o = run(&[("size", "L")]);
    let black = value(&o, "glaze", "#000000");
    assert!(!black.available);
    let r = black.reason.as_ref().unwrap();
    assert!(r.selections.is_empty());
    assert_eq!(r.rules, rules(&[("rule-5", "Black glaze is out of stock")]));
    assert!(Configurator::new(&mug()).is_satisfiable());
}

#[test]
fn conflicting_selections() {
    let o = run(&[("size", "L"), ("shape", "conical"), ("glaze", "#1d3557")]);
    assert!(!o.valid && !o.complete);
    let c = o.conflict.clone().unwrap();
    assert_eq!(
        c.selections,
        vec![
            ("size".into(), "L".into()),
            ("shape".into(), "conical".into())
        ]
    );
    assert_eq!(
        c.rules,
        rules(&[("rule-1", "Conical mugs come in S and M")])
    );
    assert!(o.sku.is_none() && o.price.is_none() && o.bom.is_empty() && o.routing.is_empty());
    // Domains are judged against the selections minus the conflict.
    assert!(value(&o, "size", "L").available);
    assert!(!value(&o, "glaze", "#000000").available);
    assert!(o.preview_svg.contains("#1d3557"));
}

#[test]
fn engraving_prices_routes_and_previews() {
    let o = run(&[("engraving", "Hi <Bob>")]);
    assert!(o.valid && o.complete);
    let price = o.price.clone().unwrap();
    assert_eq!(price.lines.len(), 1);
    assert_eq!(price.lines[0].amount, d("4.00"));
    assert_eq!(price.total, d("16.00"));
    assert!(o.routing.iter().any(|s| s.operation == "engrave"));
    assert!(o.preview_svg.contains("<text>Hi &lt;Bob&gt;</text>"));
    let sku = o.sku.clone().unwrap();
    assert!(sku.starts_with("MUG-M-CLASSIC-F4F1DE-E_"), "{sku}");
    assert!(sku.ends_with("-H10"));
    let red = value(&o, "glaze", "#e63946");
    assert!(!red.available);
    assert_eq!(
        red.reason.as_ref().unwrap().selections,
        vec![("engraving".into(), "Hi <Bob>".into())]
    );
    // Red forbids engraving: leaving it out stays possible, and is forced.
    let o = run(&[("glaze", "#E63946")]);
    assert_eq!(o.configuration["glaze"], "#e63946");
    let engraving = o.options.iter().find(|x| x.id == "engraving").unwrap();
    assert!(engraving.can_be_omitted);
}

#[test]
fn selection_errors_name_the_option() {
    let c = Configurator::new(&mug());
    let err = |pairs: &[(&str, &str)]| c.configure(&sel(pairs)).unwrap_err();
    assert_eq!(
        err(&[("colour", "x")]),
        SelectionError::UnknownOption {
            option: "colour".into()
        }
    );
    let e = err(&[("size", "XL")]);
    assert_eq!(e.option(), "size");
    assert!(matches!(e, SelectionError::UnknownValue { ref allowed, .. } if allowed.len() == 3));
    assert_eq!(
        err(&[("engraving", "this is far too long for a mug")]),
        SelectionError::TextTooLong {
            option: "engraving".into(),
            max_length: 20
        }
    );
    assert!(matches!(
        err(&[("height", "tall")]),
        SelectionError::NotANumber { .. }
    ));
    assert!(matches!(
        err(&[("height", "17")]),
        SelectionError::OutOfRange { .. }
    ));
}

#[test]
fn numbers_map_to_intervals() {
    let o = run(&[("height", "11.99"), ("shape", "tall")]);
    assert!(!o.valid);
    let o = run(&[("height", "12.0"), ("shape", "tall")]);
    assert!(o.valid && o.complete);
    assert_eq!(o.configuration["height"], "12");
    assert_eq!(o.sku.as_deref(), Some("MUG-M-TALL-F4F1DE-H12"));
    let o = run(&[("height", "12"), ("size", "S")]);
    assert!(!o.valid);
    let o = run(&[("height", "13.5")]);
    assert!(!value(&o, "size", "S").available);
}

#[test]
fn sku_is_canonical_and_distinguishes_configurations() {
    let a = run(&[("size", "L"), ("engraving", "Ann"), ("glaze", "#1d3557")]);
    let b = run(&[("glaze", "#1D3557"), ("engraving", "Ann"), ("size", "L")]);
    assert_eq!(a.sku, b.sku);
    // Selecting the completed configuration explicitly changes nothing.
    let c = Configurator::new(&mug())
        .configure(&a.configuration)
        .unwrap();
    assert_eq!(a.sku, c.sku);
    let d = run(&[("size", "L"), ("engraving", "Bob"), ("glaze", "#1d3557")]);
    assert_ne!(a.sku, d.sku);
}

#[test]
fn unsatisfiable_product() {
    let mut p = mug();
    p.rules.push(rule(
        6,
        Expr::always(),
        is("size", &["XL"]),
        "Only XL exists",
    ));
    let c = Configurator::new(&p);
    assert!(!c.is_satisfiable());
    let o = c.configure(&Selections::new()).unwrap();
    assert!(!o.valid);
    assert!(o.conflict.unwrap().selections.is_empty());
    assert!(
        o.options
            .iter()
            .flat_map(|o| &o.values)
            .all(|v| !v.available && v.reason.is_some())
    );
}

#[test]
fn outcome_serializes_money_as_strings() {
    let o = run(&[("size", "L")]);
    let json = serde_json::to_string(&o).unwrap();
    assert!(json.contains(r#""total":"15.00""#), "{json}");
}

#[test]
fn unexplained_outcome_differs_only_in_reasons() {
    let c = Configurator::new(&mug());
    for pairs in [
        &[][..],
        &[("shape", "conical")][..],
        &[("size", "L"), ("shape", "conical")][..],
    ] {
        let full = c.configure(&sel(pairs)).unwrap();
        let mut light = c.configure_unexplained(&sel(pairs)).unwrap();
        assert!(
            light
                .options
                .iter()
                .flat_map(|o| &o.values)
                .all(|v| v.reason.is_none())
        );
        // Put the reasons back: everything else must be the same.
        for (o, f) in light.options.iter_mut().zip(&full.options) {
            for (v, fv) in o.values.iter_mut().zip(&f.values) {
                v.reason = fv.reason.clone();
            }
        }
        assert_eq!(format!("{light:?}"), format!("{full:?}"));
    }
}
