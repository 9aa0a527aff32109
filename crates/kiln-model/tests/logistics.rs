//! The logistics block: `[packaging.*]` and `[carrier.*]` in factory files,
//! `[parcel]` in product files, and the catalog-wide cross-check. Every
//! inconsistency is pinned to its exact file, line and column.

use kiln_model::{Diagnostic, check, parse_factory, parse_product};

const FACTORY: &str = include_str!("../../../catalog/demo/factory.toml");
const MUG: &str = include_str!("../../../catalog/demo/mug.toml");
const SNEAKER: &str = include_str!("../../../catalog/demo/sneaker.toml");
const SHIRT: &str = include_str!("../../../catalog/demo/shirt.toml");

/// A valid carrier, lines 1 to 8 of its file.
const CARRIER: &str = r#"[carrier.post]
cutoff = "16:00"
weekdays = [1, 2, 3, 4, 5]
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.service.parcel]
transit_days = { home = 2 }
rates = [{ zone = "home", max_g = 2000, price = "4.90" }]
"#;

/// A valid packaging, lines 1 to 4 of its file.
const MAILER: &str = r#"[packaging.mailer]
inner_mm = [340, 240, 60]
tare_g = 40
max_g = 2000
"#;

/// A product with one option, lines 1 to 9; `[parcel]` goes on line 11.
const PRODUCT: &str = r#"[product]
id = "mug"
name = "Mug"
currency = "EUR"
base_price = "12.00"

[option.size]
values = { S = "250 ml", M = "350 ml", L = "450 ml" }
default = "M"
"#;

fn owned(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
        .collect()
}

fn factory_errors(src: &str) -> Vec<Diagnostic> {
    match parse_factory("factory.toml", src) {
        Ok(_) => panic!("expected diagnostics for:\n{src}"),
        Err(d) => d,
    }
}

fn product_errors(src: &str) -> Vec<Diagnostic> {
    match parse_product("mug.toml", src) {
        Ok(_) => panic!("expected diagnostics for:\n{src}"),
        Err(d) => d,
    }
}

fn catalog_errors(files: &[(&str, &str)]) -> Vec<Diagnostic> {
    check(&owned(files)).diagnostics
}

