//! `kiln bench orders --make-after S` against a running `kiln serve --demo`:
//! the bench's factory makes and ships every order it was given, and the
//! clients keep to its pace, so a soak's open work stays bounded.

mod common;

use common::{kiln, serve_demo};

#[tokio::test]
async fn the_bench_factory_makes_and_ships_every_order_it_takes() {
    let data = tempfile::tempdir().unwrap();
    let server = serve_demo(data.path());
    let key = server.printed("demo brand key: ").unwrap_or_default();
    assert!(key.starts_with("kiln_"), "the demo prints its key");
    let out = kiln()
        .args(["bench", "orders", "--url", &server.url, "--key", &key])
        .args([
            "--seconds",
            "4",
            "--concurrency",
            "4",
            "--make-after",
            "0.5",
        ])
        .args(["--json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect(&stdout);
    let orders = report["orders"].as_u64().unwrap();
    assert!(orders > 0, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    let factory = &report["factory"];
    assert_eq!(factory["failed"], 0, "{report}");
    // Every order due before the end was made and shipped.
    assert_eq!(factory["open"], 0, "{report}");
    let (shipped, not_due) = (
        factory["shipped"].as_u64().unwrap(),
        factory["not_due"].as_u64().unwrap(),
    );
    assert_eq!(shipped + not_due, orders, "{report}");
    assert!(shipped > 0, "{report}");
}
