use super::*;

const FACTORY: &str = r#"[factory]
name = "Works"

[work_center.wheel]
machines = 2

[work_center.kiln]
minutes_per_day = 1200

[material.clay]
unit = "kg"
unit_cost = "1.20"

[material.box]
unit = "pcs"
"#;

const MUG: &str = r##"[product]
id = "mug"
name = "Mug"
currency = "EUR"
base_price = "10.00"
ship_days = 2

[option.size]
values = { S = "small", M = "medium", L = "large" }
default = "M"

[option.glaze]
kind = "color"
palette = ["#ffffff", "#000000"]
default = "#ffffff"

[option.engraving]
kind = "text"
max_length = 10
optional = true

[[rule]]
if = "size = S"
then = "glaze = #ffffff"

[[rule]]
id = "no-engraving-small"
if = "engraving"
then = "size != S"

[[price]]
if = "size = L"
add = "3.00"

[[price]]
if = "engraving"
add = "0.50"
per_char_of = "engraving"

[[bom]]
material = "clay"
qty = { S = 0.30, M = 0.38, L = 0.46 }

[[bom]]
material = "box"
qty = 1

[[operation]]
id = "throw"
work_center = "wheel"
minutes = 6

[[operation]]
id = "fire"
work_center = "kiln"
minutes = { S = 2, M = 3, L = 4 }
setup_minutes = 30
"##;

const CUP: &str = "[product]\nid = \"cup\"\nname = \"Cup\"\ncurrency = \"EUR\"\nbase_price = 5\n";

fn catalog(files: &[(&str, &str)]) -> CheckReport {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    let r = crate::check(&files);
    assert!(r.is_ok(), "{:?}", r.diagnostics);
    r
}

/// The changes from the base catalog, one line each.
fn changes(mug: &str, factory: &str) -> Vec<String> {
    let old = catalog(&[("factory.toml", FACTORY), ("mug.toml", MUG)]);
    let new = catalog(&[("factory.toml", factory), ("mug.toml", mug)]);
    let line = |c: Change| {
        let p = c.product.unwrap_or_else(|| "-".into());
        format!("{:?} {:?} {p} {}: {}", c.change, c.subject, c.id, c.detail)
    };
    diff(&old, &new).changes.into_iter().map(line).collect()
}

fn edit(source: &str, from: &str, to: &str) -> String {
    assert!(source.contains(from), "{from}");
    source.replacen(from, to, 1)
}

/// The blocks of a file in reverse order, operations kept in order.
fn reversed(source: &str) -> String {
    let blocks = source.trim_end().split("\n\n");
    let (ops, mut rest): (Vec<&str>, Vec<&str>) =
        blocks.partition(|b| b.starts_with("[[operation]]"));
    rest.reverse();
    rest.extend(ops);
    rest.join("\n\n# moved\n")
}

const NONE: [&str; 0] = [];

#[test]
fn identical_catalogs_have_no_changes() {
    assert_eq!(changes(MUG, FACTORY), NONE);
    let demo = crate::check(&demo());
    assert!(diff(&demo, &demo).is_empty());
}

#[test]
fn reordering_is_not_a_change() {
    let mug = edit(
        &reversed(MUG),
        "S = 0.30, M = 0.38, L = 0.46",
        "L = 0.46, S = 0.3, M = 0.38",
    );
    let mug = edit(&mug, "\"3.00\"", "3");
    // The rule without an id is now `rule-2`: matched by its content.
    let new = catalog(&[("f.toml", FACTORY), ("m.toml", &mug)]);
    assert_eq!(new.products[0].rules[1].id, "rule-2");
    assert_eq!(changes(&mug, &reversed(FACTORY)), NONE);
}

#[test]
fn base_price_changed() {
    let mug = edit(MUG, "base_price = \"10.00\"", "base_price = \"15.00\"");
    let want = "Changed Product mug mug: base price 10.00 → 15.00";
    assert_eq!(changes(&mug, FACTORY), [want]);
}

#[test]
fn value_added() {
    // Every quantity map by size must cover XL too.
    let mug = edit(MUG, "L = \"large\" }", "L = \"large\", XL = \"huge\" }");
    let mug = edit(&mug, "L = 0.46 }", "L = 0.46, XL = 0.5 }");
    let mug = edit(&mug, "L = 4 }", "L = 4, XL = 5 }");
    let want = [
        "Added Value mug size.XL: option `size` gained value `XL`",
        "Changed BomLine mug clay: BOM line `clay` qty XL 0.5 (new)",
        "Changed Operation mug fire: operation `fire` minutes XL 5 (new)",
    ];
    assert_eq!(changes(&mug, FACTORY), want);
}