fn listing(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `d` is at `file:line:column` and its message holds `fragment`.
#[track_caller]
fn assert_at(d: &Diagnostic, file: &str, line: u32, column: u32, fragment: &str) {
    assert_eq!(
        (d.file.as_str(), d.span.line, d.span.column),
        (file, line, column),
        "wrong place for: {d}"
    );
    assert!(
        d.message.contains(fragment),
        "`{fragment}` not in: {}",
        d.message
    );
}

/// Exactly one diagnostic, at `file:line:column`, holding `fragment`.
#[track_caller]
fn assert_only(diags: &[Diagnostic], file: &str, line: u32, column: u32, fragment: &str) {
    assert_eq!(
        diags.len(),
        1,
        "expected one diagnostic:\n{}",
        listing(diags)
    );
    assert_at(&diags[0], file, line, column, fragment);
}

// --- The demo catalog ------------------------------------------------------

#[test]
fn the_demo_catalog_checks_clean_with_its_logistics() {
    let r = check(&owned(&[
        ("factory.toml", FACTORY),
        ("mug.toml", MUG),
        ("sneaker.toml", SNEAKER),
        ("shirt.toml", SHIRT),
    ]));
    assert!(r.diagnostics.is_empty(), "{}", listing(&r.diagnostics));
    assert_eq!(r.factory.packaging.len(), 4);
    assert_eq!(r.factory.carriers.len(), 2);
    assert_eq!(r.products.len(), 3);
    assert!(r.products.iter().all(|p| p.parcel.is_some()));
}

#[test]
fn the_fixtures_are_valid() {
    let f = parse_factory("factory.toml", &format!("{MAILER}\n{CARRIER}")).unwrap();
    assert_eq!((f.packaging.len(), f.carriers.len()), (1, 1));
    let c = &f.carriers[0];
    assert_eq!((c.cutoff_minute, c.weekdays.len()), (960, 5));
    assert_eq!(c.services[0].transit("home"), Some(2));
    let with_parcel = format!("{PRODUCT}\n[parcel]\nweight_g = 300\nsize_mm = [300, 100, 50]\n");
    let r = check(&owned(&[
        ("factory.toml", &format!("{MAILER}\n{CARRIER}")),
        ("mug.toml", &with_parcel),
    ]));
    assert!(r.diagnostics.is_empty(), "{}", listing(&r.diagnostics));
}

// --- Packaging -------------------------------------------------------------

#[test]
fn an_unknown_key_in_a_packaging() {
    let src = r#"[packaging.mailer]
inner_mm = [340, 240, 60]
tare_g = 40
max_g = 2000
colour = "brown"
"#;
    assert_only(
        &factory_errors(src),
        "factory.toml",
        5,
        1,
        "unknown key `colour` in packaging `mailer`",
    );
}

#[test]
fn inner_mm_with_two_sides() {
    let src = r#"[packaging.mailer]
inner_mm = [340, 240]
tare_g = 40
max_g = 2000
"#;
    assert_only(
        &factory_errors(src),
        "factory.toml",
        2,
        12,
        "`inner_mm` is three sides (length, width, height), found 2",
    );
}

#[test]
fn max_g_not_above_tare_g() {
    let equal = r#"[packaging.mailer]
inner_mm = [340, 240, 60]
tare_g = 40
max_g = 40
"#;
    assert_only(
        &factory_errors(equal),
        "factory.toml",
        4,
        9,
        "`max_g` (40) must be more than the packaging's own `tare_g` (40)",
    );
    let below = equal.replace("max_g = 40", "max_g = 30");
    assert_only(
        &factory_errors(&below),
        "factory.toml",
        4,
        9,
        "`max_g` (30) must be more",
    );
}

// --- Carriers --------------------------------------------------------------

#[test]
fn a_bad_cutoff() {
    for bad in ["25:00", "4pm", "9:00", "16:60", "16:00:00", ""] {
        let src = CARRIER.replace("16:00", bad);
        // Line 2 is `cutoff = "…"`: the caret is on the first character
        // inside the quotes.
        assert_only(
            &factory_errors(&src),
            "factory.toml",
            2,
            11,
            &format!("`cutoff` is a time of day like \"16:00\", found `{bad}`"),
        );
    }
    for good in [("00:00", 0), ("09:30", 570), ("24:00", 1440)] {
        let f = parse_factory("factory.toml", &CARRIER.replace("16:00", good.0)).unwrap();
        assert_eq!(f.carriers[0].cutoff_minute, good.1, "{}", good.0);
    }
}

#[test]
fn a_cutoff_with_a_sign() {
    for bad in ["+1:00", "+1:+5", "10:+5"] {
        let src = CARRIER.replace("16:00", bad);
        assert_only(
            &factory_errors(&src),
            "factory.toml",
            2,
            11,
            &format!("found `{bad}`"),
        );
    }
}

#[test]
fn a_bad_cutoff_does_not_hide_the_carriers_other_errors() {
    let src = CARRIER
        .replace("16:00", "4pm")
        .replace(r#"["DE"]"#, r#"["de"]"#);
    let d = factory_errors(&src);
    assert_eq!(d.len(), 2, "{}", listing(&d));
    assert_at(&d[0], "factory.toml", 2, 11, "found `4pm`");
    assert_at(&d[1], "factory.toml", 5, 15, "`de` is not an ISO 3166");
}

#[test]
fn a_bad_cutoff_does_not_make_the_packaging_carrierless() {
    let factory = format!("{MAILER}\n{}", CARRIER.replace("16:00", "4pm"));
    let d = catalog_errors(&[("factory.toml", &factory)]);
    assert_only(&d, "factory.toml", 7, 11, "found `4pm`");
}

#[test]
fn a_lowercase_or_three_letter_country() {
    for bad in ["de", "DEU", "D", "De"] {
        let src = CARRIER.replace(r#"["DE"]"#, &format!(r#"["{bad}"]"#));
        assert_only(
            &factory_errors(&src),
            "factory.toml",
            5,
            15,
            &format!("`{bad}` is not an ISO 3166 country code like DE"),
        );
    }
    // The second of a list: `countries = ["DE", "fr"]`, `f` at column 21.
    let src = CARRIER.replace(r#"["DE"]"#, r#"["DE", "fr"]"#);
    assert_only(&factory_errors(&src), "factory.toml", 5, 21, "`fr` is not");
}

#[test]
fn a_rate_naming_an_unknown_zone() {
    let src = r#"[carrier.post]
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.service.parcel]
transit_days = { home = 2 }
rates = [
  { zone = "home", max_g = 2000, price = "4.90" },
  { zone = "hom", max_g = 5000, price = "6.90" },
]
"#;
    assert_only(
        &factory_errors(src),
        "factory.toml",
        8,
        13,
        "unknown zone `hom` (zones are: home)",
    );
}

#[test]
fn transit_days_naming_an_unknown_zone() {
    let src = CARRIER.replace("{ home = 2 }", "{ home = 2, eu = 4 }");
    assert_only(
        &factory_errors(&src),
        "factory.toml",
        7,
        28,
        "unknown zone `eu` (zones are: home)",
    );
}

#[test]
fn a_zone_with_transit_days_but_no_rate() {
    let src = r#"[carrier.post]
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.zone.eu]
countries = ["FR", "NL"]
[carrier.post.service.parcel]
transit_days = { home = 2, eu = 4 }
rates = [{ zone = "home", max_g = 2000, price = "4.90" }]
"#;
    // Points at the `transit_days` table (its `{`), not at the zone's key.
    assert_only(
        &factory_errors(src),
        "factory.toml",
        7,
        16,
        "zone `eu` has `transit_days` but no rate in service `parcel` of carrier `post`",
    );
}

#[test]
fn a_rate_zone_without_transit_days() {
    let src = r#"[carrier.post]
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.zone.eu]
countries = ["FR"]
[carrier.post.service.parcel]
transit_days = { home = 2 }
rates = [
  { zone = "home", max_g = 2000, price = "4.90" },
  { zone = "eu", max_g = 2000, price = "9.90" },
]
"#;
    assert_only(
        &factory_errors(src),
        "factory.toml",
        10,
        13,
        "zone `eu` has a rate but no `transit_days` in service `parcel` of carrier `post`",
    );
}

#[test]
fn a_duplicate_rate_band() {
    let src = r#"[carrier.post]
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.service.parcel]
transit_days = { home = 2 }
rates = [
  { zone = "home", max_g = 2000, price = "4.90" },
  { zone = "home", max_g = 5000, price = "6.90" },
  { zone = "home", max_g = 2000, price = "5.90" },
]
"#;
    assert_only(
        &factory_errors(src),
        "factory.toml",
        9,
        28,
        "zone `home` already has a rate up to 2000 g",
    );
    // The same band written as a decimal string is still the same band.
    let same = src.replace(
        r#"max_g = 2000, price = "5.90""#,
        r#"max_g = "2000.0", price = "5.90""#,
    );
    assert_only(
        &factory_errors(&same),
        "factory.toml",
        9,
        28,
        "zone `home` already has a rate up to 2000.0 g",
    );
    // The same weight in two zones is not a duplicate.
    let two_zones = r#"[carrier.post]
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.zone.eu]
countries = ["FR"]
[carrier.post.service.parcel]
transit_days = { home = 2, eu = 4 }
rates = [
  { zone = "home", max_g = 2000, price = "4.90" },
  { zone = "eu", max_g = 2000, price = "9.90" },
]
"#;
    parse_factory("factory.toml", two_zones).unwrap();
}

