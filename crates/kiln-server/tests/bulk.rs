//! Bulk orders (issue 12): a business buyer's CSV quoted with every bad row
//! reported by its line and column and no good row lost, then accepted as
//! one order, once, at the quote's prices. Runs on SQLite and, with
//! `KILN_TEST_POSTGRES`, PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

api_tests!(
    a_template_lists_every_column,
    a_csv_is_quoted_with_every_bad_row_at_once,
    an_unknown_column_is_named_once_and_its_rows_left_out,
    a_file_without_a_good_row_is_a_problem_naming_each,
    a_row_the_factory_cannot_plan_is_reported_and_the_rest_quoted,
    an_acceptance_the_schedule_no_longer_fits_names_its_row,
    header_names_in_capitals_are_read,
    a_file_of_many_bad_rows_lists_the_first_ten_thousand,
    an_accepted_quote_is_one_order_at_its_prices,
    the_console_quotes_an_upload_and_places_its_order,
    quantity_breaks_price_lines_orders_and_quotes,
    an_order_that_ships_as_ready_goes_line_by_line,
    a_buyer_quotes_and_orders_from_the_storefront,
    a_business_customer_orders_through_its_buyers,
    the_console_records_business_customers,
    a_complete_order_ships_one_shipment_per_recipient,
);

const HEADER: &str = "product,fabric,color,fit,collar,size,neck_cm,chest_cm,monogram,quantity,\
recipient_name,recipient_line1,recipient_city,recipient_postal_code,recipient_country";

/// A CSV of the demo shirt: the header, then `rows` (file line 2 onwards).
fn csv(rows: &[&str]) -> String {
    let mut out = String::from(HEADER);
    for r in rows {
        out.push_str("\r\n");
        out.push_str(r);
    }
    out.push_str("\r\n");
    out
}

async fn upload(app: &App, body: &str) -> Reply {
    let req = app
        .http
        .post(app.brand_url("/bulk-quotes"))
        .bearer_auth(&app.key)
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .body(body.to_string());
    Reply::from(req.send().await.unwrap()).await
}

