//! Product passports (issue 14): a unit made through the work-order API gets
//! a serial and a passport signed with the brand's Ed25519 key, which anyone
//! verifies with the brand's published JWK set: checked here with `ring` as
//! an outsider would, the payload read for what the unit is and for any
//! personal data. Runs on SQLite and, with `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::StatusCode;
use ring::signature::{ED25519, UnparsedPublicKey};
use serde_json::{Value, json};

api_tests!(
    made_units_carry_signed_passports_anyone_verifies,
    a_passport_survives_a_restart_and_the_key_stays_the_same,
    a_passport_after_a_restart_names_the_machines_work_done_ahead_left,
    the_label_leads_to_the_passport_page_and_carries_a_signed_summary,
    a_repair_or_remake_is_an_after_sales_order_on_the_schedule,
    a_rotated_key_keeps_old_passports_valid_and_a_revoked_one_does_not,
    the_offline_check_page_carries_the_brands_keys_and_its_service_worker,
);

/// Work done ahead of plan leaves its machine; a server restarted before
/// the work order is done still names that machine on the unit's passport.
async fn a_passport_after_a_restart_names_the_machines_work_done_ahead_left(app: App) {
    let body = order_body(
        "octavia@example.com",
        "mug",
        json!({ "size": "L", "shape": "tall", "glaze": "#1d3557", "pattern": "stripes" }),
        1,
    );
    let order = app.place_ok(&body).await;
    let wo = work_orders_of(&app.order(&order).await)[0].clone();
    let seqs = operation_seqs(&app, &wo).await;
    let (last, ahead) = seqs.split_last().expect("operations");
    for seq in ahead {
        work_operation(&app, &wo, *seq).await;
    }
    // Done at once, ahead of their slots: they left their machines, and
    // the rows keep which.
    let brand = app.kiln.brand(&app.slug).await.unwrap().brand.id.clone();
    let rows = app.store.bookings(&brand).await.unwrap();
    assert!(
        rows.iter().any(|r| r.machine < 0 && r.made_on.is_some()),
        "{rows:?}"
    );
    let restarted = app.restarted().await;
    work_operation(&restarted, &wo, *last).await;
    let units = restarted
        .get(&format!("/orders/{order}/units"))
        .await
        .expect(StatusCode::OK);
    let serial = units.body["units"][0]["serial"]
        .as_str()
        .unwrap()
        .to_string();
    let passport = restarted
        .get_public(&format!("/units/{serial}/passport"))
        .await
        .expect(StatusCode::OK);
    let operations = passport.body["payload"]["operations"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(operations.len(), seqs.len());
    for op in &operations {
        assert!(op["machine"].is_string(), "{op}");
    }
}

/// Makes `order` by starting and completing every operation of its work orders.
async fn make(app: &App, order: &str) {
    for wo in work_orders_of(&app.order(order).await) {
        make_work_order(app, &wo).await;
    }
}

/// Whether `jws` verifies with a key of `jwks` (by `kid`), and its payload.
fn verify(jwks: &Value, jws: &str) -> Result<Value, String> {
    let parts: Vec<&str> = jws.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err("not three parts".into());
    };
    let d = |x: &str| URL_SAFE_NO_PAD.decode(x).map_err(|e| e.to_string());
    let header: Value = serde_json::from_slice(&d(h)?).map_err(|e| e.to_string())?;
    if header["alg"] != "EdDSA" {
        return Err(format!("alg {}", header["alg"]));
    }
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .ok_or("unknown kid")?;
    assert_eq!(
        (&key["kty"], &key["crv"]),
        (&json!("OKP"), &json!("Ed25519"))
    );
    assert!(key.get("d").is_none(), "a private key is published");
    let public = d(key["x"].as_str().unwrap())?;
    UnparsedPublicKey::new(&ED25519, public)
        .verify(format!("{h}.{p}").as_bytes(), &d(s)?)
        .map_err(|_| "bad signature".to_string())?;
    serde_json::from_slice(&d(p)?).map_err(|e| e.to_string())
}

