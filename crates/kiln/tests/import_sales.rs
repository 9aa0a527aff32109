//! `kiln import sales --format online-retail` against a running
//! `kiln serve --demo`: each invoice becomes its customer's event, a guest's
//! under an id of its own; a bad line is reported with its number and
//! skipped; importing again adds nothing.

mod common;

use std::io::Write;

use common::{kiln, serve_demo};

const EXPORT: &str =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536366,22633,HAND WARMER UNION JACK,six,2010-12-01 08:28:00,1.85,17850.0,United Kingdom
536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,,France
C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,17850.0,United Kingdom
";

#[tokio::test]
async fn an_export_becomes_events_of_customers_and_stores_once() {
    let data = tempfile::tempdir().unwrap();
    let server = serve_demo(data.path());
    let url = server.url.clone();
    let key = server.printed("demo brand key: ").unwrap_or_default();
    assert!(key.starts_with("kiln_"), "the demo prints its key");
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(EXPORT.as_bytes()).unwrap();
    let import = || {
        kiln()
            .args(["import", "sales", "--format", "online-retail"])
            .arg(file.path())
            .args(["--url", &url, "--brand", "demo", "--key", &key])
            .output()
            .unwrap()
    };
    let first = import();
    let (out, err) = (
        String::from_utf8_lossy(&first.stdout).to_string(),
        String::from_utf8_lossy(&first.stderr).to_string(),
    );
    assert!(first.status.success(), "{out}{err}");
    assert!(
        err.contains(":4: Quantity `six` is not a whole number"),
        "{err}"
    );
    assert!(out.contains("kept 3 events"), "{out}");
    let again = import();
    assert!(String::from_utf8_lossy(&again.stdout).contains("kept 0 events, 3 were there already"));

    let http = reqwest::Client::new();
    let profile: serde_json::Value = http
        .get(format!("{url}/api/v1/brands/demo/profiles?user_id=17850"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = profile["profiles"][0]["events"].as_array().unwrap().clone();
    let names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Order Refunded", "Order Completed"]);
    assert_eq!(events[1]["body"]["context"]["store_id"], "united-kingdom");
    assert_eq!(events[1]["timestamp"], "2010-12-01T08:26:00Z");
    assert_eq!(events[1]["body"]["properties"]["total"], "35.64");
    let guest: serde_json::Value = http
        .get(format!(
            "{url}/api/v1/brands/demo/profiles?anonymous_id=guest-536367"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(guest["profiles"].as_array().unwrap().len(), 1);
    drop(server);
}
