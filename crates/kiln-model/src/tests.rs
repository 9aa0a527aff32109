//! Error positions (exact line:column) and the demo catalog.

use std::collections::BTreeMap;

use crate::*;

fn demo() -> Vec<(String, String)> {
    [
        (
            "factory.toml",
            include_str!("../../../catalog/demo/factory.toml"),
        ),
        ("mug.toml", include_str!("../../../catalog/demo/mug.toml")),
        (
            "sneaker.toml",
            include_str!("../../../catalog/demo/sneaker.toml"),
        ),
        (
            "shirt.toml",
            include_str!("../../../catalog/demo/shirt.toml"),
        ),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_owned(), s.to_owned()))
    .collect()
}

#[test]
fn demo_catalog_is_clean() {
    let r = check(&demo());
    let msgs: Vec<String> = r.diagnostics.iter().map(ToString::to_string).collect();
    assert!(msgs.is_empty(), "{}", msgs.join("\n"));
    assert_eq!(r.products.len(), 3);
    assert_eq!(r.factory.work_centers.len(), 10);
}

/// Evaluates every rule on the defaults: the starting configuration a
/// customer sees must be valid.
#[test]
fn demo_defaults_satisfy_rules() {
    let r = check(&demo());
    for p in &r.products {
        let mut cfg = BTreeMap::new();
        for o in &p.options {
            match &o.default {
                Some(d) => {
                    cfg.insert(o.id.clone(), d.clone());
                }
                None => assert!(
                    o.optional,
                    "{}: required option `{}` has no default",
                    p.id, o.id
                ),
            }
        }
        for rule in &p.rules {
            let ok = !rule.condition.holds(&cfg) || rule.then.holds(&cfg);
            assert!(ok, "{}: defaults break rule `{}`", p.id, rule.id);
        }
        assert!(p.rules.len() >= 3 && !p.prices.is_empty() && !p.bom.is_empty());
        assert!(p.preview.layers.iter().any(|l| l.svg.contains("<text")));
        for wc in ["packing", "laser"] {
            let found = p.operations.iter().any(|o| o.work_center == wc);
            assert!(found, "{} has no {wc} step", p.id);
        }
    }
}

#[test]
fn demo_model_details() {
    let r = check(&demo());
    let mug = &r.products[0];
    assert_eq!(mug.id, "mug");
    assert_eq!(
        mug.bom[0].qty,
        Quantity::ByValue {
            option: "size".into(),
            by_value: vec![
                ("S".into(), "0.30".parse().unwrap()),
                ("M".into(), "0.38".parse().unwrap()),
                ("L".into(), "0.46".parse().unwrap()),
            ],
        }
    );
    assert_eq!(
        mug.rules[1].then,
        Expr::Not(Box::new(Expr::In("size".into(), vec!["S".into()])))
    );
    assert_eq!(mug.option("glaze").unwrap().kind.values()[1].label, "Navy");
    let shirt = &r.products[2];
    assert_eq!(
        shirt.rules[2].condition,
        Expr::Cmp("chest_cm".into(), CmpOp::Gt, 120.into())
    );
    let monogram = shirt
        .prices
        .iter()
        .find(|p| p.label.starts_with("Monogram"));
    assert_eq!(monogram.unwrap().per_char_of.as_deref(), Some("monogram"));
    let volume: Vec<(u32, QuantityOf)> = shirt
        .prices
        .iter()
        .filter(|p| p.min_quantity > 1)
        .map(|p| (p.min_quantity, p.quantity_of))
        .collect();
    assert_eq!(
        volume,
        vec![(50, QuantityOf::Order), (500, QuantityOf::Order)]
    );
    let wheel = r.factory.work_center("wheel").unwrap();
    assert_eq!((wheel.machines, wheel.weekdays.len()), (3, 5));
    assert_eq!(
        r.factory.material("glaze").unwrap().on_hand,
        "18.5".parse().unwrap()
    );
}

const BASE: &str = r##"[product]
id = "mug"
name = "Mug"
currency = "EUR"
base_price = "12.00"

[option.size]
values = { S = "250 ml", M = "350 ml", L = "450 ml" }
default = "M"

[option.shape]
values = ["classic", "tall", "conical"]