#[test]
fn a_carrier_without_service() {
    let missing = r#"[carrier.post]
cutoff = "16:00"
[carrier.post.zone.home]
countries = ["DE"]
"#;
    assert_only(
        &factory_errors(missing),
        "factory.toml",
        1,
        1,
        "missing `service` in carrier `post`",
    );
    let empty = r#"[carrier.post]
cutoff = "16:00"
service = {}
[carrier.post.zone.home]
countries = ["DE"]
"#;
    assert_only(
        &factory_errors(empty),
        "factory.toml",
        3,
        11,
        "carrier `post` has no service",
    );
}

// --- The catalog as a whole ------------------------------------------------

#[test]
fn packaging_without_carriers() {
    let d = catalog_errors(&[("factory.toml", MAILER)]);
    assert_only(
        &d,
        "factory.toml",
        1,
        1,
        "packaging without a `[carrier.*]` ships nothing",
    );
    // The first packaging's file, in a catalog of several factory files.
    let d = catalog_errors(&[
        ("works.toml", "[factory]\nname = \"Works\"\n"),
        ("boxes.toml", &format!("# Boxes\n\n{MAILER}")),
    ]);
    assert_only(&d, "boxes.toml", 3, 1, "packaging without a `[carrier.*]`");
}

#[test]
fn carriers_without_packaging() {
    let d = catalog_errors(&[("factory.toml", CARRIER)]);
    assert_only(
        &d,
        "factory.toml",
        1,
        1,
        "carrier `post` has no packaging to carry: declare a `[packaging.*]`",
    );
    let d = catalog_errors(&[
        ("works.toml", "[factory]\nname = \"Works\"\n"),
        ("carriers.toml", &format!("# Carriers\n{CARRIER}")),
    ]);
    assert_only(&d, "carriers.toml", 2, 1, "carrier `post` has no packaging");
}

