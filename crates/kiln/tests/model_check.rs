//! `kiln model check` on a product whose rules together leave no valid
//! configuration: one error per conflicting rule, at that rule's line and
//! column, harmless rules left out, and a non-zero exit.

use std::process::Command;

fn kiln() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
}

const X: &str = r#"[product]
id = "x"
name = "Mug"
currency = "EUR"
base_price = "10.00"

[option.size]
values = ["S", "M", "L"]

[option.color]
values = ["red", "blue"]

[[rule]]
id = "small-blue"
if = "size = S"
then = "color = blue"

[[rule]]
id = "no-red-large"
if = "size = L"
then = "color != red"
message = "Large mugs are never red"

[[rule]]
id = "needs-red"
if = "size = L"
then = "color = red"

[[rule]]
id = "medium-any"
if = "size = M"
then = "color in (red, blue)"

[[rule]]
id = "large-only"
then = "size = L"
message = "Only large mugs this season"
"#;

#[test]
fn an_unsatisfiable_product_names_each_conflicting_rule_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.toml"), X).unwrap();
    let out = kiln()
        .current_dir(dir.path())
        .args(["model", "check", "x.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "x.toml:18:1: rule `no-red-large` (Large mugs are never red) conflicts with rules \
             `needs-red` and `large-only`: together they leave no valid configuration of `x`",
            "x.toml:24:1: rule `needs-red` (when size = L: color = red) conflicts with rules \
             `no-red-large` and `large-only`: together they leave no valid configuration of `x`",
            "x.toml:34:1: rule `large-only` (Only large mugs this season) conflicts with rules \
             `no-red-large` and `needs-red`: together they leave no valid configuration of `x`",
        ]
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "3 error(s)");

    // Without one of them the product checks.
    std::fs::write(
        dir.path().join("x.toml"),
        X.replace("then = \"size = L\"", "then = \"size in (M, L)\""),
    )
    .unwrap();
    let out = kiln()
        .current_dir(dir.path())
        .args(["model", "check", "x.toml"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 1 product(s)"));
}