[option.glaze]
kind = "color"
palette = ["#f4f1de", "#1d3557"]

[option.engraving]
kind = "text"
max_length = 20
optional = true

[option.chest]
kind = "number"
min = 80
max = 140
optional = true
"##;

const OPTIONS: &str = "options are: size, shape, glaze, engraving, chest";

/// Diagnostics for BASE plus `extra` (which starts on line 28), as
/// `line:col: message`.
fn errs(extra: &str) -> Vec<String> {
    errs_in(&format!("{BASE}{extra}"))
}

fn errs_in(src: &str) -> Vec<String> {
    match parse_product("t.toml", src) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .iter()
            .map(|d| format!("{}:{}: {}", d.span.line, d.span.column, d.message))
            .collect(),
    }
}

#[test]
fn base_is_valid() {
    let p = parse_product("t.toml", BASE).unwrap();
    assert_eq!(p.options.len(), 5);
    assert_eq!(p.option("glaze").unwrap().kind.name(), "color");
}

#[test]
fn toml_syntax_error() {
    let e = errs("[[rule]]\nthen = \"size = S\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("29:"), "{e:?}");
    assert!(e[0].contains("TOML syntax error"), "{e:?}");
    let e = errs_in("[product]\nid = = 1\n");
    assert!(e[0].starts_with("2:6: TOML syntax error"), "{e:?}");
}

#[test]
fn unknown_keys() {
    let src = BASE.replace("values = { S", "vaules = { S");
    assert_eq!(
        errs_in(&src),
        vec![
            "8:1: unknown key `vaules` in option `size` (expected one of: name, aliases, kind, optional, default, values)",
            "7:1: missing `values` in option `size`",
        ]
    );
    assert_eq!(
        errs("[[rule]]\nthen = \"chest\"\nmesage = \"x\"\n"),
        vec!["30:1: unknown key `mesage` in rule 1 (expected one of: id, if, then, message)"]
    );
    assert_eq!(
        errs("[extras]\n"),
        vec![
            "28:2: unknown key `extras` in a product file (expected one of: product, component, option, rule, table, price, bom, operation, repair_operation, preview, parcel)"
        ]
    );
    assert_eq!(
        errs_in(&BASE.replace("kind = \"text\"", "kind = \"text\"\npalette = []")),
        vec![
            "20:1: `palette` belongs to color options; option `engraving` is a text option (set `kind = \"color\"`?)"
        ]
    );
}

#[test]
fn unknown_option_in_conditions() {
    assert_eq!(
        errs("[[rule]]\nif = \"shape = tall\"\nthen = \"colour = red\"\n"),
        vec![format!("30:9: unknown option `colour` ({OPTIONS})")]
    );
    // Every bad name in one string, each at its own column.
    assert_eq!(
        errs("[[price]]\nif = \"a = S or (size = S and b)\"\nadd = 1\n"),
        vec![
            format!("29:7: unknown option `a` ({OPTIONS})"),
            format!("29:30: unknown option `b` ({OPTIONS})"),
        ]
    );
    assert_eq!(
        errs("[[bom]]\nmaterial = \"clay\"\nqty = 1\nif = \"not glaaze\"\n"),
        vec![format!("31:11: unknown option `glaaze` ({OPTIONS})")]
    );
    assert_eq!(
        errs("[[operation]]\nid = \"x\"\nwork_center = \"w\"\nminutes = 1\nif = \"engrave\"\n"),
        vec![format!("32:7: unknown option `engrave` ({OPTIONS})")]
    );
    assert_eq!(
        errs("[[preview.layer]]\nsvg = \"<g/>\"\nif = \"size in (S) or handle\"\n"),
        vec![format!("30:22: unknown option `handle` ({OPTIONS})")]
    );
}

#[test]
fn value_outside_domain() {
    assert_eq!(
        errs("[[rule]]\nthen = \"size in (S, XL)\"\n"),
        vec!["29:21: `XL` is not a value of option `size` (S, M, L)"]
    );
    assert_eq!(
        errs("[[rule]]\nthen = \"glaze != '#ffffff'\"\n"),
        vec!["29:19: `#ffffff` is not a value of option `glaze` (#f4f1de, #1d3557)"]
    );
    // Colours compare without regard to case.
    assert_eq!(
        errs("[[rule]]\nthen = \"glaze = #1D3557\"\n"),
        Vec::<String>::new()
    );
}

#[test]
fn bad_defaults() {
    let src = BASE.replace("default = \"M\"", "default = \"XL\"");
    assert_eq!(
        errs_in(&src),
        vec!["9:12: default `XL` is not a value of option `size` (S, M, L)"]
    );
    let src = BASE.replace("max = 140", "max = 140\ndefault = 200");
    assert_eq!(
        errs_in(&src),
        vec!["27:11: default 200 is outside 80..140 of option `chest`"]
    );
    let src = BASE.replace("max_length = 20", "max_length = 2\ndefault = \"abc\"");
    assert_eq!(
        errs_in(&src),
        vec!["21:11: default is 3 characters; option `engraving` allows 2"]
    );
}

#[test]
fn duplicates() {
    let src = BASE.replace(
        r#"["classic", "tall", "conical"]"#,
        r#"["classic", "tall", "classic"]"#,
    );
    assert_eq!(
        errs_in(&src),
        vec!["12:31: duplicate value `classic` (first at line 12, column 12)"]
    );
    let ops = "[[operation]]\nid = \"throw\"\nwork_center = \"w\"\nminutes = 1\n";
    assert_eq!(
        errs(&format!("{ops}{ops}")),
        vec!["33:7: duplicate operation id `throw` (first at line 29, column 7)"]
    );
    assert_eq!(
        errs("[[rule]]\nid = \"r\"\nthen = \"chest\"\n[[rule]]\nid = \"r\"\nthen = \"chest\"\n"),
        vec!["32:7: duplicate rule id `r` (first at line 29, column 7)"]
    );
    // Two `[option.size]` tables are a TOML error.
    let e = errs("[option.size]\nvalues = [\"a\"]\n");
    assert!(
        e[0].starts_with("28:") && e[0].contains("TOML syntax error"),
        "{e:?}"
    );
}

#[test]
fn quantity_maps() {
    assert_eq!(
        errs("[[bom]]\nmaterial = \"clay\"\nqty = { S = 1, M = 2, XL = 3 }\nby = \"size\"\n"),
        vec![
            "30:23: `XL` is not a value of option `size` (S, M, L)",
            "30:7: `qty` has no entry for `L` of option `size` (S, M, L)",
        ]
    );
    assert_eq!(
        errs("[[bom]]\nmaterial = \"clay\"\nqty = { S = 1, M = 2 }\n"),
        vec!["30:7: `qty` has no entry for `L` of option `size` (S, M, L)"]
    );
    assert_eq!(
        errs("[[bom]]\nmaterial = \"clay\"\nqty = { S = 1, tall = 2 }\n"),
        vec![
            "30:7: the keys of `qty` are not the values of any one option; name the option with `by`"
        ]
    );
    assert_eq!(
        errs(
            "[[operation]]\nid = \"t\"\nwork_center = \"w\"\nminutes = { a = 1 }\nby = \"engraving\"\n"
        ),
        vec!["32:7: `by` needs a choice or color option; `engraving` is a text option"]
    );
    let p = parse_product(
        "t.toml",
        &format!("{BASE}[[operation]]\nid = \"t\"\nwork_center = \"w\"\nminutes = {{ tall = 8, classic = 6, conical = 7 }}\n"),
    )
    .unwrap();
    // Stored in the option's value order, not the file's.
    let Quantity::ByValue { option, by_value } = &p.operations[0].minutes else {
        panic!()
    };
    assert_eq!(option, "shape");
    assert_eq!(by_value[0], ("classic".into(), 6.into()));
}

#[test]
fn operators_on_wrong_kinds() {
    assert_eq!(
        errs("[[rule]]\nthen = \"size < 3\"\n"),
        vec!["29:14: `<` needs a number option; `size` is a choice option"]
    );
    assert_eq!(
        errs("[[rule]]\nthen = \"chest = 100\"\n"),
        vec!["29:15: `=` does not apply to number option `chest`; compare it with <, <=, > or >="]
    );
    assert_eq!(
        errs("[[rule]]\nthen = \"engraving in (a)\"\n"),
        vec![
            "29:19: `in` does not apply to text option `engraving`; test whether it is set with `engraving` or `not engraving`"
        ]
    );
    assert_eq!(
        errs("[[rule]]\nthen = \"chest >= big\"\n"),
        vec!["29:18: `big` is not a number"]
    );
}

#[test]
fn bad_decimals() {
    let src = BASE.replace("\"12.00\"", "\"12,00\"");
    assert_eq!(
        errs_in(&src),
        vec!["5:15: `12,00` is not a decimal number (`base_price`)"]
    );
    assert_eq!(
        errs("[[price]]\nadd = true\n"),
        vec!["29:7: `add` must be a decimal number, found a boolean"]
    );
    assert_eq!(
        errs("[[bom]]\nmaterial = \"clay\"\nqty = -1\n"),
        vec!["30:7: `qty` must not be negative"]
    );
}

#[test]
fn empty_values_and_palette() {
    let src = BASE.replace(r#"["classic", "tall", "conical"]"#, "[]");
    assert_eq!(errs_in(&src), vec!["12:10: option `shape` has no values"]);
    let src = BASE.replace(
        r##"["#f4f1de", "#1d3557"]"##,
        r##"["#f4f1de", "navy", "#12345"]"##,
    );
    assert_eq!(
        errs_in(&src),
        vec![
            "16:24: palette entry `navy` is not a `#rrggbb` colour",
            "16:32: palette entry `#12345` is not a `#rrggbb` colour",
        ]
    );
}

#[test]
fn condition_syntax_errors() {
    assert_eq!(
        errs("[[rule]]\nthen = \"size = \"\n"),
        vec!["29:16: expected a value, found the end of the condition"]
    );
    assert_eq!(
        errs("[[rule]]\nthen = \"(size = S\"\n"),
        vec!["29:9: unclosed `(`"]
    );
    assert_eq!(
        errs("[[rule]]\nthen = \"size = S shape = tall\"\n"),
        vec!["29:18: unexpected `shape` (conditions join with `and` and `or`)"]
    );
    // Positions hold inside a multi-line literal string too.
    assert_eq!(
        errs("[[rule]]\nthen = '''\nsize = S and\n  nope'''\n"),
        vec![format!("31:3: unknown option `nope` ({OPTIONS})")]
    );
}

#[test]
fn preview_placeholders() {
    assert_eq!(
        errs("[[preview.layer]]\nsvg = '<text fill=\"{glaze}\">{monogram}</text>'\n"),
        vec![format!(
            "29:30: unknown option `monogram` in placeholder ({OPTIONS})"
        )]
    );
    // CSS blocks are not placeholders.
    assert_eq!(
        errs("[[preview.layer]]\nsvg = '<style>.a { fill: red }</style>'\n"),
        Vec::<String>::new()
    );
}

#[test]
fn preview_scale() {
    let ok = "[preview.scale]\nfactor = { S = 0.8, M = 1, L = 1.2 }\norigin = [100, 172]\n\n[[preview.layer]]\nscale = false\nsvg = '<rect/>'\n";
    let p = parse_product("t.toml", &format!("{BASE}{ok}")).unwrap();
    let scale = p.preview.scale.expect("a scale");
    let d = rust_decimal::Decimal::from;
    assert_eq!(scale.origin, (d(100), d(172)));
    assert!(matches!(&scale.factor, Quantity::ByValue { option, .. } if option == "size"));
    assert!(!p.preview.layers[0].scaled);
    assert_eq!(
        errs("[preview.scale]\nfactor = { S = 0, M = 1, L = 9 }\n"),
        vec!["29:10: every `factor` is above 0 and at most 5"]
    );
    assert_eq!(
        errs("[preview.scale]\nfactor = { S = 1, M = 1, XL = 2 }\n"),
        vec![
            "29:10: the keys of `factor` are not the values of any one option; name the option with `by`"
        ]
    );
    assert_eq!(
        errs("[preview.scale]\nby = \"size\"\nfactor = { S = 1, M = 1, L = 1 }\norigin = [1]\n"),
        vec!["31:10: `origin` is two numbers, `[x, y]`"]
    );
    assert_eq!(
        errs("[preview.scale]\norigin = [1, 2]\n"),
        vec!["28:1: missing `factor` in [preview.scale]"]
    );
}

#[test]
fn missing_fields_and_types() {
    assert_eq!(
        errs_in("[product]\nid = \"x\"\n"),
        vec![
            "1:1: missing `name` in [product]",
            "1:1: missing `currency` in [product]",
            "1:1: missing `base_price` in [product]",
        ]
    );
    assert_eq!(errs_in(""), vec!["1:1: missing `[product]` table"]);
    let src = BASE.replace("\"12.00\"", "\"12.00\"\nship_days = 1979-05-27");
    assert_eq!(
        errs_in(&src),
        vec!["6:13: `ship_days` must be a whole number, found a date"]
    );
    assert_eq!(
        errs("[[price]]\nadd = 1\nper_char_of = \"size\"\n"),
        vec!["30:16: `per_char_of` needs a text option; `size` is a choice option"]
    );
    assert_eq!(
        errs_in(&BASE.replace("kind = \"number\"", "kind = \"numeric\"")),
        vec!["24:9: unknown option kind `numeric` (kinds are: choice, color, text, number)"]
    );
}

const FACTORY: &str = r#"[factory]
name = "Works"

[work_center.wheel]
machines = 2

[material.clay]
unit = "kg"
on_hand = 10
"#;

fn files(product_extra: &str, with_factory: bool) -> Vec<(String, String)> {
    let mut v = vec![("mug.toml".to_owned(), format!("{BASE}{product_extra}"))];
    if with_factory {
        v.push(("factory.toml".to_owned(), FACTORY.to_owned()));
    }
    v
}

#[test]
fn cross_file_references() {
    let extra = "[[bom]]\nmaterial = \"clay\"\nqty = 1\n[[operation]]\nid = \"t\"\nwork_center = \"kiln2\"\nminutes = 1\n";
    let r = check(&files(extra, true));
    let msgs: Vec<String> = r.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec!["mug.toml:33:16: unknown work centre `kiln2` (work centres are: wheel)"]
    );
    assert_eq!(r.products.len(), 1);
    let r = check(&files(extra, false));
    let msgs: Vec<String> = r.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec![
            "mug.toml:29:13: unknown material `clay` (no factory file was given)",
            "mug.toml:33:16: unknown work centre `kiln2` (no factory file was given)",
        ]
    );
    let p = &r.products[0];
    let d = resolve(p, &parse_factory("f.toml", FACTORY).unwrap());
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].span,
        Span {
            line: 31,
            column: 1
        }
    );
}

