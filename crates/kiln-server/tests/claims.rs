//! After-sales from the passport (issue 14): claims counted by what their
//! units are and were made by (API and console), and a unit's history on its
//! public passport page without the customer's words, claims at the store
//! counter, the printable labels, and the purchases a passport's materials
//! came from. Runs on SQLite and, with
//! `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    claims_are_counted_by_choice_material_and_machine,
    the_passport_page_tells_the_units_history,
    a_clerk_takes_a_unit_back_in_store_mode,
    labels_print_alone_or_with_the_shipping_label,
    a_passport_names_the_purchase_its_material_came_from,
    a_passport_says_what_the_catalog_version_ordered_from_said,
);

/// Makes `order` by starting and completing every operation of its work orders.
async fn make(app: &App, order: &str) {
    for wo in work_orders_of(&app.order(order).await) {
        make_work_order(app, &wo).await;
    }
}

/// Places and makes a mug glazed `glaze`; its units' serials.
async fn made_mug(app: &App, email: &str, glaze: &str) -> Vec<String> {
    let body = order_body(
        email,
        "mug",
        json!({ "size": "M", "shape": "classic", "glaze": glaze, "pattern": "none" }),
        1,
    );
    let order = app.place_ok(&body).await;
    make(app, &order).await;
    app.get(&format!("/orders/{order}/units")).await.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["serial"].as_str().unwrap().to_string())
        .collect()
}

async fn claim(app: &App, serial: &str, reason: &str) -> String {
    app.post(
        &format!("/units/{serial}/claims"),
        &json!({ "kind": "warranty", "reason": reason, "parts": ["glaze"] }),
    )
    .await
    .expect(StatusCode::CREATED)
    .body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn row<'a>(list: &'a Value, key: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|t| t["key"] == key)
}