#[test]
fn option_removed() {
    let mug: Vec<&str> = MUG
        .split("\n\n")
        .filter(|b| !b.contains("engraving"))
        .collect();
    let want = [
        "Removed Option mug engraving: option `engraving` removed",
        "Removed Rule mug no-engraving-small: rule `no-engraving-small` removed",
        "Removed Price mug engraving per char of engraving: \
         price `engraving per char of engraving` removed",
    ];
    assert_eq!(changes(&mug.join("\n\n"), FACTORY), want);
}

#[test]
fn rule_added() {
    let mug = format!("{MUG}\n[[rule]]\nif = \"size = L\"\nthen = \"not engraving\"\n");
    let want = "Added Rule mug when size = L: not engraving: \
                rule `when size = L: not engraving` added";
    assert_eq!(changes(&mug, FACTORY), [want]);
}

#[test]
fn price_amount_changed() {
    let mug = edit(MUG, "add = \"3.00\"", "add = \"4.00\"");
    let want = "Changed Price mug size = L: price `size = L` add 3.00 → 4.00";
    assert_eq!(changes(&mug, FACTORY), [want]);
}

#[test]
fn bom_qty_changed() {
    let mug = edit(MUG, "M = 0.38", "M = 0.40");
    let want = "Changed BomLine mug clay: BOM line `clay` qty M 0.38 → 0.40";
    assert_eq!(changes(&mug, FACTORY), [want]);
    let mug = edit(MUG, "qty = 1", "qty = 2");
    let want = "Changed BomLine mug box: BOM line `box` qty 1 → 2";
    assert_eq!(changes(&mug, FACTORY), [want]);
}

#[test]
fn operation_minutes_changed() {
    let mug = edit(MUG, "minutes = 6", "minutes = 7");
    let want = "Changed Operation mug throw: operation `throw` minutes 6 → 7";
    assert_eq!(changes(&mug, FACTORY), [want]);
    let mug = edit(MUG, "minutes = { S = 2, M = 3, L = 4 }", "minutes = 3");
    let want = "Changed Operation mug fire: operation `fire` minutes by size: S 2, M 3, L 4 → 3";
    assert_eq!(changes(&mug, FACTORY), [want]);
}

#[test]
fn routing_order_changed() {
    let (head, ops) = MUG.split_once("[[operation]]").unwrap();
    let (throw, fire) = ops.split_once("[[operation]]").unwrap();
    let mug = format!("{head}[[operation]]{fire}\n[[operation]]{throw}");
    let want = "Changed Product mug mug: routing order throw, fire → fire, throw";
    assert_eq!(changes(&mug, FACTORY), [want]);
}

#[test]
fn defaults_and_tables() {
    let table = "[[table]]\nid = \"t\"\nscope = [\"size\", \"glaze\"]\nconflicts = \"S #000000\"\n";
    let old = catalog(&[("f.toml", FACTORY), ("m.toml", &format!("{MUG}\n{table}"))]);
    let mug = edit(
        &format!("{MUG}\n{table}"),
        "S #000000",
        "S #000000 | L #000000",
    );
    let new = catalog(&[
        ("f.toml", FACTORY),
        ("m.toml", &edit(&mug, "default = \"M\"\n", "")),
    ]);
    let d: Vec<String> = diff(&old, &new)
        .changes
        .into_iter()
        .map(|c| c.detail)
        .collect();
    let want = [
        "option `size` default `M` (gone)",
        "table `t` tuples S #000000 → L #000000 | S #000000",
    ];
    assert_eq!(d, want);
}

#[test]
fn work_center_machines_changed() {
    let factory = edit(FACTORY, "machines = 2", "machines = 3");
    let want = "Changed WorkCenter - wheel: work center `wheel` machines 2 → 3";
    assert_eq!(changes(MUG, &factory), [want]);
}

#[test]
fn delivery_days_changed() {
    let factory = edit(
        FACTORY,
        "name = \"Works\"",
        "name = \"Works\"\ndelivery_weekdays = [1, 2, 3, 4, 5]",
    );
    let want = "Changed Factory - factory: the factory delivery weekdays [1, 2, 3, 4, 5, 6] → [1, 2, 3, 4, 5]";
    assert_eq!(changes(MUG, &factory), [want]);
}

/// Packaging and a carrier, to add to [`FACTORY`].
const CARRIER: &str = r#"
[packaging.mailer]
inner_mm = [340, 240, 60]
max_g = 2000

[carrier.post]
cutoff = "16:00"
weekdays = [1, 2, 3, 4, 5]
holidays = ["2026-12-25"]
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.service.parcel]
transit_days = { home = 2 }
rates = [{ zone = "home", max_g = 2000, price = "4.90" }]
"#;

/// The base factory with `carrier` after it.
fn shipping(carrier: &str) -> CheckReport {
    catalog(&[("factory.toml", &format!("{FACTORY}{carrier}"))])
}