#[test]
fn sales_terms() {
    let src = "[factory]\n[sales]\ntax_rate = 20\nshipping = \"4.90\"\nfree_shipping_from = 50\n";
    let f = parse_factory("f.toml", src).unwrap();
    let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    assert_eq!(f.sales.tax_name, "VAT");
    assert_eq!(f.sales.shipping_for(d("49.99"), false), d("4.90"));
    assert_eq!(f.sales.shipping_for(d("50"), false), d("0"));
    assert_eq!(f.sales.shipping_for(d("10"), true), d("0"));
    assert_eq!(f.sales.tax_in(d("120")), d("20"));
    assert_eq!(f.sales.tax_in(d("10.00")), d("1.67"));
    let src = "[factory]\n[sales]\ntax_rate = 100\nshipping = -1\ntax_name = \"\"\nfree = 1\n";
    let errs: Vec<String> = parse_factory("f.toml", src)
        .unwrap_err()
        .iter()
        .map(|d| format!("{}:{}: {}", d.span.line, d.span.column, d.message))
        .collect();
    assert_eq!(
        errs,
        vec![
            "6:1: unknown key `free` in [sales] (expected one of: tax_name, tax_rate, shipping, free_shipping_from)",
            "5:12: `tax_name` is 1 to 40 characters",
            "3:12: `tax_rate` is a percentage below 100",
            "4:12: `shipping` must not be negative",
        ]
    );
}

