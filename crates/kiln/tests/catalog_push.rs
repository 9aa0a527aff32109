//! `kiln catalog push` against a running `kiln serve --demo`: a new brand
//! (made with the platform admin key the server prints) publishes a
//! directory of model files; a file with an error is refused with the error
//! printed as `file:line:column: message`, exactly as `kiln model check`
//! prints it, and a non-zero exit.

mod common;

use common::{kiln, serve_demo};

#[tokio::test]
async fn push_publishes_and_prints_errors_at_their_lines() {
    let data = tempfile::tempdir().unwrap();
    let server = serve_demo(data.path());
    let url = server.url.clone();
    let admin = server.printed("platform admin key: ").unwrap_or_default();
    assert!(
        admin.starts_with("kiln_admin_"),
        "the server prints a platform admin key"
    );

    let made: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/admin/brands"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"slug": "pushed", "name": "Pushed"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = made["api_key"]
        .as_str()
        .expect("the brand's first key")
        .to_string();

    let dir = tempfile::tempdir().unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog/demo");
    for f in ["factory.toml", "mug.toml"] {
        std::fs::copy(format!("{root}/{f}"), dir.path().join(f)).unwrap();
    }
    let push = |dir: &std::path::Path| {
        kiln()
            .args(["catalog", "push"])
            .arg(dir)
            .args(["--url", &url, "--brand", "pushed", "--key", &key])
            .output()
            .unwrap()
    };
    let ok = push(dir.path());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("published version 1 of pushed"));

    let mug = std::fs::read_to_string(dir.path().join("mug.toml")).unwrap();
    std::fs::write(
        dir.path().join("mug.toml"),
        mug.replace("default = \"M\"", "default = \"XL\""),
    )
    .unwrap();
    let refused = push(dir.path());
    assert!(!refused.status.success());
    let check = kiln()
        .current_dir(dir.path())
        .args(["model", "check", "factory.toml", "mug.toml"])
        .output()
        .unwrap();
    let errors = |text: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(text)
            .lines()
            .filter(|l| l.starts_with("mug.toml:"))
            .map(str::to_string)
            .collect()
    };
    let expected = [errors(&check.stdout), errors(&check.stderr)].concat();
    assert!(!expected.is_empty());
    assert_eq!(
        errors(&refused.stderr),
        expected,
        "as `kiln model check` prints them"
    );
    drop(server);
}