#[test]
fn a_product_without_parcel_when_the_factory_has_carriers() {
    let factory = format!("{MAILER}\n{CARRIER}");
    let d = catalog_errors(&[("factory.toml", &factory), ("mug.toml", PRODUCT)]);
    assert_only(
        &d,
        "mug.toml",
        1,
        1,
        "product `mug` has no `[parcel]`: the factory ships by carrier (`post`)",
    );
    // The demo mug without its `[parcel]`: the caret is on `[product]`.
    let mug = &MUG[..MUG.find("[parcel]").unwrap()];
    let line = MUG.lines().position(|l| l == "[product]").unwrap() as u32 + 1;
    let d = catalog_errors(&[("factory.toml", FACTORY), ("mug.toml", mug)]);
    assert_only(&d, "mug.toml", line, 1, "product `mug` has no `[parcel]`");
    // Without carriers a product needs no `[parcel]`.
    let d = catalog_errors(&[("factory.toml", "[factory]\n"), ("mug.toml", PRODUCT)]);
    assert!(d.is_empty(), "{}", listing(&d));
}

#[test]
fn a_product_whose_unit_fits_no_packaging() {
    let factory = format!("{MAILER}\n{CARRIER}");
    // 400 mm is longer than the mailer's longest side (340).
    let too_long = format!("{PRODUCT}\n[parcel]\nweight_g = 300\nsize_mm = [400, 100, 50]\n");
    let d = catalog_errors(&[("factory.toml", &factory), ("mug.toml", &too_long)]);
    assert_only(
        &d,
        "mug.toml",
        11,
        1,
        "a unit of `mug` (up to 300 g, 400 × 100 × 50 mm) fits no packaging",
    );
    // Turned, [60, 340, 240] fits [340, 240, 60].
    let turned = format!("{PRODUCT}\n[parcel]\nweight_g = 300\nsize_mm = [60, 340, 240]\n");
    let d = catalog_errors(&[("factory.toml", &factory), ("mug.toml", &turned)]);
    assert!(d.is_empty(), "{}", listing(&d));
    // The largest value of a by-size side counts.
    let by_size = format!(
        "{PRODUCT}\n[parcel]\nweight_g = 300\nsize_mm = [{{ S = 100, M = 200, L = 350 }}, 100, 50]\n"
    );
    let d = catalog_errors(&[("factory.toml", &factory), ("mug.toml", &by_size)]);
    assert_only(
        &d,
        "mug.toml",
        11,
        1,
        "(up to 300 g, 350 × 100 × 50 mm) fits no packaging",
    );
    // Too heavy for the packaging itself: 40 + 1970 > 2000.
    let heavy = format!("{PRODUCT}\n[parcel]\nweight_g = 1970\nsize_mm = [100, 100, 50]\n");
    let d = catalog_errors(&[("factory.toml", &factory), ("mug.toml", &heavy)]);
    assert_only(&d, "mug.toml", 11, 1, "fits no packaging");
}

