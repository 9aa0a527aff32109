//! `kiln model` on a DIMACS feature model that names its variables in
//! comments: every command takes the names, the numbers still work, and the
//! import into the model language keeps both.

use std::process::Command;

fn kiln(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .env("KILN_CACHE_DIR", "") // keep nothing
        .output()
        .expect("run kiln");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Root requires Engine; Engine excludes Towbar; variable 4 has no name.
const MODEL: &str = "c 1 N_100000__F_100001\nc 2 Engine\nc 3 Towbar\n\
p cnf 4 2\n-1 2 0\n-2 -3 0\n";

#[test]
fn names_and_numbers_both_select_and_outputs_use_the_names() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("car.dimacs");
    std::fs::write(&f, MODEL).unwrap();
    let f = f.to_str().unwrap();
    let (ok, by_name, err) = kiln(&["model", "domains", f, "--set", "Engine=1", "--json"]);
    assert!(ok, "{err}");
    let (_, by_number, _) = kiln(&["model", "domains", f, "--set", "2=1", "--json"]);
    assert_eq!(by_name, by_number);
    let j: serde_json::Value = serde_json::from_str(&by_name).unwrap();
    assert_eq!(j["domains"]["Towbar"], serde_json::json!(["0"]));
    assert_eq!(j["domains"]["4"], serde_json::json!(["0", "1"]));

    let (ok, why, err) = kiln(&[
        "model", "explain", f, "--set", "Engine=1", "--why", "Towbar=1",
    ]);
    assert!(ok, "{err}");
    assert!(why.contains("Engine=1"), "{why}");

    let (ok, _, err) = kiln(&["model", "domains", f, "--set", "Engin=1"]);
    assert!(!ok);
    assert!(err.contains("unknown option `Engin`"), "{err}");

    let toml = dir.path().join("car.toml");
    let (ok, _, err) = kiln(&["model", "import", f, "-o", toml.to_str().unwrap()]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(
        text.contains("[option.Engine]\naliases = [\"2\"]"),
        "{text}"
    );
    let (ok, from_toml, err) = kiln(&[
        "model",
        "domains",
        toml.to_str().unwrap(),
        "--set",
        "2=1",
        "--json",
    ]);
    assert!(ok, "{err}");
    assert_eq!(from_toml, by_name);
}

#[test]
fn a_second_call_reads_the_compiled_model_and_a_damaged_one_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let f = dir.path().join("car.dimacs");
    std::fs::write(&f, MODEL).unwrap();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args([
                "model",
                "domains",
                f.to_str().unwrap(),
                "--set",
                "Engine=1",
                "--json",
            ])
            .env("KILN_CACHE_DIR", &cache)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    let entries: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(run(), first);
    // A damaged entry is compiled again and replaced.
    std::fs::write(&entries[0], b"not a compiled model").unwrap();
    assert_eq!(run(), first);
    assert_ne!(std::fs::read(&entries[0]).unwrap(), b"not a compiled model");
}