async fn claims_are_counted_by_choice_material_and_machine(app: App) {
    let navy = [
        made_mug(&app, "a@example.com", "#1d3557").await,
        made_mug(&app, "b@example.com", "#1d3557").await,
    ]
    .concat();
    let cream = [
        made_mug(&app, "c@example.com", "#f4f1de").await,
        made_mug(&app, "d@example.com", "#f4f1de").await,
    ]
    .concat();
    assert_eq!((navy.len(), cream.len()), (2, 2));
    claim(&app, &navy[0], "Glaze crazed").await;
    let second = claim(&app, &navy[1], "Glaze crazed too").await;
    let rejected = claim(&app, &cream[0], "Dropped it").await;
    app.post(
        &format!("/claims/{rejected}/decision"),
        &json!({ "decision": "reject", "note": "broken by a fall" }),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        &format!("/claims/{second}/decision"),
        &json!({ "decision": "refund" }),
    )
    .await
    .expect(StatusCode::OK);

    let r = app.get("/claims/report").await.expect(StatusCode::OK).body;
    assert_eq!(
        (&r["units"], &r["claims"], &r["open"]),
        (&json!(4), &json!(2), &json!(1))
    );
    assert_eq!(r["per_hundred"], 50.0);
    assert_eq!(r["waiting"].as_array().unwrap().len(), 1);
    // The navy glaze has every counted claim; the cream none (its claim was
    // rejected).
    let navy_row = row(&r["by_option_value"], "mug/glaze=#1d3557").expect("navy counted");
    assert_eq!(
        (&navy_row["claims"], &navy_row["units"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(navy_row["per_hundred"], 100.0);
    assert_eq!(
        (&navy_row["option"], &navy_row["value"]),
        (&json!("glaze"), &json!("#1d3557"))
    );
    assert!(row(&r["by_option_value"], "mug/glaze=#f4f1de").is_none());
    let mug = row(&r["by_product"], "mug").expect("the mug");
    assert_eq!((&mug["claims"], &mug["units"]), (&json!(2), &json!(4)));
    assert!(row(&r["by_material"], "stoneware-clay").is_some());
    assert!(row(&r["by_work_center"], "kiln").is_some());
    assert!(
        r["by_machine"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["key"].as_str().unwrap().contains(" #")),
        "{}",
        r["by_machine"]
    );

    // The same in the console, with names rather than ids.
    let http = no_redirects();
    let cookie = console_cookie(&app, &http).await;
    let page = http
        .get(format!("{}/console/claims", app.base))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    for shown in [
        "Waiting for a decision",
        "By option value",
        "Stoneware clay",
        "Glaze crazed",
    ] {
        assert!(page.contains(shown), "{shown} missing");
    }
    // Without a key, no report.
    app.get_with_key("/claims/report", None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

async fn the_passport_page_tells_the_units_history(app: App) {
    let serial = made_mug(&app, "h@example.com", "#1d3557").await.remove(0);
    let id = claim(&app, &serial, "My private words: the glaze crazed").await;
    let decided = app
        .post(
            &format!("/claims/{id}/decision"),
            &json!({ "decision": "repair" }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(decided["promised_date"].is_string());
    let page = reqwest::get(format!("{}/shop/{}/21/{serial}", app.base, app.slug))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Made and signed"), "no history");
    assert!(
        page.contains("Warranty claim (glaze): repair: planned, promised for"),
        "the repair is not on the passport's history"
    );
    assert!(
        !page.contains("My private words"),
        "the public passport page shows the customer's words"
    );
}

async fn a_clerk_takes_a_unit_back_in_store_mode(app: App) {
    let serial = made_mug(&app, "s@example.com", "#1d3557").await.remove(0);
    let http = no_redirects();
    let cookie = store_mode_cookie(&app, &http, "london").await;
    let post = |fields: Vec<(&'static str, String)>| {
        http.post(format!("{}/store/claims", app.base))
            .header(reqwest::header::COOKIE, cookie.clone())
            .form(&fields)
            .send()
    };
    // A serial no unit has, and a claim without a reason: said, and what
    // was typed stays.
    let unknown = post(vec![
        ("serial", "NOSUCH".into()),
        ("kind", "warranty".into()),
        ("reason", "Cracked".into()),
    ])
    .await
    .unwrap();
    assert_eq!(unknown.status(), StatusCode::OK);
    let text = unknown.text().await.unwrap();
    assert!(
        text.contains("No unit of this brand has the serial “NOSUCH”"),
        "{text}"
    );
    assert!(text.contains("value=\"Cracked\""), "the reason was lost");
    let blank = post(vec![
        ("serial", serial.clone()),
        ("kind", "warranty".into()),
        ("reason", " ".into()),
    ])
    .await
    .unwrap();
    assert!(
        blank
            .text()
            .await
            .unwrap()
            .contains("The claim was not opened")
    );

    // The label's scanned link opens the claim on its unit.
    let label = format!("{}/shop/{}/21/{serial}?pp=a.b.c", app.base, app.slug);
    let opened = post(vec![
        ("serial", label),
        ("kind", "warranty".into()),
        ("reason", "Handle cracked".into()),
        ("parts", "handle".into()),
    ])
    .await
    .unwrap();
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let to = opened.headers()["location"].to_str().unwrap().to_string();
    let page = http
        .get(format!("{}{to}", app.base))
        .header(reqwest::header::COOKIE, cookie.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "is open on unit <code>{serial}</code>, under warranty"
        )),
        "{page}"
    );
    let claims = app.get(&format!("/units/{serial}/claims")).await.body["claims"].clone();
    assert_eq!(claims[0]["parts"], json!(["handle"]));
    // Without a store session, no claim.
    let anonymous = no_redirects()
        .post(format!("{}/store/claims", app.base))
        .form(&[
            ("serial", serial.as_str()),
            ("kind", "return"),
            ("reason", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn labels_print_alone_or_with_the_shipping_label(app: App) {
    let body = order_body(
        "l@example.com",
        "mug",
        json!({ "size": "M", "shape": "classic", "glaze": "#1d3557", "pattern": "none" }),
        2,
    );
    let order = app.place_ok(&body).await;
    let http = no_redirects();
    let cookie = console_cookie(&app, &http).await;
    let get = |path: String| {
        http.get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, cookie.clone())
            .send()
    };
    let before = get(format!("/console/orders/{order}/labels"))
        .await
        .unwrap();
    assert_eq!(before.status(), StatusCode::OK);
    assert!(before.text().await.unwrap().contains("No unit made yet"));
    make(&app, &order).await;
    let units = app.get(&format!("/orders/{order}/units")).await.body["units"].clone();
    let serials: Vec<&str> = units
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["serial"].as_str().unwrap())
        .collect();

    // The order's labels: one per unit, each with its code, and the
    // shipping label with the address.
    let page = get(format!("/console/orders/{order}/labels"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Print 2 labels"));
    assert!(
        page.contains("Shipping label of order"),
        "no shipping label"
    );
    assert!(page.contains("12 Analytical Way") || page.contains("Ship to"));
    for serial in &serials {
        assert!(page.contains(&format!("aria-label=\"Label of unit {serial}\"")));
        assert!(page.contains(&format!("/21/{serial}")));
    }
    assert_eq!(page.matches("<svg").count(), 2, "one QR code per unit");
    // A work order's, and one unit's alone: no shipping label.
    let wo = units[0]["work_order_id"].as_str().unwrap();
    let of_wo = get(format!("/console/work-orders/{wo}/labels"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(of_wo.contains("Print 2 labels") && !of_wo.contains("Shipping label"));
    let one = get(format!("/console/units/{}/label", serials[0]))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(one.contains("Print 1 label<") && one.contains("warranty until"));
    // Unknown ones are 404s; without signing in, nothing.
    let missing = get("/console/units/NOSUCH/label".into()).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let anonymous = reqwest::get(format!("{}/console/orders/{order}/labels", app.base))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn a_passport_names_the_purchase_its_material_came_from(app: App) {
    // 270 large mugs need 124.2 kg of clay; 120 kg are in stock: the rest
    // comes from a purchase, received before they are made.
    let body = order_body(
        "p@example.com",
        "mug",
        json!({ "size": "L", "shape": "classic", "glaze": "#1d3557", "pattern": "none" }),
        270,
    );
    let order = app.place_ok(&body).await;
    let suggestions = app.get("/purchase-suggestions").await.body["purchase_suggestions"].clone();
    let clay = suggestions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["material"] == "stoneware-clay" && s["order_id"] == order.as_str())
        .expect("a clay purchase")["id"]
        .as_str()
        .unwrap()
        .to_string();
    for s in suggestions.as_array().unwrap() {
        app.post(
            &format!(
                "/purchase-suggestions/{}/receive",
                s["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await
        .expect(StatusCode::OK);
    }
    make(&app, &order).await;
    let units = app.get(&format!("/orders/{order}/units")).await.body["units"].clone();
    assert_eq!(units.as_array().unwrap().len(), 270);
    let serial = units[0]["serial"].as_str().unwrap();
    let p = app
        .get_public(&format!("/units/{serial}/passport"))
        .await
        .body["payload"]
        .clone();
    let material = p["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["material"] == "stoneware-clay")
        .expect("clay on the passport")
        .clone();
    let lots = material["lots"].as_array().expect("lots").clone();
    assert_eq!(lots.len(), 2, "{lots:?}");
    assert_eq!(
        (&lots[0]["source"], &lots[0]["quantity"]),
        (&json!("opening_stock"), &json!("120"))
    );
    assert_eq!(lots[1]["source"], "purchase");
    assert_eq!(lots[1]["purchase"], clay.as_str());
    assert_eq!(lots[1]["quantity"], "4.2");
    assert!(lots[1]["received_at"].is_string());
}

async fn a_passport_says_what_the_catalog_version_ordered_from_said(app: App) {
    let order = app.place_ok(&made_mug_body("v@example.com")).await;
    let ordered_from = app.order(&order).await["lines"][0]["catalog_version"].clone();
    // A new version uses more clay per medium mug; this order was made to
    // the version it was ordered from.
    let files: Vec<Value> = kiln_app::demo::FILES
        .iter()
        .map(|(name, source)| {
            let source = if *name == "mug.toml" {
                assert!(source.contains("M = 0.38"));
                source.replace("M = 0.38", "M = 0.50")
            } else {
                source.to_string()
            };
            json!({ "name": name, "source": source })
        })
        .collect();
    app.call(
        "PUT",
        &format!("/api/v1/brands/{}/catalog", app.slug),
        Some(&app.key),
        Some(&json!({ "files": files })),
    )
    .await
    .expect(StatusCode::CREATED);
    make(&app, &order).await;
    let units = app.get(&format!("/orders/{order}/units")).await.body["units"].clone();
    let serial = units[0]["serial"].as_str().unwrap();
    let p = app
        .get_public(&format!("/units/{serial}/passport"))
        .await
        .body["payload"]
        .clone();
    assert_eq!(p["catalog_version"], ordered_from);
    let clay = p["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["material"] == "stoneware-clay")
        .expect("clay")
        .clone();
    assert_eq!(clay["quantity"], "0.38", "{clay}");
}

fn made_mug_body(email: &str) -> Value {
    order_body(
        email,
        "mug",
        json!({ "size": "M", "shape": "classic", "glaze": "#1d3557", "pattern": "none" }),
        1,
    )
}