/// (row, column) of each error, in order.
fn places(quote: &Value) -> Vec<(u64, String)> {
    quote["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A buyer's acceptance: who orders, where to.
fn acceptance() -> Value {
    json!({
        "customer": {"name": "Acme Uniforms", "email": "buyer@acme.example"},
        "ship_to": {"name": "Acme Uniforms", "line1": "5 Mill Lane", "city": "Leeds",
                    "postal_code": "LS1 4AP", "country": "GB"},
    })
}

/// Accepts quote `q` with `key` and `body` as the API's clients do.
async fn accept(app: &App, q: &Value, key: &str, body: &Value) -> Reply {
    let path = app.brand_url(&format!(
        "/bulk-quotes/{}/accept",
        q["id"].as_str().unwrap()
    ));
    let req = app
        .http
        .post(path)
        .bearer_auth(&app.key)
        .header("Idempotency-Key", key)
        .json(body);
    Reply::from(req.send().await.unwrap()).await
}

async fn a_template_lists_every_column(app: App) {
    let r = app
        .http
        .get(app.brand_url("/products/shirt/bulk-template.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), HEADER);
    // The example row is the product's defaults, and it quotes.
    let example = lines.next().unwrap();
    assert!(
        example.starts_with("shirt,poplin,#ffffff,regular,spread,M,"),
        "{example}"
    );
    upload(&app, &text).await.expect(StatusCode::CREATED);
    app.get_public("/products/no-such/bulk-template.csv")
        .await
        .expect(StatusCode::NOT_FOUND);
}

async fn a_csv_is_quoted_with_every_bad_row_at_once(app: App) {
    let body = csv(&[
        "shirt,oxford,,slim,button-down,L,,,ABC,10,Ada Buyer,1 Road,London,SW1Y 4JH,GB", // 2
        "shirt,,,,,M,,,,5,,,,,",                                                         // 3
        "hat,,,,,M,,,,1,,,,,",                     // 4 unknown product
        "shirt,silk,,,,M,,,,1,,,,,",               // 5 unknown value
        "shirt,,,,,M,60,,,1,,,,,",                 // 6 outside domain
        "shirt,linen,,slim,,M,,,,1,,,,,",          // 7 rule broken
        "shirt,,,,,M,,,ABCDE,1,,,,,",              // 8 text too long
        "shirt,,,,,M,,,,0,,,,,",                   // 9 quantity 0
        "shirt,,,,,M,,,,abc,,,,,",                 // 10 quantity abc
        "shirt,,,,,M,,,,1,Zoë,2 Rue,Paris,75001,", // 11 no country
        "shirt,,,,,M,,,,3,,,,,",                   // 12 same SKU as 3
        "shirt,,,,,M,,,,1,Ny,1 Base,Rothera,0,AQ", // 13 no carrier goes there
    ]);
    let q = upload(&app, &body).await.expect(StatusCode::CREATED).body;
    assert_eq!(
        places(&q),
        vec![
            (4, "product".into()),
            (5, "fabric".into()),
            (6, "neck_cm".into()),
            (7, "fabric".into()),
            (8, "monogram".into()),
            (9, "quantity".into()),
            (10, "quantity".into()),
            (11, "recipient_country".into()),
            (13, "recipient_country".into()),
        ],
        "{}",
        q["errors"]
    );
    let rule = &q["errors"][3]["message"];
    assert!(
        rule.as_str().unwrap().contains("Linen doesn't stretch"),
        "{rule}"
    );
    let unserved = &q["errors"][8]["message"];
    assert!(
        unserved.as_str().unwrap().contains("no carrier"),
        "{unserved}"
    );
    assert_eq!(q["rows"], 12);
    assert_eq!(q["good_rows"], 3);
    assert_eq!(q["bad_rows"], 9);
    assert_eq!(q["units"], 18);
    // Rows 3 and 12 are one SKU: one batch.
    let skus = q["skus"].as_array().unwrap();
    assert_eq!(skus.len(), 2, "{skus:?}");
    let batch = skus
        .iter()
        .find(|s| s["quantity"] == 8)
        .expect("rows 3 and 12 together");
    assert_eq!(batch["lines"], 2);
    // Oxford slim button-down L with a 3-letter monogram: 59 + 5 + 7.50.
    let first = &q["lines"][0];
    assert_eq!(first["row"], 2);
    assert_eq!(first["unit_price"], "71.50");
    assert_eq!(first["line_total"], "715.00");
    assert_eq!(first["recipient"]["country"], "GB");
    assert_eq!(
        first["selections"]["color"], "#ffffff",
        "a blank cell takes the default"
    );
    assert!(q["lines"][1].get("recipient").is_none());
    let goods: f64 = q["goods"].as_str().unwrap().parse().unwrap();
    let shipping: f64 = q["shipping"].as_str().unwrap().parse().unwrap();
    let total: f64 = q["total"].as_str().unwrap().parse().unwrap();
    assert!((goods - (715.0 + 8.0 * 59.0)).abs() < 0.001, "{goods}");
    assert!((total - goods - shipping).abs() < 0.001);
    let promised = q["promised_date"].as_str().unwrap();
    for l in q["lines"].as_array().unwrap() {
        assert!(l["promised_date"].as_str().unwrap() <= promised);
    }
    assert!(q["valid_until"].as_str().is_some());
    // The quote can be read again; nothing was booked by quoting.
    let id = q["id"].as_str().unwrap();
    let again = app
        .get(&format!("/bulk-quotes/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(again.body["lines"], q["lines"]);
    // Only CSV is taken.
    let json = app
        .http
        .post(app.brand_url("/bulk-quotes"))
        .bearer_auth(&app.key)
        .json(&json!({"rows": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // And only with a key that may order.
    let anonymous = app
        .http
        .post(app.brand_url("/bulk-quotes"))
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn an_unknown_column_is_named_once_and_its_rows_left_out(app: App) {
    let body = format!(
        "{HEADER},sleeve\r\n{}\r\n{}\r\n{}\r\n",
        "shirt,,,,,M,,,,1,,,,,,", "shirt,,,,,L,,,,1,,,,,,long", "shirt,,,,,S,,,,1,,,,,,",
    );
    let q = upload(&app, &body).await.expect(StatusCode::CREATED).body;
    assert_eq!(places(&q), vec![(1, "sleeve".into())], "{}", q["errors"]);
    let message = q["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("`sleeve`") && message.contains("left out"),
        "{message}"
    );
    let rows: Vec<u64> = q["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, vec![2, 4]);
    // The row left out is a bad row, and the message says which it is.
    assert_eq!(q["bad_rows"], 1);
    assert_eq!(q["good_rows"], 2);
    assert!(message.contains("(line 3)"), "{message}");
}

async fn a_file_without_a_good_row_is_a_problem_naming_each(app: App) {
    let r = upload(
        &app,
        &csv(&["shirt,,,,,M,,,,0,,,,,", "hat,,,,,M,,,,1,,,,,"]),
    )
    .await;
    let paths = r.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, vec!["/rows/2/quantity", "/rows/3/product"]);
    // A file that is not a table of lines at all.
    let r = upload(&app, "name,size\r\nAda,M\r\n").await;
    assert_eq!(
        r.problem(StatusCode::UNPROCESSABLE_ENTITY),
        vec!["/rows/1/product"]
    );
}

async fn a_row_the_factory_cannot_plan_is_reported_and_the_rest_quoted(app: App) {
    // Rows of ten thousand shirts, more than two years of the sewing
    // room: the factory cannot plan them all within its horizon.
    let alone = upload(&app, &csv(&["shirt,,,,,M,,,,2,,,,,"]))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let mut rows = vec!["shirt,,,,,M,,,,2,,,,,"];
    rows.extend(std::iter::repeat_n("shirt,,,,,L,,,,10000,,,,,", 3));
    let q = upload(&app, &csv(&rows))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let errors = q["errors"].as_array().unwrap();
    assert!(
        !errors.is_empty(),
        "every row planned: {}",
        q["promised_date"]
    );
    for e in errors {
        assert_eq!(e["column"], "quantity", "{e}");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains("cannot plan this row"), "{message}");
    }
    let lines = q["lines"].as_array().unwrap();
    assert_eq!(lines[0]["row"], 2);
    // The rows left out take nothing from the others: the good row is
    // promised as it is alone.
    assert_eq!(
        lines[0]["promised_date"],
        alone["lines"][0]["promised_date"]
    );
    assert_eq!(lines.len() + errors.len(), 4);
    assert_eq!(q["bad_rows"].as_u64().unwrap() as usize, errors.len());
    // The quote holds for what it lists: accepted, it is one order of them.
    let accepted = accept(&app, &q, "unplanned-1", &acceptance())
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(
        accepted["order"]["lines"].as_array().unwrap().len(),
        lines.len()
    );
}

async fn a_file_of_many_bad_rows_lists_the_first_ten_thousand(app: App) {
    let mut rows = vec!["shirt,,,,,M,,,,2,,,,,"];
    rows.extend(std::iter::repeat_n("hat,,,,,M,,,,1,,,,,", 10_050));
    let q = upload(&app, &csv(&rows))
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(q["errors"].as_array().unwrap().len(), 10_000);
    assert_eq!(q["errors_omitted"], 50);
    assert_eq!(q["bad_rows"], 10_050);
    assert_eq!(q["lines"].as_array().unwrap().len(), 1);
    // No good row: the problem lists as many, and says how many there are.
    let r = upload(&app, &csv(&rows[1..])).await;
    let detail = r.body["detail"].as_str().unwrap_or_default().to_string();
    assert_eq!(r.problem(StatusCode::UNPROCESSABLE_ENTITY).len(), 10_000);
    assert!(
        detail.contains("10050 problems, the first 10000 listed"),
        "{detail}"
    );
}

async fn an_acceptance_the_schedule_no_longer_fits_names_its_row(app: App) {
    // Two quotes that each fit the factory alone, not both.
    let rows = vec!["shirt,,,,,L,,,,3000,,,,,"; 2];
    let first = upload(&app, &csv(&rows))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let second = upload(&app, &csv(&rows))
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(first["errors"], json!([]), "{}", first["errors"]);
    assert_eq!(second["errors"], json!([]), "{}", second["errors"]);
    accept(&app, &first, "fill-1", &acceptance())
        .await
        .expect(StatusCode::CREATED);
    let refused = accept(&app, &second, "fill-2", &acceptance())
        .await
        .expect(StatusCode::CONFLICT)
        .body;
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("row 2 of the quote") && detail.contains("upload the file again"),
        "{detail}"
    );
}

async fn header_names_in_capitals_are_read(app: App) {
    let body = HEADER
        .replace("product", "Product")
        .replace("quantity", "QUANTITY")
        .replace("size", "Size");
    let q = upload(&app, &format!("{body}\r\nshirt,,,,,L,,,,3,,,,,\r\n"))
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(q["errors"], json!([]), "{}", q["errors"]);
    assert_eq!(q["lines"][0]["quantity"], 3);
    assert_eq!(q["lines"][0]["selections"]["size"], "L");
}

async fn an_accepted_quote_is_one_order_at_its_prices(app: App) {
    let q = upload(
        &app,
        &csv(&[
            "shirt,oxford,,,button-down,L,,,ABC,4,Ada Buyer,1 Road,London,SW1Y 4JH,gb",
            "shirt,,,,,M,,,,2,,,,,",
            "shirt,,,,,M,,,,0,,,,,",
        ]),
    )
    .await
    .expect(StatusCode::CREATED)
    .body;
    let id = q["id"].as_str().unwrap();
    let path = app.brand_url(&format!("/bulk-quotes/{id}/accept"));
    let acceptance = json!({
        "customer": {"name": "Acme Uniforms", "email": "buyer@acme.example"},
        "ship_to": {"name": "Acme Uniforms", "line1": "5 Mill Lane", "city": "Leeds",
                    "postal_code": "LS1 4AP", "country": "GB"},
        "shipping": "as_ready",
    });
    let accept = |key: Option<&str>| {
        let mut req = app.http.post(&path).bearer_auth(&app.key).json(&acceptance);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        async move { Reply::from(req.send().await.unwrap()).await }
    };
    assert_eq!(
        accept(None).await.problem(StatusCode::UNPROCESSABLE_ENTITY),
        vec!["Idempotency-Key"]
    );
    // Sent twice at once (a client that timed out and retried): one order,
    // both told of it.
    let (first, retried) = tokio::join!(accept(Some("acme-po-1")), accept(Some("acme-po-1")));
    let first = first.expect(StatusCode::CREATED).body;
    let retried = retried.expect(StatusCode::CREATED).body;
    assert_eq!(first["order_id"], retried["order_id"]);
    let again = accept(Some("acme-po-1"))
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(first["order_id"], again["order_id"]);
    // Quoted to the factory's own country, accepted in it: the same shipping.
    assert!(first["quoted_shipping"].is_string(), "{first}");
    assert_eq!(first["quoted_shipping"], first["shipping"], "{first}");
    let other = accept(Some("acme-po-2")).await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.text);
    let order = app.order(first["order_id"].as_str().unwrap()).await;
    assert_eq!(order["channel"], "b2b");
    assert_eq!(order["ship_policy"], "as_ready");
    assert_eq!(order["total"], q["total"]);
    assert_eq!(order["customer"]["name"], "Acme Uniforms");
    let lines = order["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["quantity"], 4);
    assert_eq!(lines[0]["unit_price"], q["lines"][0]["unit_price"]);
    assert_eq!(lines[0]["recipient"]["name"], "Ada Buyer");
    assert_eq!(lines[0]["recipient"]["country"], "GB");
    assert!(lines[1].get("recipient").is_none());
    for (l, ql) in lines.iter().zip(q["lines"].as_array().unwrap()) {
        assert!(l["promised_date"].as_str().is_some());
        assert_eq!(l["sku"], ql["sku"]);
    }
    // The quote now names its order.
    let read = app
        .get(&format!("/bulk-quotes/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(read.body["order_id"], first["order_id"]);
    // A moved promise is said, never hidden.
    if order["promised_date"] != q["promised_date"] {
        assert!(!first["moved"].as_array().unwrap().is_empty());
    }
}

async fn the_console_quotes_an_upload_and_places_its_order(app: App) {
    let http = no_redirects();
    let cookie = console_cookie(&app, &http).await;
    let page = |path: String| {
        let req = http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, cookie.clone());
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let start = page("/console/bulk".into()).await;
    assert!(
        start.contains("/products/shirt/bulk-template.csv"),
        "{start}"
    );
    // The upload, as a browser sends a file.
    let boundary = "kilnboundary7";
    let file = csv(&["shirt,,,,,M,,,,2,,,,,", "shirt,,,,,M,,,,0,,,,,"]);
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"po.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    let r = http
        .post(format!("{}/console/bulk", app.base))
        .header(reqwest::header::COOKIE, cookie.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/console/bulk?quote=quo_"), "{to}");
    let quote = page(to.clone()).await;
    assert!(quote.contains("1 row with problems"), "{quote}");
    assert!(quote.contains("is not a quantity"), "{quote}");
    let id = to.trim_start_matches("/console/bulk?quote=");
    let key = quote
        .split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an Idempotency-Key in the form")
        .to_string();
    let form = [
        ("key", key.as_str()),
        ("name", "Acme Uniforms"),
        ("email", "buyer@acme.example"),
        ("line1", "5 Mill Lane"),
        ("city", "Leeds"),
        ("postal_code", "LS1 4AP"),
        ("country", "gb"),
        ("shipping", "complete"),
    ];
    let accept = || {
        http.post(format!("{}/console/bulk/{id}/accept", app.base))
            .header(reqwest::header::COOKIE, cookie.clone())
            .form(&form)
            .send()
    };
    let placed = accept().await.unwrap();
    assert_eq!(placed.status(), StatusCode::SEE_OTHER);
    let order = placed.headers()["location"].to_str().unwrap().to_string();
    assert!(order.starts_with("/console/orders/ord_"), "{order}");
    // A double submit is the same order.
    let again = accept().await.unwrap();
    assert_eq!(again.headers()["location"].to_str().unwrap(), order);
    let shown = page(to).await;
    assert!(shown.contains("Accepted:"), "{shown}");
}

/// A decimal the API shows, as a string or a number.
fn dec(v: &Value) -> rust_decimal::Decimal {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.to_string().parse().unwrap(),
    }
}

/// The demo shirt's "Volume price": -2.00 a shirt from 50 shirts in the
/// order, -4.00 from 500 (tiers of one label: the highest reached only).
async fn quantity_breaks_price_lines_orders_and_quotes(app: App) {
    let price_of = |quantity: u32| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/products/shirt/configure",
                    &json!({ "selections": {"size": "M"}, "quantity": quantity }),
                )
                .await
                .expect(StatusCode::OK)
                .body;
            r["price"].clone()
        }
    };
    let one = price_of(1).await;
    let volume = |p: &Value| -> Vec<(rust_decimal::Decimal, u64)> {
        p["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["label"] == "Volume price")
            .map(|l| (dec(&l["amount"]), l["from_units"].as_u64().unwrap()))
            .collect()
    };
    assert!(volume(&one).is_empty(), "{one}");
    let single = dec(&one["total"]);
    let sixty = price_of(60).await;
    assert_eq!(volume(&sixty), vec![("-2.00".parse().unwrap(), 50)]);
    assert_eq!(dec(&sixty["total"]), single - rust_decimal::Decimal::TWO);
    let many = price_of(600).await;
    assert_eq!(volume(&many), vec![("-4.00".parse().unwrap(), 500)]);

    // Two lines of 30 shirts: the order's 60 shirts reach the break.
    let mut body = order_body("buyer@acme.example", "shirt", json!({"size": "M"}), 30);
    body["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"product": "shirt", "selections": {"size": "L"}, "quantity": 30}));
    let order = app.order(&app.place_ok(&body).await).await;
    assert_eq!(
        dec(&order["lines"][0]["unit_price"]),
        single - rust_decimal::Decimal::TWO,
        "{order}"
    );
    // 30 shirts alone do not.
    let alone = app
        .order(
            &app.place_ok(&order_body(
                "b@acme.example",
                "shirt",
                json!({"size": "M"}),
                30,
            ))
            .await,
        )
        .await;
    assert_eq!(dec(&alone["lines"][0]["unit_price"]), single);

    // A quote lists the breaks of each line, and its acceptance keeps them.
    let q = upload(
        &app,
        &csv(&["shirt,,,,,M,,,,30,,,,,", "shirt,,,,,L,,,,30,,,,,"]),
    )
    .await
    .expect(StatusCode::CREATED)
    .body;
    let line = &q["lines"][0];
    assert_eq!(
        dec(&line["unit_price"]),
        single - rust_decimal::Decimal::TWO
    );
    assert_eq!(line["quantity_breaks"][0]["label"], "Volume price");
    assert_eq!(line["quantity_breaks"][0]["from_units"], 50);
    assert_eq!(
        dec(&line["quantity_breaks"][0]["per_unit"]),
        "-2.00".parse().unwrap()
    );
    let accepted = accept(&app, &q, "volume-1", &acceptance())
        .await
        .expect(StatusCode::CREATED)
        .body;
    let placed = app.order(accepted["order_id"].as_str().unwrap()).await;
    assert_eq!(placed["total"], q["total"]);
}

async fn an_order_that_ships_as_ready_goes_line_by_line(app: App) {
    let mut body = order_body("ready@acme.example", "mug", json!({"size": "M"}), 1);
    body["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"product": "shirt", "selections": {"size": "L"}, "quantity": 1}));
    body["shipping"] = json!("as_ready");
    let id = app.place_ok(&body).await;
    let order = app.order(&id).await;
    assert_eq!(order["ship_policy"], "as_ready");
    let ship = |lines: Option<Vec<i64>>| {
        let app = &app;
        let path = format!("/orders/{id}/shipments");
        async move {
            let mut b = json!({"carrier": "DHL", "tracking_number": "JD0146"});
            if let Some(l) = lines {
                b["lines"] = json!(l);
            }
            app.post(&path, &b).await
        }
    };
    let early = ship(None).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
    let (mug_wo, shirt_wo) = (
        order["lines"][0]["work_order_id"].as_str().unwrap(),
        order["lines"][1]["work_order_id"].as_str().unwrap(),
    );
    make_work_order(&app, mug_wo).await;
    assert_eq!(app.order(&id).await["status"], "in_production");
    // The console offers to ship what is made.
    let http = no_redirects();
    let cookie = console_cookie(&app, &http).await;
    let page = http
        .get(format!("{}/console/orders/{id}", app.base))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Ship the lines made"), "{page}");
    let not_made = ship(Some(vec![2])).await;
    assert_eq!(not_made.status, StatusCode::CONFLICT);
    assert!(
        not_made.text.contains("line 2 is not made yet"),
        "{}",
        not_made.text
    );
    // The mug goes now, alone.
    let first = ship(None).await.expect(StatusCode::CREATED).body;
    assert_eq!(first["lines"], json!([1]));
    let again = ship(Some(vec![1])).await;
    assert!(
        again.text.contains("line 1 has shipped already"),
        "{}",
        again.text
    );
    let now = app.order(&id).await;
    assert_eq!(now["status"], "in_production", "one line to go");
    let last = now["timeline"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["note"]
            .as_str()
            .unwrap()
            .contains("line 1: DHL JD0146"),
        "{last}"
    );
    // It arrives: the order waits for its other line.
    let first_id = first["id"].as_str().unwrap();
    app.post(&format!("/shipments/{first_id}/delivered"), &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(app.order(&id).await["status"], "in_production");
    // The shirt is made and goes: shipped, then delivered.
    make_work_order(&app, shirt_wo).await;
    let second = ship(None).await.expect(StatusCode::CREATED).body;
    assert_eq!(second["lines"], json!([2]));
    assert_eq!(app.order(&id).await["status"], "shipped");
    let second_id = second["id"].as_str().unwrap();
    app.post(&format!("/shipments/{second_id}/delivered"), &json!({}))
        .await
        .expect(StatusCode::OK);
    let done = app.order(&id).await;
    assert_eq!(done["status"], "delivered");
    assert_eq!(done["shipments"].as_array().unwrap().len(), 2);

    // An order that ships complete goes whole, once made.
    let mut whole = order_body("whole@acme.example", "mug", json!({"size": "M"}), 1);
    whole["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"product": "mug", "selections": {"size": "L"}, "quantity": 1}));
    let whole_id = app.place_ok(&whole).await;
    let placed = app.order(&whole_id).await;
    for wo in work_orders_of(&placed) {
        make_work_order(&app, &wo).await;
    }
    let path = format!("/orders/{whole_id}/shipments");
    let part = app
        .post(
            &path,
            &json!({"carrier": "DHL", "tracking_number": "JD1", "lines": [1]}),
        )
        .await;
    assert_eq!(part.status, StatusCode::CONFLICT);
    assert!(part.text.contains("ships complete"), "{}", part.text);
    let all = app
        .post(&path, &json!({"carrier": "DHL", "tracking_number": "JD1"}))
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(all["lines"], json!([1, 2]));
    assert_eq!(app.order(&whole_id).await["status"], "shipped");
}

/// The storefront's business page: the buyer alone, no key, no staff. An
/// order placed there is unproven, as a public checkout is.
async fn a_buyer_quotes_and_orders_from_the_storefront(app: App) {
    // A customer the brand knows already, under the buyer's email.
    app.place_ok(&order_body("buyer@acme.example", "mug", json!({}), 1))
        .await;
    let http = no_redirects();
    let base = format!("{}/shop/{}/business", app.base, app.slug);
    let start = http.get(&base).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::OK);
    let start = start.text().await.unwrap();
    assert!(
        start.contains("/products/shirt/bulk-template.csv"),
        "{start}"
    );
    assert!(start.contains("Order for your company"), "{start}");
    let boundary = "kilnboundary9";
    let file = csv(&["shirt,,,,,M,,,,2,,,,,", "shirt,linen?,,,,M,,,,1,,,,,"]);
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"po.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    let r = http
        .post(&base)
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let prefix = format!("/shop/{}/business?quote=quo_", app.slug);
    assert!(to.starts_with(&prefix), "{to}");
    let quote = http
        .get(format!("{}{to}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(quote.contains("1 row with problems"), "{quote}");
    assert!(!quote.contains("/console/"), "no console link for a buyer");
    let id = to.split("quote=").nth(1).unwrap();
    let key = quote
        .split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let form = [
        ("key", key.as_str()),
        ("name", "Acme Uniforms"),
        ("email", "buyer@acme.example"),
        ("line1", "5 Mill Lane"),
        ("city", "Leeds"),
        ("postal_code", "LS1 4AP"),
        ("country", "GB"),
        ("shipping", "as_ready"),
    ];
    let placed = http
        .post(format!("{base}/{id}/accept"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::SEE_OTHER);
    let page = placed.headers()["location"].to_str().unwrap().to_string();
    let orders = format!("/shop/{}/orders/ord_", app.slug);
    assert!(
        page.starts_with(&orders) && page.contains("?token="),
        "{page}"
    );
    let order_id = page
        .trim_start_matches(&format!("/shop/{}/orders/", app.slug))
        .split('?')
        .next()
        .unwrap();
    let order = app.order(order_id).await;
    assert_eq!(order["channel"], "b2b");
    assert_eq!(order["ship_policy"], "as_ready");
    assert_eq!(
        order["customer_verified"], false,
        "a known email from the storefront proves nothing"
    );
    let mine = http
        .get(format!("{}{page}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), StatusCode::OK);
}

async fn a_business_customer_orders_through_its_buyers(app: App) {
    let address = |name: &str, city: &str| json!({"name": name, "line1": "5 Mill Lane", "city": city, "postal_code": "LS1 4AP", "country": "gb"});
    // Every bad field at once.
    let bad = app
        .post(
            "/business-customers",
            &json!({
                "company": "",
                "buyers": [{"name": "Bo", "email": "bo@acme.example"}, {"name": "", "email": "BO@acme.example"}],
                "billing_address": {"name": "Acme", "line1": "", "city": "Leeds", "postal_code": "LS1", "country": "Britain"},
            }),
        )
        .await;
    let paths = bad.problem(StatusCode::UNPROCESSABLE_ENTITY);
    for p in [
        "/company",
        "/buyers/1/name",
        "/buyers/1/email",
        "/billing_address/line1",
        "/billing_address/country",
    ] {
        assert!(paths.iter().any(|x| x == p), "{p} not in {paths:?}");
    }
    let acme = app
        .post(
            "/business-customers",
            &json!({
                "company": "Acme Uniforms",
                "tax_id": "GB123456789",
                "buyers": [
                    {"name": "Bo Buyer", "email": "bo@acme.example"},
                    {"name": "Cy Clerk", "email": "cy@acme.example", "phone": "+44 113 496 0000"},
                ],
                "billing_address": address("Acme Accounts", "Leeds"),
                "ship_to": address("Acme Stores", "Bradford"),
            }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let id = acme["id"].as_str().unwrap();
    assert!(id.starts_with("biz_"), "{id}");
    assert_eq!(acme["ship_to"]["country"], "GB");
    let list = app
        .get("/business-customers")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(list["business_customers"][0]["company"], "Acme Uniforms");
    let one = app
        .get(&format!("/business-customers/{id}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(one, acme);
    app.get("/business-customers/biz_nope")
        .await
        .expect(StatusCode::NOT_FOUND);

    // A quote accepted for Acme: only its buyers may order on its account.
    let q = upload(&app, &csv(&["shirt,,,,,M,,,,2,,,,,"]))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let accept = |key: &str, business: &str, email: &str| {
        let req = app
            .http
            .post(app.brand_url(&format!(
                "/bulk-quotes/{}/accept",
                q["id"].as_str().unwrap()
            )))
            .bearer_auth(&app.key)
            .header("Idempotency-Key", key)
            .json(&json!({
                "business_customer": business,
                "customer": {"name": "Cy Clerk", "email": email},
                "ship_to": acme["ship_to"],
            }));
        async move { Reply::from(req.send().await.unwrap()).await }
    };
    let stranger = accept("k1", id, "eve@evil.example").await;
    assert_eq!(
        stranger.problem(StatusCode::UNPROCESSABLE_ENTITY),
        vec!["/customer/email"]
    );
    let unknown = accept("k2", "biz_nope", "cy@acme.example").await;
    assert_eq!(
        unknown.problem(StatusCode::UNPROCESSABLE_ENTITY),
        vec!["/business_customer"]
    );
    let placed = accept("k3", id, "CY@acme.example")
        .await
        .expect(StatusCode::CREATED)
        .body;
    let order = app.order(placed["order_id"].as_str().unwrap()).await;
    assert_eq!(order["customer"]["name"], "Cy Clerk");
    assert_eq!(order["ship_to"]["city"], "Bradford");
    assert_eq!(order["channel"], "b2b");
}

async fn the_console_records_business_customers(app: App) {
    let http = no_redirects();
    let cookie = console_cookie(&app, &http).await;
    let url = format!("{}/console/business-customers", app.base);
    let post = |form: Vec<(&'static str, &'static str)>| {
        http.post(&url)
            .header(reqwest::header::COOKIE, cookie.clone())
            .form(&form)
            .send()
    };
    let mut form = vec![
        ("company", "Acme Uniforms"),
        ("tax_id", "GB123456789"),
        ("buyer_name", "Bo Buyer"),
        ("buyer_email", "not an email"),
        ("line1", "5 Mill Lane"),
        ("city", "Leeds"),
        ("postal_code", "LS1 4AP"),
        ("country", "gb"),
    ];
    let bad = post(form.clone()).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = bad.text().await.unwrap();
    assert!(
        text.contains("Buyer&#39;s email: an email address"),
        "{text}"
    );
    assert!(
        text.contains("value=\"Acme Uniforms\""),
        "the form keeps what was typed"
    );
    form[3] = ("buyer_email", "bo@acme.example");
    let made = post(form).await.unwrap();
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let list = app
        .get("/business-customers")
        .await
        .expect(StatusCode::OK)
        .body;
    let acme = &list["business_customers"][0];
    assert_eq!(acme["company"], "Acme Uniforms");
    assert_eq!(acme["ship_to"]["country"], "GB");
    assert_eq!(acme["buyers"][0]["email"], "bo@acme.example");
    let page = http
        .get(format!("{}/console/bulk", app.base))
        .header(reqwest::header::COOKIE, cookie.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/console/business-customers"), "{page}");
}

async fn a_complete_order_ships_one_shipment_per_recipient(app: App) {
    // Two people at one postal code, and the buyer's own address: three
    // recipients, three shipments, however the order ships complete.
    let q = upload(
        &app,
        &csv(&[
            "shirt,,,,,M,,,,1,Ann Field,1 Mill Lane,Leeds,LS1 4AP,GB",
            "shirt,,,,,L,,,,1,Bob Stone,9 Mill Lane,Leeds,LS1 4AP,GB",
            "shirt,,,,,S,,,,2,,,,,",
        ]),
    )
    .await
    .expect(StatusCode::CREATED)
    .body;
    let placed = accept(&app, &q, "acme-three", &acceptance())
        .await
        .expect(StatusCode::CREATED)
        .body;
    let id = placed["order_id"].as_str().unwrap().to_string();
    let order = app.order(&id).await;
    assert_eq!(order["ship_policy"], "complete");
    for wo in work_orders_of(&order) {
        make_work_order(&app, &wo).await;
    }
    let mut names = Vec::new();
    for _ in 0..3 {
        let s = app
            .post(&format!("/orders/{id}/shipments"), &json!({}))
            .await
            .expect(StatusCode::CREATED)
            .body;
        assert_eq!(s["lines"].as_array().unwrap().len(), 1, "{s}");
        let sid = s["id"].as_str().unwrap().to_string();
        let label = app.get(&format!("/shipments/{sid}/label.svg")).await;
        for name in ["Ann Field", "Bob Stone", "Acme Uniforms"] {
            if label.text.contains(name) {
                names.push(name);
            }
        }
        app.post(&format!("/shipments/{sid}/delivered"), &json!({}))
            .await
            .expect(StatusCode::OK);
    }
    names.sort_unstable();
    assert_eq!(names, ["Acme Uniforms", "Ann Field", "Bob Stone"]);
    app.post(&format!("/orders/{id}/shipments"), &json!({}))
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(app.order(&id).await["status"], "delivered");
}