#[test]
fn carrier_calendar_changed() {
    let old = shipping(CARRIER);
    let edited = edit(CARRIER, "\"16:00\"", "\"15:30\"");
    let edited = edit(&edited, "[1, 2, 3, 4, 5]", "[1, 2, 3, 4, 5, 6]");
    let edited = edit(
        &edited,
        "[\"2026-12-25\"]",
        "[\"2027-01-01\", \"2026-12-25\"]",
    );
    let line = |c: &Change| format!("{:?} {:?} {}: {}", c.change, c.subject, c.id, c.detail);
    let d: Vec<String> = diff(&old, &shipping(&edited))
        .changes
        .iter()
        .map(line)
        .collect();
    let want = [
        "Changed Carrier post: carrier `post` cutoff 16:00 → 15:30",
        "Changed Carrier post: carrier `post` weekdays [1, 2, 3, 4, 5] → [1, 2, 3, 4, 5, 6]",
        "Changed Carrier post: carrier `post` holidays [2026-12-25] → [2026-12-25, 2027-01-01]",
    ];
    assert_eq!(d, want);
    // Many holidays are summed up; the same dates in another order are no change.
    let many: Vec<String> = (1..=20).map(|d| format!("\"2027-03-{d:02}\"")).collect();
    let listed = |days: &[String]| {
        shipping(&edit(
            CARRIER,
            "[\"2026-12-25\"]",
            &format!("[{}]", days.join(", ")),
        ))
    };
    let d = diff(&old, &listed(&many)).changes;
    assert_eq!(
        d[0].detail,
        "carrier `post` holidays [2026-12-25] → 20 days, 2027-03-01 to 2027-03-20"
    );
    let reversed: Vec<String> = many.iter().rev().cloned().collect();
    assert!(diff(&listed(&many), &listed(&reversed)).is_empty());
}

#[test]
fn carrier_added() {
    let d = diff(&shipping(""), &shipping(CARRIER)).changes;
    let d: Vec<_> = d
        .iter()
        .map(|c| (c.change, c.subject, c.detail.as_str()))
        .collect();
    assert_eq!(d, [(Added, Subject::Carrier, "carrier `post` added")]);
}

#[test]
fn products_added_and_removed() {
    let old = catalog(&[("factory.toml", FACTORY), ("mug.toml", MUG)]);
    let new = catalog(&[("cup.toml", CUP), ("factory.toml", FACTORY)]);
    let d = diff(&old, &new).changes;
    let d: Vec<_> = d
        .iter()
        .map(|c| (c.change, c.subject, c.detail.as_str()))
        .collect();
    let cup = (Added, Subject::Product, "product `cup` added");
    assert_eq!(
        d,
        [cup, (Removed, Subject::Product, "product `mug` removed")]
    );
}

fn demo() -> Vec<(String, String)> {
    let d = |n: &str, s: &str| (n.to_owned(), s.to_owned());
    vec![
        d(
            "factory.toml",
            include_str!("../../../../catalog/demo/factory.toml"),
        ),
        d(
            "mug.toml",
            include_str!("../../../../catalog/demo/mug.toml"),
        ),
        d(
            "sneaker.toml",
            include_str!("../../../../catalog/demo/sneaker.toml"),
        ),
        d(
            "shirt.toml",
            include_str!("../../../../catalog/demo/shirt.toml"),
        ),
    ]
}

/// Blank lines, comments and trailing blanks between lines, never inside
/// a multi-line string.
fn noisy(source: &str, noise: &[u8]) -> String {
    let mut out = String::new();
    let mut in_string = false;
    for (line, n) in source.lines().zip(noise.iter().cycle()) {
        let toggles = (line.matches("'''").count() + line.matches("\"\"\"").count()) % 2 == 1;
        match n {
            1 if !in_string => out.push('\n'),
            2 if !in_string => out.push_str("# noise ''' \"\"\"\n"),
            3 if !in_string => out.push_str("  "),
            _ => {}
        }
        out.push_str(line);
        if *n == 3 && !in_string && !toggles {
            out.push_str("  \t");
        }
        out.push('\n');
        in_string ^= toggles;
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    #[test]
    fn noise_is_not_a_change(
        noise in proptest::collection::vec(0u8..4, 1..200),
        rotate in 0usize..4,
    ) {
        let old = crate::check(&demo());
        let noisy = demo().into_iter().map(|(n, s)| (n, noisy(&s, &noise)));
        let mut files: Vec<(String, String)> = noisy.collect();
        files.rotate_left(rotate);
        let new = crate::check(&files);
        proptest::prop_assert!(old.is_ok() && new.is_ok(), "{:?}", new.diagnostics);
        let d = diff(&old, &new);
        proptest::prop_assert!(d.is_empty(), "{:#?}", d.changes);
    }
}