#[test]
fn a_unit_heavier_than_any_carrier_band() {
    // The box takes 5 kg; the only rate band stops at 2 kg.
    let factory = format!(
        "{}\n{CARRIER}",
        MAILER.replace("max_g = 2000", "max_g = 5000")
    );
    let product = format!("{PRODUCT}\n[parcel]\nweight_g = 2500\nsize_mm = [300, 100, 50]\n");
    let d = catalog_errors(&[("factory.toml", &factory), ("mug.toml", &product)]);
    assert_only(
        &d,
        "mug.toml",
        11,
        1,
        "a packed unit of `mug` weighs up to 2540 g: no carrier's rate takes more than 2000 g",
    );
    // By size: only the L unit is too heavy, and that is enough.
    let by_size = format!(
        "{PRODUCT}\n[parcel]\nweight_g = {{ S = 500, M = 1000, L = 1961 }}\nsize_mm = [300, 100, 50]\n"
    );
    let d = catalog_errors(&[("factory.toml", &factory), ("mug.toml", &by_size)]);
    assert_only(&d, "mug.toml", 11, 1, "weighs up to 2001 g");
}

// --- [parcel] --------------------------------------------------------------

#[test]
fn a_parcel_with_two_sides() {
    let src = format!("{PRODUCT}\n[parcel]\nweight_g = 300\nsize_mm = [300, 100]\n");
    assert_only(
        &product_errors(&src),
        "mug.toml",
        13,
        11,
        "`size_mm` is three sides (length, width, height), found 2",
    );
}

#[test]
fn a_parcel_weight_keyed_by_values_of_no_option() {
    let src = format!(
        "{PRODUCT}\n[parcel]\nweight_g = {{ small = 300, big = 400 }}\nsize_mm = [300, 100, 50]\n"
    );
    assert_only(
        &product_errors(&src),
        "mug.toml",
        12,
        12,
        "the keys of `weight_g` are not the values of any one option",
    );
    // Keyed by the size's values it is fine.
    let ok = format!(
        "{PRODUCT}\n[parcel]\nweight_g = {{ S = 300, M = 350, L = 400 }}\nsize_mm = [300, 100, 50]\n"
    );
    let p = parse_product("mug.toml", &ok).unwrap();
    let (weight, _) = p.parcel.unwrap().largest();
    assert_eq!(weight, 400.into());
}

#[test]
fn a_parcel_side_missing_a_value() {
    // `size_mm` on line 13; its first side `{ S = 100, M = 200 }` at column 12.
    let src = format!(
        "{PRODUCT}\n[parcel]\nweight_g = 300\nsize_mm = [{{ S = 100, M = 200 }}, 100, 50]\n"
    );
    assert_only(
        &product_errors(&src),
        "mug.toml",
        13,
        12,
        "`size_mm` has no entry for `L` of option `size`",
    );
}

#[test]
fn a_parcel_weight_can_name_its_option() {
    let two = format!(
        "{PRODUCT}\n[option.fit]\nvalues = [\"S\", \"M\", \"L\"]\n\n[parcel]\nby = \"size\"\n\
         weight_g = {{ S = 300, M = 350, L = 400 }}\nsize_mm = [300, 100, 50]\n"
    );
    let p = parse_product("mug.toml", &two).unwrap_or_else(|d| panic!("{}", listing(&d)));
    assert!(p.parcel.is_some());
}