#[test]
fn factory_errors() {
    let src = "[factory]\nname = \"W\"\n[work_center.a]\nmachines = 0\nweekdays = [1, 8]\n[material.m]\nunit_cost = \"x\"\n";
    let d: Vec<String> = parse_factory("f.toml", src)
        .unwrap_err()
        .iter()
        .map(|d| format!("{}:{}: {}", d.span.line, d.span.column, d.message))
        .collect();
    assert_eq!(
        d,
        vec![
            "4:12: `machines` must be at least 1",
            "5:16: a weekday is a number from 1 (Monday) to 7 (Sunday)",
            "6:1: missing `unit` in material `m`",
            "7:14: `x` is not a decimal number (`unit_cost`)",
        ]
    );
    let a = ("a.toml".to_owned(), FACTORY.to_owned());
    let b = ("b.toml".to_owned(), "[work_center.wheel]\n".to_owned());
    let r = check(&[a, b]);
    assert_eq!(
        r.diagnostics[0].to_string(),
        "b.toml:1:1: duplicate work centre `wheel` (first in a.toml at line 4, column 1)"
    );
    let r = check(&[("x.toml".to_owned(), "a = 1\n".to_owned())]);
    assert!(
        r.diagnostics[0]
            .message
            .starts_with("neither a product file")
    );
}