async fn made_units_carry_signed_passports_anyone_verifies(app: App) {
    let body = order_body(
        "perpetua@example.com",
        "mug",
        json!({ "size": "L", "shape": "tall", "glaze": "#1d3557", "pattern": "stripes" }),
        2,
    );
    let order = app.place_ok(&body).await;
    let sku = app.order(&order).await["lines"][0]["sku"]
        .as_str()
        .unwrap()
        .to_string();
    // Nothing made, nothing to show yet.
    let none = app
        .get(&format!("/orders/{order}/units"))
        .await
        .expect(StatusCode::OK);
    assert!(none.body["units"].as_array().unwrap().is_empty());
    make(&app, &order).await;

    let units = app
        .get(&format!("/orders/{order}/units"))
        .await
        .expect(StatusCode::OK);
    let units = units.body["units"].as_array().unwrap().clone();
    assert_eq!(units.len(), 2, "{units:?}");
    let wo = units[0]["work_order_id"].as_str().unwrap();
    let of_wo = app
        .get(&format!("/work-orders/{wo}/units"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(of_wo.body["units"].as_array().unwrap().len(), 2);

    // The keys are public: no brand key needed.
    let jwks = app
        .get_public("/passport-keys")
        .await
        .expect(StatusCode::OK)
        .body;
    for u in &units {
        let serial = u["serial"].as_str().unwrap();
        assert!(serial.len() <= 20 && serial.chars().all(|c| c.is_ascii_alphanumeric()));
        let public = app
            .get_public(&format!("/units/{serial}/passport"))
            .await
            .expect(StatusCode::OK);
        let jws = public.body["passport"].as_str().unwrap();
        assert_eq!(jws, u["passport"].as_str().unwrap());
        let p = verify(&jwks, jws).expect("the passport verifies");
        assert_eq!(p, public.body["payload"]);
        assert_eq!(p["serial"], serial);
        assert_eq!(p["sku"], sku.as_str());
        assert_eq!(p["configuration"]["glaze"], "#1d3557");
        let text = p.to_string();
        for material in ["stoneware-clay", "glaze", "pattern-decal"] {
            assert!(text.contains(material), "{material} missing: {text}");
        }
        // Made at once, ahead of plan: each operation still names the
        // machine it was planned on.
        for op in p["operations"].as_array().unwrap() {
            assert!(
                op["work_center"].is_string()
                    && op["completed_at"].is_string()
                    && op["machine"].is_string(),
                "{op}"
            );
        }
        // 24 months of warranty from the day it was made.
        let made: jiff::Timestamp = p["made_at"].as_str().unwrap().parse().unwrap();
        let until = made
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .checked_add(jiff::Span::new().months(24))
            .unwrap();
        assert_eq!(p["warranty_until"], until.to_string());
        // No personal data.
        for personal in [
            "Ada Lovelace",
            "perpetua@example.com",
            "12 Analytical Way",
            "N1 9GU",
            &order,
        ] {
            assert!(
                !text.contains(personal),
                "{personal} is in the passport: {text}"
            );
        }
        // One byte changed in the payload: refused.
        let parts: Vec<&str> = jws.split('.').collect();
        let mut raw = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let at = raw.iter().position(|b| *b == b'L').unwrap();
        raw[at] = b'M';
        let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(raw), parts[2]);
        assert_eq!(verify(&jwks, &forged), Err("bad signature".to_string()));
    }
    assert_ne!(units[0]["serial"], units[1]["serial"]);
    app.get_public("/units/NOSUCHSERIAL/passport")
        .await
        .problem(StatusCode::NOT_FOUND);
    // Staff routes need their scope.
    let anonymous = app
        .get_with_key(&format!("/orders/{order}/units"), None)
        .await;
    anonymous.problem(StatusCode::UNAUTHORIZED);
}

async fn a_passport_survives_a_restart_and_the_key_stays_the_same(app: App) {
    let first = app.place_ok(&mug("a@example.com")).await;
    make(&app, &first).await;
    let before = app.get(&format!("/orders/{first}/units")).await.body["units"].clone();
    let again = app.restarted().await;
    let after = again.get(&format!("/orders/{first}/units")).await.body["units"].clone();
    assert_eq!(before, after);
    let second = again.place_ok(&mug("b@example.com")).await;
    make(&again, &second).await;
    let units = again.get(&format!("/orders/{second}/units")).await.body["units"].clone();
    assert_eq!(
        units[0]["kid"], before[0]["kid"],
        "one key signs until it rotates"
    );
    let jwks = again.get_public("/passport-keys").await.body;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    verify(&jwks, units[0]["passport"].as_str().unwrap()).expect("verifies");
}

async fn the_label_leads_to_the_passport_page_and_carries_a_signed_summary(app: App) {
    let order = app.place_ok(&mug("c@example.com")).await;
    make(&app, &order).await;
    let units = app.get(&format!("/orders/{order}/units")).await.body["units"].clone();
    let serial = units[0]["serial"].as_str().unwrap().to_string();

    // The QR code, as SVG, for anyone.
    let qr = app
        .http
        .get(app.brand_url(&format!("/units/{serial}/qr.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), StatusCode::OK);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));

    // What it encodes: a GS1 Digital Link URI with the serial as AI 21 and a
    // signed summary of the passport, which verifies offline.
    let uri = app
        .kiln
        .label_uri(&app.slug, &serial, "https://kiln.example")
        .await
        .unwrap();
    // The demo mug has a GTIN: the URI is GS1's `/01/{gtin}/21/{serial}`
    // at the server's root.
    assert!(
        uri.starts_with(&format!(
            "https://kiln.example/01/09506000134352/21/{serial}?pp=eyJ"
        )),
        "{uri}"
    );
    assert!(
        uri.len() < 700,
        "a QR code a phone reads: {} characters",
        uri.len()
    );
    let jwks = app.get_public("/passport-keys").await.body;
    let summary = verify(&jwks, &kiln_app::passport::find_jws(&uri).unwrap()).unwrap();
    assert_eq!(summary["serial"], serial.as_str());
    let full = units[0]["passport"].as_str().unwrap();
    use sha2::Digest as _;
    assert_eq!(
        summary["passport_sha256"],
        hex::encode(sha2::Sha256::digest(full.as_bytes()))
    );

    // The page it opens says what the unit is and that the label verifies.
    let path = uri.trim_start_matches("https://kiln.example");
    let page = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for shown in [
        "Ceramic mug",
        serial.as_str(),
        "Stoneware clay",
        "label verifies",
        "until ",
        "09506000134352",
    ] {
        assert!(page.contains(shown), "{shown} missing: {page}");
    }
    // The root URI opens the same page, the GTIN written short (GTIN-13)
    // too; a GTIN that is not the unit's, or not a GTIN at all, leads
    // nowhere.
    let http = no_redirects();
    let short = format!("{}/01/9506000134352/21/{serial}", app.base);
    let same = http.get(short).send().await.unwrap();
    assert_eq!(same.status(), StatusCode::OK);
    assert!(same.text().await.unwrap().contains(&serial));
    for wrong in ["00036000291452", "09506000134353", "abc"] {
        let r = http
            .get(format!("{}/01/{wrong}/21/{serial}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{wrong}");
    }
    let forged = format!(
        "{}/shop/{}/21/{serial}?pp=eyJhbGciOiJFZERTQSJ9.e30.c2ln",
        app.base, app.slug
    );
    let page = app
        .http
        .get(forged)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("does not verify"), "{page}");
    // The order lists its units' passports, for staff and for the customer.
    let http = no_redirects();
    let key = console_cookie(&app, &http).await;
    let console = http
        .get(format!("{}/console/orders/{order}", app.base))
        .header(reqwest::header::COOKIE, key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        console.contains(&format!("Passport of unit <code>{serial}</code>")),
        "{console}"
    );
    assert!(console.contains(&format!("/units/{serial}/qr.svg")));
    let placed = app
        .kiln
        .order(&app.slug, &kiln_domain::OrderId::from(order.clone()))
        .await
        .unwrap();
    let mine = app
        .http
        .get(format!(
            "{}/shop/{}/orders/{order}?token={}",
            app.base, app.slug, placed.access_token
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        mine.contains(&format!("/shop/{}/21/{serial}", app.slug)),
        "{mine}"
    );
    let missing = app
        .http
        .get(format!("{}/shop/{}/21/NOSUCH", app.base, app.slug))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn a_repair_or_remake_is_an_after_sales_order_on_the_schedule(app: App) {
    let order = app.place_ok(&mug("d@example.com")).await;
    make(&app, &order).await;
    let units = app.get(&format!("/orders/{order}/units")).await.body["units"].clone();
    let serial = units[0]["serial"].as_str().unwrap().to_string();
    let sku = units[0]["sku"].as_str().unwrap().to_string();
    let claims = format!("/units/{serial}/claims");

    // Bad claims are refused, every field at once; an unknown unit is a 404.
    let eleven: Vec<String> = (0..11).map(|i| format!("part {i}")).collect();
    let paths = app
        .post(
            &claims,
            &json!({ "kind": "warranty", "reason": " ", "parts": eleven }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/reason", "/parts"]);
    app.post(
        "/units/NOSUCH/claims",
        &json!({ "kind": "warranty", "reason": "x" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    let opened = app
        .post(
            &claims,
            &json!({ "kind": "warranty", "reason": "The handle cracked after a week", "parts": ["handle"] }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(opened["status"], "open");
    assert_eq!(opened["in_warranty"], true, "{opened}");
    assert_eq!(opened["parts"], json!(["handle"]));
    let id = opened["id"].as_str().unwrap().to_string();

    // Rejecting needs a reason.
    let decide = format!("/claims/{id}/decision");
    let paths = app
        .post(&decide, &json!({ "decision": "reject" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/note"]);

    // Repair: a work order through the mug's repair routing, in the queues.
    let decided = app
        .post(
            &decide,
            &json!({ "decision": "repair", "note": "reglaze the handle" }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(decided["status"], "repair");
    let wo = decided["work_order_id"]
        .as_str()
        .expect("a repair work order")
        .to_string();
    let repair = app
        .get(&format!("/work-orders/{wo}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(repair["sku"], format!("REPAIR-{sku}"));
    assert_eq!(repair["quantity"], 1);
    let steps: Vec<&str> = repair["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["work_center"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["glazing", "kiln"]);
    let open = app.get("/work-orders").await.body["work_orders"].to_string();
    assert!(
        open.contains(&wo),
        "the repair is not in the open work orders"
    );
    // It travels as a free after-sales order to the same customer, planned
    // on the live schedule: the claim carries the date it promises.
    let aso = decided["after_sales_order_id"]
        .as_str()
        .expect("an after-sales order")
        .to_string();
    let promised = decided["promised_date"].as_str().expect("a promise");
    let after = app.order(&aso).await;
    assert_eq!(after["channel"], "after_sales");
    assert_eq!(after["promised_date"], promised);
    assert_eq!(after["customer"]["email"], "d@example.com");
    assert_eq!(
        (&after["total"], &after["shipping"]),
        (&json!("0"), &json!("0"))
    );
    assert_eq!(after["payment"]["status"], "paid");
    assert_eq!(after["lines"][0]["work_order_id"], wo.as_str());
    let schedule = app
        .get("/schedule?days=60")
        .await
        .expect(StatusCode::OK)
        .text;
    assert!(schedule.contains(&aso), "the repair is not on the schedule");
    // A client cannot place one itself.
    let mut forged = mug("f@example.com");
    forged["channel"] = json!("after_sales");
    let paths = app
        .post("/orders", &forged)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/channel"]);
    // Decided once.
    app.post(&decide, &json!({ "decision": "refund" }))
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(
        app.get(&format!("/claims/{id}")).await.body["status"],
        "repair"
    );
    assert_eq!(
        app.get(&claims).await.body["claims"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The order's timeline says both steps; both went out as events.
    let timeline = app.order(&order).await["timeline"].to_string();
    assert!(
        timeline.contains("Warranty claim") && timeline.contains("decided: repair"),
        "{timeline}"
    );
    let events = app.get("/events").await.expect(StatusCode::OK).text;
    assert!(
        events.contains("claim.opened") && events.contains("claim.decided"),
        "{events}"
    );

    // The repair made: the unit keeps its serial and passport, no new unit.
    make(&app, &aso).await;
    assert_eq!(app.order(&aso).await["status"], "made");
    let after_units = app.get(&format!("/orders/{aso}/units")).await.body["units"].clone();
    assert_eq!(after_units, json!([]), "a repair issued a new unit");

    // A remake: the same SKU through its production routing, a new unit
    // with its own passport, and still on the schedule after a restart.
    let second = app
        .post(
            &claims,
            &json!({ "kind": "return", "reason": "Arrived chipped" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let remade = app
        .post(
            &format!("/claims/{}/decision", second["id"].as_str().unwrap()),
            &json!({ "decision": "remake" }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let remake = remade["work_order_id"].as_str().unwrap().to_string();
    let w = app.get(&format!("/work-orders/{remake}")).await.body;
    assert_eq!(w["sku"], sku.as_str());
    let again = app.restarted().await;
    let aso = remade["after_sales_order_id"].as_str().unwrap().to_string();
    let schedule = again.get("/schedule?days=60").await.text;
    assert!(
        schedule.contains(&aso),
        "the remake left the schedule on restart"
    );
    make(&again, &aso).await;
    let new_units = again.get(&format!("/orders/{aso}/units")).await.body["units"].clone();
    assert_eq!(new_units.as_array().map(Vec::len), Some(1), "{new_units}");
    assert_eq!(new_units[0]["sku"], sku.as_str());
    assert_ne!(new_units[0]["serial"], serial.as_str());
}

async fn a_rotated_key_keeps_old_passports_valid_and_a_revoked_one_does_not(app: App) {
    let first = app.place_ok(&mug("f@example.com")).await;
    make(&app, &first).await;
    let old = app.get(&format!("/orders/{first}/units")).await.body["units"][0].clone();
    let old_kid = old["kid"].as_str().unwrap().to_string();

    let rotated = app
        .post("/passport-keys", &json!({}))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let new_kid = rotated["keys"][0]["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);
    let second = app.place_ok(&mug("g@example.com")).await;
    make(&app, &second).await;
    let new = app.get(&format!("/orders/{second}/units")).await.body["units"][0].clone();
    assert_eq!(new["kid"], new_kid.as_str());
    // Both published: old passports still verify.
    let jwks = app.get_public("/passport-keys").await.body;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    verify(&jwks, old["passport"].as_str().unwrap()).expect("the old passport verifies");
    verify(&jwks, new["passport"].as_str().unwrap()).expect("the new passport verifies");

    // The old key leaked: revoked, it leaves the set and its passports fail.
    let revoke = format!("/api/v1/brands/{}/passport-keys/{old_kid}", app.slug);
    let done = app.call("DELETE", &revoke, Some(&app.key), None).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT);
    let jwks = app.get_public("/passport-keys").await.body;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(
        verify(&jwks, old["passport"].as_str().unwrap()),
        Err("unknown kid".to_string())
    );
    app.call("DELETE", &revoke, Some(&app.key), None)
        .await
        .problem(StatusCode::NOT_FOUND);
    let audit = app.get("/audit").await.body.to_string();
    assert!(audit.contains("passport_key.rotated") && audit.contains("passport_key.revoked"));
}

/// A page of the shop (not the API): its status, headers and text.
async fn shop_page(app: &App, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = app
        .http
        .get(format!("{}/shop/{}{path}", app.base, app.slug))
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

async fn the_offline_check_page_carries_the_brands_keys_and_its_service_worker(app: App) {
    let order = app.place_ok(&mug("v@example.com")).await;
    make(&app, &order).await;
    let old_kid = app.get(&format!("/orders/{order}/units")).await.body["units"][0]["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let rotated = app
        .post("/passport-keys", &json!({}))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let new_kid = rotated["keys"][0]["kid"].as_str().unwrap().to_string();

    // The page carries the brand's key set inline, as the API publishes it,
    // and runs no inline script: only the data block and `<script src>`.
    let (status, _, page) = shop_page(&app, "/verify").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        old_kid.as_str(),
        new_kid.as_str(),
        "Passport, label link or code",
        "Scan the label",
        "Or choose a photo of the label",
        "aria-live=\"polite\"",
        "<script src=\"/static/verify.js\"",
    ] {
        assert!(page.contains(shown), "{shown} missing: {page}");
    }
    let open = "<script type=\"application/json\" id=\"passport-keys\">";
    let inline = &page[page.find(open).expect("no key set inline") + open.len()..];
    let inline: Value = serde_json::from_str(&inline[..inline.find("</script>").unwrap()]).unwrap();
    assert_eq!(inline, app.get_public("/passport-keys").await.body);
    for script in page.split("<script").skip(1) {
        let tag = &script[..script.find('>').unwrap()];
        assert!(
            tag.contains(" src=") || tag.contains("type=\"application/json\""),
            "an inline script: <script{tag}>"
        );
    }

    // A revoked key leaves the page's set at once.
    let revoke = format!("/api/v1/brands/{}/passport-keys/{old_kid}", app.slug);
    let done = app.call("DELETE", &revoke, Some(&app.key), None).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT);
    let (_, _, page) = shop_page(&app, "/verify").await;
    assert!(
        !page.contains(&old_kid) && page.contains(&new_kid),
        "{page}"
    );

    // Its script, and the service worker that keeps them both offline.
    let script = app
        .http
        .get(format!("{}/static/verify.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("crypto.subtle.verify")
    );
    let (status, headers, worker) = shop_page(&app, "/verify-sw.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"),
        "{headers:?}"
    );
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(
        worker.contains(&format!("const BRAND = \"{}\";", app.slug)),
        "{worker}"
    );
    assert!(worker.contains("addEventListener(\"fetch\""), "{worker}");

    // No such brand: no page, no worker.
    for path in ["/shop/nosuchbrand/verify", "/shop/nosuchbrand/verify-sw.js"] {
        let r = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
}
