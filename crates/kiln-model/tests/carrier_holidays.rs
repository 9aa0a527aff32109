//! A carrier's `holidays`: ISO dates it neither picks up nor delivers on.
//! A good list is read sorted; every mistake is pinned to its line and column.

use jiff::civil::date;
use kiln_model::{Diagnostic, parse_factory};

/// A valid carrier whose line 4 is `holidays = {list}`.
fn carrier(list: &str) -> String {
    format!(
        r#"[carrier.post]
cutoff = "16:00"
weekdays = [1, 2, 3, 4, 5]
holidays = {list}
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.service.parcel]
transit_days = {{ home = 2 }}
rates = [{{ zone = "home", max_g = 2000, price = "4.90" }}]
"#
    )
}

fn errors(list: &str) -> Vec<Diagnostic> {
    match parse_factory("factory.toml", &carrier(list)) {
        Ok(_) => panic!("expected diagnostics for holidays = {list}"),
        Err(d) => d,
    }
}

/// Exactly one diagnostic, at `factory.toml:line:column`, saying `message`.
#[track_caller]
fn assert_only(diags: &[Diagnostic], line: u32, column: u32, message: &str) {
    let listing: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert_eq!(diags.len(), 1, "expected one diagnostic:\n{listing:#?}");
    let d = &diags[0];
    assert_eq!(
        (d.file.as_str(), d.span.line, d.span.column),
        ("factory.toml", line, column),
        "wrong place for: {d}"
    );
    assert_eq!(d.message, message);
}

#[test]
fn holidays_are_read_sorted() {
    let src = carrier(r#"["2027-01-01", "2026-12-25", "2026-12-26"]"#);
    let f = parse_factory("factory.toml", &src).unwrap();
    let want = [date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)];
    assert_eq!(f.carriers[0].holidays, want);
}

#[test]
fn no_holidays_by_default_and_an_empty_list_is_none() {
    let f = parse_factory("factory.toml", &carrier("[]")).unwrap();
    assert!(f.carriers[0].holidays.is_empty());
    let without = carrier("[]").replace("holidays = []\n", "");
    let f = parse_factory("factory.toml", &without).unwrap();
    assert!(f.carriers[0].holidays.is_empty());
}

#[test]
fn holidays_not_a_list() {
    // `holidays = ` is 11 characters: the value starts at column 12.
    assert_only(
        &errors(r#""2026-12-25""#),
        4,
        12,
        r#"`holidays` is a list of dates like ["2026-12-25"], found a string"#,
    );
    assert_only(
        &errors("{ christmas = \"2026-12-25\" }"),
        4,
        12,
        r#"`holidays` is a list of dates like ["2026-12-25"], found a table"#,
    );
}

#[test]
fn a_holiday_that_is_not_a_string() {
    assert_only(
        &errors(r#"["2026-12-25", 20261226]"#),
        4,
        27,
        r#"a holiday is a date like "2026-12-25", found an integer"#,
    );
    // A TOML date without quotes.
    assert_only(
        &errors("[2026-12-25]"),
        4,
        13,
        r#"a holiday is a date like "2026-12-25", found a date: write it in quotes"#,
    );
}

#[test]
fn a_holiday_that_is_not_a_date() {
    // The caret is on the first character inside the quotes: column 14.
    for (bad, why) in [
        ("2026-02-30", "2026-02 has days 1 to 28"),
        ("2026-13-01", "there is no month 13"),
        ("2026-04-31", "2026-04 has days 1 to 30"),
        ("25.12.2026", "write it as YYYY-MM-DD, like 2026-12-25"),
        (
            "2026-12-25T00:00",
            "write it as YYYY-MM-DD, like 2026-12-25",
        ),
        ("christmas", "write it as YYYY-MM-DD, like 2026-12-25"),
    ] {
        assert_only(
            &errors(&format!(r#"["{bad}"]"#)),
            4,
            14,
            &format!("holiday `{bad}` is not a date: {why}"),
        );
    }
}

#[test]
fn a_holiday_twice() {
    // The third date's text starts at column 42; the first's at 14.
    assert_only(
        &errors(r#"["2026-12-25", "2026-12-26", "2026-12-25"]"#),
        4,
        42,
        "duplicate holiday `2026-12-25` (first at line 4, column 14)",
    );
}

#[test]
fn at_most_a_thousand_holidays() {
    let days = |n: i64| {
        let start = date(2026, 1, 1);
        let list: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "\"{}\"",
                    start.checked_add(jiff::Span::new().days(i)).unwrap()
                )
            })
            .collect();
        format!("[{}]", list.join(", "))
    };
    let f = parse_factory("factory.toml", &carrier(&days(1000))).unwrap();
    assert_eq!(f.carriers[0].holidays.len(), 1000);
    assert_only(
        &errors(&days(1001)),
        4,
        12,
        "`holidays` lists 1001 dates: a carrier has at most 1000",
    );
}

#[test]
fn every_bad_holiday_is_reported_with_the_carriers_other_errors() {
    let src = carrier(r#"["2026-12-32", 1, "2026-12-25", "2026-12-25"]"#)
        .replace(r#"["DE"]"#, r#"["de"]"#);
    let d = parse_factory("factory.toml", &src).unwrap_err();
    let got: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "factory.toml:4:14: holiday `2026-12-32` is not a date: 2026-12 has days 1 to 31",
            r#"factory.toml:4:27: a holiday is a date like "2026-12-25", found an integer"#,
            "factory.toml:4:45: duplicate holiday `2026-12-25` (first at line 4, column 31)",
            "factory.toml:6:15: `de` is not an ISO 3166 country code like DE",
        ]
    );
}