#[test]
fn text_characters_are_checked_where_written() {
    let ok = "[option.monogram]\nkind = \"text\"\nmax_length = 3\ncharacters = \"A-Z\"\n";
    assert_eq!(errs(ok), Vec::<String>::new());
    let backwards = "[option.monogram]\nkind = \"text\"\nmax_length = 3\ncharacters = \"Z-A\"\n";
    assert_eq!(
        errs(backwards),
        ["31:14: `characters` has the range Z-A, which runs backwards"]
    );
    let default = "[option.monogram]\nkind = \"text\"\nmax_length = 3\ncharacters = \"A-Z\"\ndefault = \"Ab\"\n";
    assert_eq!(
        errs(default),
        ["32:11: the default cannot hold character 2, “b”"]
    );
    let invisible = "[option.monogram]\nkind = \"text\"\nmax_length = 3\ndefault = \"A\\u202E\"\n";
    assert_eq!(
        errs(invisible),
        ["31:11: the default cannot hold character 2, U+202E (invisible)"]
    );
}

#[test]
fn gtin_is_checked_where_written() {
    let with = |g: &str| BASE.replacen("base_price", &format!("gtin = \"{g}\"\nbase_price"), 1);
    let p = parse_product("t.toml", &with("9506000134352")).unwrap();
    assert_eq!(p.gtin.as_deref(), Some("09506000134352"));
    assert_eq!(parse_product("t.toml", BASE).unwrap().gtin, None);
    let line = BASE[..BASE.find("base_price").unwrap()].lines().count() + 1;
    assert_eq!(
        errs_in(&with("09506000134353")),
        vec![format!(
            "{line}:9: GTIN `09506000134353` has check digit 3 where 2 is right"
        )]
    );
    assert_eq!(
        errs_in(&with("12-34")),
        vec![format!(
            "{line}:9: GTIN `12-34` must be digits only (8, 12, 13 or 14 of them)"
        )]
    );
}

#[test]
fn quantity_breaks_parse_and_are_checked_where_written() {
    let tier = |extra: &str| {
        errs(&format!(
            "[[price]]\nlabel = \"Volume\"\nadd = \"-1.00\"\n{extra}"
        ))
    };
    let p = parse_product(
        "t.toml",
        &format!("{BASE}[[price]]\nlabel = \"Volume\"\nadd = \"-1.00\"\nmin_quantity = 50\nquantity_of = \"order\"\n"),
    )
    .unwrap();
    let rule = p.prices.last().unwrap();
    assert_eq!(
        (rule.min_quantity, rule.quantity_of),
        (50, QuantityOf::Order)
    );
    assert_eq!(
        tier("min_quantity = 0\n"),
        vec!["31:16: `min_quantity` is at least 1"]
    );
    assert_eq!(
        tier("min_quantity = 5\nquantity_of = \"basket\"\n"),
        vec!["32:16: `quantity_of` is \"line\" or \"order\", not `basket`"]
    );
    assert_eq!(
        tier("quantity_of = \"line\"\n"),
        vec!["31:15: `quantity_of` needs a `min_quantity`: the units from which the price holds"]
    );
}
