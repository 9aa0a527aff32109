//! Defects a first walk through the storefront found (issue 17), each held
//! down over HTTP against a real server: the quantity the panel prices and
//! promises, a shared design's wording, and input the API must refuse
//! (a quantity of 0, a downtime in the year 9999, a sale dated after today),
//! and no promise on a day nobody delivers.
//! Runs on SQLite and, with `KILN_TEST_POSTGRES`, on PostgreSQL (`mod
//! postgres`), as `tests/api.rs` explains.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

api_tests!(
    a_quantity_outside_its_range_is_refused,
    no_delivery_is_promised_on_a_sunday,
    texts_hold_only_what_their_option_and_field_allow,
    the_cart_and_checkout_promise_each_line_and_say_when_it_slipped,
    a_link_cannot_put_words_on_the_console,
    console_actions_say_what_they_did,
    a_clerk_finds_customers_by_part_of_a_name_an_email_or_a_phone,
    the_order_page_echoes_the_address_and_how_to_pay,
    downtimes_far_ahead_and_sales_after_today_are_refused,
    the_panel_keeps_the_quantity_and_prices_and_promises_it,
    a_shared_design_is_announced_as_saved_only_to_who_saved_it,
    the_cart_draws_each_line_and_its_quantity_can_change,
    a_clerk_carries_the_found_customer_into_an_order_and_takes_payment,
    every_size_and_style_draws_differently_and_in_proportion,
    orders_pay_shipping_below_the_free_threshold_and_say_their_tax,
    a_refused_text_stays_in_its_field_with_why_and_holds_the_order_back,
);

async fn a_quantity_outside_its_range_is_refused(app: App) {
    let selections = json!({ "size": "L", "shape": "tall" });
    for quantity in [0, 10_001] {
        let body = json!({ "selections": selections, "quantity": quantity });
        let paths = app
            .post("/products/mug/configure", &body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(paths, ["/quantity"], "quantity {quantity}");
    }
    let one = app
        .post(
            "/products/mug/configure",
            &json!({ "selections": selections }),
        )
        .await
        .expect(StatusCode::OK);
    let many = app
        .post(
            "/products/mug/configure",
            &json!({ "selections": selections, "quantity": 400 }),
        )
        .await
        .expect(StatusCode::OK);
    let date = |v: &serde_json::Value| v["promised_date"].as_str().map(str::to_string);
    let (one, many) = (date(&one.body), date(&many.body));
    assert!(one.is_some() && many.is_some());
    assert!(many >= one, "400 mugs by {many:?}, one by {one:?}");
}

async fn no_delivery_is_promised_on_a_sunday(app: App) {
    // The demo's carrier and stores deliver Monday to Saturday.
    for quantity in [1, 3, 10, 40, 120, 400, 1_000] {
        for product in ["mug", "shirt", "sneaker"] {
            let body = json!({ "selections": {}, "quantity": quantity });
            let reply = app
                .post(&format!("/products/{product}/configure"), &body)
                .await
                .expect(StatusCode::OK);
            let Some(day) = reply.body["promised_date"].as_str() else {
                continue;
            };
            let day: jiff::civil::Date = day.parse().expect("a date");
            assert_ne!(
                day.weekday(),
                jiff::civil::Weekday::Sunday,
                "{quantity} {product} promised on Sunday {day}"
            );
        }
    }
}

async fn downtimes_far_ahead_and_sales_after_today_are_refused(app: App) {
    let far = json!({ "from": "9999-01-01", "to": "9999-01-02", "reason": "typo" });
    let paths = app
        .post("/work-centers/wheel/downtimes", &far)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/from"]);
    let downtimes = app.get("/downtimes").await.expect(StatusCode::OK);
    assert_eq!(downtimes.body["downtimes"], json!([]), "nothing recorded");

    let tomorrow = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .expect("a tomorrow")
        .to_string();
    let line =
        json!({ "id": "late", "day": tomorrow, "product": "mug", "selections": {}, "quantity": 1 });
    let paths = app
        .post("/sales-history", &json!({ "lines": [line] }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/lines/0/day"]);
}

async fn the_panel_keeps_the_quantity_and_prices_and_promises_it(app: App) {
    let panel = |quantity: &str| {
        let url = format!(
            "{}/shop/{}/p/mug/panel?size=L&shape=tall&_quantity={quantity}",
            app.base, app.slug
        );
        let http = app.http.clone();
        async move {
            let r = http.get(url).send().await.expect("panel");
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.expect("html")
        }
    };
    let one = panel("1").await;
    assert!(one.contains(r#"name="_quantity" value="1""#), "{one}");
    assert!(!one.contains("Total for"));

    // A redraw keeps the quantity and prices all of them.
    let many = panel("100").await;
    assert!(many.contains(r#"name="_quantity" value="100""#), "{many}");
    assert!(many.contains("Total for 100"), "{many}");
    assert!(many.contains("all 100 promised by"), "{many}");

    // A quantity that cannot be is said, in words, not silently priced.
    let zero = panel("0").await;
    assert!(
        zero.contains("Choose a quantity from 1 to 10000."),
        "{zero}"
    );
    assert!(zero.contains(r#"name="_quantity" value="1""#));
}

async fn a_shared_design_is_announced_as_saved_only_to_who_saved_it(app: App) {
    let http = no_redirects();
    let saved = http
        .post(format!("{}/shop/{}/designs", app.base, app.slug))
        .form(&[("_product", "mug"), ("size", "L"), ("shape", "tall")])
        .send()
        .await
        .expect("save");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let link = saved
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .expect("a link")
        .to_string();
    let cookie = cookies_of(&saved);
    assert!(!cookie.is_empty(), "the saver is remembered for one view");

    let view = |cookie: Option<String>| {
        let mut req = http.get(format!("{}{link}", app.base));
        if let Some(c) = cookie {
            req = req.header(reqwest::header::COOKIE, c);
        }
        async move {
            req.send()
                .await
                .expect("design")
                .text()
                .await
                .expect("html")
        }
    };
    let mine = view(Some(cookie.join("; "))).await;
    assert!(mine.contains("Design saved"), "{mine}");

    let theirs = view(None).await;
    assert!(!theirs.contains("Design saved"), "{theirs}");
    assert!(theirs.contains("A design shared with you"), "{theirs}");
}

async fn texts_hold_only_what_their_option_and_field_allow(app: App) {
    // The demo's engraving: Latin letters, digits and a little punctuation,
    // at most 12; never an invisible character.
    for bad in ["ab\u{202E}cd", "line\nbreak", "Hi <Bob>", "ABCDEFGHIJKLM"] {
        let paths = app
            .configure("mug", json!({ "engraving": bad }))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(paths, ["/selections/engraving"], "{bad:?}");
    }
    let ok = app
        .configure("mug", json!({ "engraving": "Zoë & Ada!" }))
        .await
        .expect(StatusCode::OK);
    assert!(ok.text.contains("Zoë &amp; Ada!"), "the preview draws it");

    // An order's names and address: short, nothing invisible, all reported.
    let mut body = mug("ada@example.com");
    body["customer"]["name"] = json!("A".repeat(1_500_000));
    body["ship_to"]["city"] = json!("Lon\u{202E}don");
    let paths = app
        .place(None, &body)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths, ["/customer/name", "/ship_to/city"]);
}

async fn the_cart_and_checkout_promise_each_line_and_say_when_it_slipped(app: App) {
    let http = no_redirects();
    let added = http
        .post(format!("{}/shop/{}/cart", app.base, app.slug))
        .form(&[
            ("_product", "mug"),
            ("size", "L"),
            ("shape", "tall"),
            ("_quantity", "2"),
        ])
        .send()
        .await
        .expect("add");
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let cookie = cookies_of(&added).join("; ");
    let get = |path: &'static str| {
        let req = http
            .get(format!("{}/shop/{}{path}", app.base, app.slug))
            .header(reqwest::header::COOKIE, cookie.clone());
        async move { req.send().await.expect("page").text().await.expect("html") }
    };
    let cart = get("/cart").await;
    assert!(cart.contains("delivered by "), "{cart}");
    assert!(!cart.contains("Later than"), "{cart}");
    let checkout = get("/checkout").await;
    assert!(
        checkout.contains("Your items") && checkout.contains("by "),
        "{checkout}"
    );

    // Someone orders a great many tall mugs first: the line now comes later,
    // and the cart and checkout say so before the shopper commits.
    let big = order_body(
        "big@example.com",
        "mug",
        json!({ "size": "L", "shape": "tall" }),
        10_000,
    );
    app.place_ok(&big).await;
    let cart = get("/cart").await;
    assert!(cart.contains("Later than the"), "{cart}");
    let checkout = get("/checkout").await;
    assert!(checkout.contains("Later than the"), "{checkout}");
}

async fn a_link_cannot_put_words_on_the_console(app: App) {
    let http = no_redirects();
    let key = console_cookie(&app, &http).await;
    let get = |path: &str, cookie: String| {
        let req = http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, cookie);
        async move { req.send().await.expect("page") }
    };
    for path in [
        "/console?notice=Your+account+is+locked%2C+call+0800+000",
        "/console?problem=Your+account+is+locked%2C+call+0800+000",
        "/console/catalog?notice=Your+account+is+locked%2C+call+0800+000",
        "/console/webhooks?notice=Your+account+is+locked%2C+call+0800+000",
    ] {
        let page = get(path, key.clone()).await.text().await.expect("html");
        assert!(!page.contains("Your account is locked"), "{path}");
    }

    // A real action's confirmation comes back once, through a cookie.
    let problem = http
        .post(format!("{}/console/downtimes", app.base))
        .header(reqwest::header::COOKIE, key.clone())
        .form(&[
            ("work_center", "wheel"),
            ("from", "soon"),
            ("to", "later"),
            ("reason", ""),
        ])
        .send()
        .await
        .expect("downtime");
    assert_eq!(problem.status(), StatusCode::SEE_OTHER);
    let to = problem.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(to, "/console", "no message in the URL");
    let flash = cookies_of(&problem).join("; ");
    let shown = get("/console", format!("{key}; {flash}")).await;
    let spent = cookies_of(&shown);
    let page = shown.text().await.expect("html");
    assert!(
        page.contains("Enter both days of the downtime as dates."),
        "{page}"
    );
    assert!(spent.iter().any(|c| c == "kiln_flash="), "{spent:?}");
}

async fn console_actions_say_what_they_did(app: App) {
    let order = app.place_ok(&mug("ada@example.com")).await;
    let wo = work_orders_of(&app.order(&order).await)[0].clone();
    let http = no_redirects();
    let key = console_cookie(&app, &http).await;
    // Posts a console form and reads the console it comes back to.
    let act = |path: String, form: Vec<(&'static str, &'static str)>| {
        let http = http.clone();
        let (base, key) = (app.base.clone(), key.clone());
        async move {
            let done = http
                .post(format!("{base}{path}"))
                .header(reqwest::header::COOKIE, key.clone())
                .form(&form)
                .send()
                .await
                .expect("action");
            assert_eq!(done.status(), StatusCode::SEE_OTHER);
            let flash = cookies_of(&done).join("; ");
            http.get(format!("{base}/console"))
                .header(reqwest::header::COOKIE, format!("{key}; {flash}"))
                .send()
                .await
                .expect("console")
                .text()
                .await
                .expect("html")
        }
    };
    let op = |verb: &str| format!("/console/work-orders/{wo}/operations/1/{verb}");
    let started = act(op("start"), vec![]).await;
    assert!(started.contains("Started "), "{started}");
    let bad = act(op("complete"), vec![("scrap", "two")]).await;
    assert!(
        bad.contains("Enter the scrapped units as a whole number"),
        "{bad}"
    );
    let completed = act(op("complete"), vec![("scrap", "1")]).await;
    assert!(completed.contains("1 good, 1 scrapped."), "{completed}");
    // The Gantt's colours are explained, and its bars are a list too.
    assert!(
        completed.contains("What the chart's colours mean"),
        "{completed}"
    );
    let tail = &order[order.len() - 6..];
    assert!(completed.contains(&format!("order …{tail}")), "{completed}");
    assert!(
        completed.contains("Every booked operation as a list"),
        "{completed}"
    );
}

async fn a_clerk_finds_customers_by_part_of_a_name_an_email_or_a_phone(app: App) {
    let mut body = order_body("grace.hopper@example.com", "mug", json!({}), 1);
    body["customer"] = json!({ "name": "Grace Hopper", "email": "grace.hopper@example.com", "phone": "+44 7700 900123" });
    app.place_ok(&body).await;
    app.place_ok(&mug("ada@example.org")).await;
    let found = |q: &'static str| {
        let kiln = app.kiln.clone();
        let slug = app.slug.clone();
        async move {
            kiln.find_customers(&slug, q)
                .await
                .expect("search")
                .into_iter()
                .map(|c| c.email)
                .collect::<Vec<_>>()
        }
    };
    for q in [
        "grace.hopper@example.com",
        "GRACE.HOPPER@example.com",
        "hopper",
        "Grace H",
        "grace.hop",
        "07700 900123",
        "+44 (0)7700-900.123",
        "7700900123",
        "+44 7700 900123",
    ] {
        assert_eq!(found(q).await, ["grace.hopper@example.com"], "{q}");
    }
    assert!(found("g").await.is_empty(), "one letter finds no one");
    assert!(found("%").await.is_empty(), "a wildcard is a character");
    assert!(found("0800 000 111").await.is_empty());
}

async fn the_order_page_echoes_the_address_and_how_to_pay(app: App) {
    let id = app.place_ok(&mug("ada@example.com")).await;
    // The customer's link carries a secret the API does not show.
    let order = app
        .kiln
        .order(&app.slug, &kiln_domain::OrderId::from(id.clone()))
        .await
        .expect("the order");
    let token = order.access_token;
    let page = app
        .http
        .get(format!(
            "{}/shop/{}/orders/{id}?token={token}",
            app.base, app.slug
        ))
        .send()
        .await
        .expect("order page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Delivery address"), "{page}");
    assert!(
        page.contains("12 Analytical Way<br>N1 9GU London<br>GB"),
        "{page}"
    );
    assert!(page.contains("Updates go to ada@example.com."), "{page}");
    assert!(page.contains("<h2>Payment</h2>"), "how to pay: {page}");
}

async fn the_cart_draws_each_line_and_its_quantity_can_change(app: App) {
    let http = no_redirects();
    let added = http
        .post(format!("{}/shop/{}/cart", app.base, app.slug))
        .form(&[("_product", "mug"), ("size", "L"), ("shape", "tall")])
        .send()
        .await
        .expect("add");
    let cookie = cookies_of(&added).join("; ");
    let cart_url = format!("{}/shop/{}/cart", app.base, app.slug);
    let cart = || {
        let req = http
            .get(&cart_url)
            .header(reqwest::header::COOKIE, cookie.clone());
        async move { req.send().await.expect("cart").text().await.expect("html") }
    };
    let one = cart().await;
    // The line's picture, hidden from screen readers beside its words.
    assert!(one.contains("<svg aria-hidden=\"true\""), "{one}");
    assert!(one.contains("Quantity of Ceramic mug"), "{one}");
    let price = |page: &str| -> String {
        let at = page.find("<p><strong>").expect("a line price") + 11;
        page[at..at + page[at..].find('<').unwrap()].to_string()
    };
    let single = price(&one);

    let change = |quantity: &'static str| {
        let req = http
            .post(format!("{cart_url}/quantity"))
            .header(reqwest::header::COOKIE, cookie.clone())
            .form(&[("line", "0"), ("quantity", quantity)]);
        async move { req.send().await.expect("change") }
    };
    let changed = change("3").await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let three = cart().await;
    assert!(three.contains("value=\"3\""), "{three}");
    let unit: f64 = single.trim_start_matches('€').parse().unwrap();
    let total: f64 = price(&three).trim_start_matches('€').parse().unwrap();
    assert!((total - 3.0 * unit).abs() < 0.005, "{single} then {total}");

    // A quantity that cannot be is refused beside its field, which takes the
    // focus; the cart keeps what it had.
    for bad in ["0", "-2", "lots", "10001"] {
        let refused = change(bad).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let page = refused.text().await.unwrap();
        assert!(
            page.contains("Enter a whole number from 1 to 10000"),
            "{page}"
        );
        assert!(page.contains("aria-invalid=\"true\"") && page.contains("autofocus"));
    }
    assert!(cart().await.contains("value=\"3\""));
}

async fn a_clerk_carries_the_found_customer_into_an_order_and_takes_payment(app: App) {
    app.place_ok(&mug("ada@example.com")).await;
    let http = no_redirects();
    let cookie = store_mode_cookie(&app, &http, "london").await;
    let get = |path: String| {
        let req = http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, cookie.clone());
        async move { req.send().await.expect("page").text().await.expect("html") }
    };
    let found = get("/store?customer=lovelace".into()).await;
    let label = "New Ceramic mug for Ada Lovelace";
    let end = found
        .find(&format!(">{label}</a>"))
        .unwrap_or_else(|| panic!("{found}"));
    let start = found[..end].rfind("href=\"").unwrap() + 6;
    let href = found[start..end]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let form = get(href).await;
    assert!(form.contains("value=\"ada@example.com\""), "{form}");
    assert!(form.contains("value=\"Ada Lovelace\""), "{form}");

    // Mistakes are told beside their fields; the first takes the focus.
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let req = http
            .post(format!("{}/store/orders", app.base))
            .header(reqwest::header::COOKIE, cookie.clone())
            .form(&fields);
        async move { req.send().await.expect("place") }
    };
    let refused = post(vec![
        ("_product", "mug"),
        ("_name", "Ada Lovelace"),
        ("_email", "ada@"),
        ("_quantity", "lots"),
    ])
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"c-qty-error\""), "{page}");
    let refused = post(vec![
        ("_product", "mug"),
        ("_name", "Ada Lovelace"),
        ("_email", "ada@"),
        ("_quantity", "1"),
    ])
    .await;
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"c-email-error\""), "{page}");
    let at = page.find("id=\"c-email\"").unwrap();
    assert!(page[at..at + 400].contains("autofocus"), "{page}");
    assert!(!page.contains("id=\"c-name-error\""));

    // Placed: pickup date, payment at the counter, the next customer.
    let placed = post(vec![
        ("_product", "mug"),
        ("_name", "Ada Lovelace"),
        ("_email", "ada@example.com"),
        ("_quantity", "1"),
    ])
    .await;
    assert_eq!(placed.status(), StatusCode::SEE_OTHER);
    let order_page = placed.headers()["location"].to_str().unwrap().to_string();
    let done = get(order_page.clone()).await;
    assert!(done.contains("ready for pickup at Kiln London"), "{done}");
    assert!(done.contains("at the counter</button>"), "{done}");
    assert!(done.contains(">Next customer</a>"));
    let paid = http
        .post(format!("{}{order_page}/paid", app.base))
        .header(reqwest::header::COOKIE, cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    let after = get(order_page).await;
    assert!(after.contains("<strong>Paid.</strong>"), "{after}");
}

async fn every_size_and_style_draws_differently_and_in_proportion(app: App) {
    let svg = |product: &'static str, selections: serde_json::Value| {
        let reply = app.configure(product, selections);
        async move {
            let r = reply.await.expect(StatusCode::OK);
            r.body["preview_svg"].as_str().unwrap().to_string()
        }
    };
    // Sizes: each value its own drawing; the product scaled, the ground and
    // the caption not.
    for (product, option, values) in [
        ("mug", "size", vec!["S", "M", "L"]),
        ("sneaker", "size", vec!["36", "40", "42", "47"]),
        ("shirt", "size", vec!["S", "M", "L", "XL", "XXL"]),
    ] {
        let mut seen = std::collections::BTreeSet::new();
        for v in &values {
            let drawn = svg(product, json!({ option: v })).await;
            let first_group = drawn.find("<g transform=").unwrap_or(drawn.len());
            assert!(
                drawn[..first_group].contains("<rect x=\"0\" y=\"0\""),
                "{drawn}"
            );
            assert!(
                seen.insert(drawn),
                "{product} {option}={v} draws like another size"
            );
        }
    }
    let small = svg("mug", json!({ "size": "S" })).await;
    let large = svg("mug", json!({ "size": "L", "shape": "tall" })).await;
    assert!(small.contains("scale(0.82)") && large.contains("scale(1.1)"));
    // Every sneaker style has its own outline; a cream mug's handle shows.
    let styles: std::collections::BTreeSet<String> = [
        svg("sneaker", json!({ "style": "low" })).await,
        svg("sneaker", json!({ "style": "high" })).await,
        svg("sneaker", json!({ "style": "slip-on" })).await,
    ]
    .into_iter()
    .collect();
    assert_eq!(styles.len(), 3);
    let cream = svg("mug", json!({ "glaze": "#f4f1de" })).await;
    assert!(
        cream.contains("stroke=\"#333\" stroke-width=\"14\""),
        "{cream}"
    );
    // A dress shirt has long sleeves, down to its cuffs.
    let shirt = svg("shirt", json!({ "fit": "regular" })).await;
    assert!(shirt.contains("L22 180"), "{shirt}");
}

async fn orders_pay_shipping_below_the_free_threshold_and_say_their_tax(app: App) {
    // The demo: prices include 19% VAT; 4.90 shipping, free from 60.00.
    let small = app.place_ok(&mug("ada@example.com")).await;
    let o = app.order(&small).await;
    let goods: f64 = o["lines"][0]["unit_price"]
        .as_str()
        .unwrap()
        .parse::<f64>()
        .unwrap()
        * o["lines"][0]["quantity"].as_f64().unwrap();
    assert!(goods < 60.0, "{o}");
    assert_eq!(o["shipping"], "4.90");
    let total: f64 = o["total"].as_str().unwrap().parse().unwrap();
    assert!((total - goods - 4.90).abs() < 0.005, "{o}");
    let tax: f64 = o["tax"].as_str().unwrap().parse().unwrap();
    assert!(
        (tax - (total * 19.0 / 119.0 * 100.0).round() / 100.0).abs() < 0.005,
        "{o}"
    );
    assert_eq!(o["payment"]["amount"], o["total"]);

    let big = order_body(
        "bo@example.com",
        "mug",
        json!({ "size": "L", "shape": "tall" }),
        6,
    );
    let big = app.order(&app.place_ok(&big).await).await;
    assert_eq!(big["shipping"], "0");

    // The checkout says it all before the customer commits.
    let http = no_redirects();
    let added = http
        .post(format!("{}/shop/{}/cart", app.base, app.slug))
        .form(&[("_product", "mug"), ("size", "S"), ("shape", "classic")])
        .send()
        .await
        .unwrap();
    let cookie = cookies_of(&added).join("; ");
    let checkout = http
        .get(format!("{}/shop/{}/checkout", app.base, app.slug))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for said in [
        "<dt>Shipping</dt><dd>€4.90</dd>",
        "Includes VAT (19%): €",
        "Free for orders from €60.00",
    ] {
        assert!(checkout.contains(said), "{said} missing: {checkout}");
    }

    // A store pickup pays no shipping.
    let http = no_redirects();
    let cookie = store_mode_cookie(&app, &http, "london").await;
    let placed = http
        .post(format!("{}/store/orders", app.base))
        .header(reqwest::header::COOKIE, cookie)
        .form(&[
            ("_product", "mug"),
            ("_name", "Walk In"),
            ("_email", "walk@example.com"),
        ])
        .send()
        .await
        .unwrap();
    let id = placed.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/store/orders/")
        .to_string();
    assert_eq!(app.order(&id).await["shipping"], "0");
}

async fn a_refused_text_stays_in_its_field_with_why_and_holds_the_order_back(app: App) {
    let panel = |query: &'static str| {
        let req = app
            .http
            .get(format!("{}/shop/{}/p/{query}", app.base, app.slug));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let page = panel("mug/panel?size=M&engraving=Ada%3Cb%3E").await;
    // What was typed stays, marked, with what to type instead.
    assert!(page.contains("value=\"Ada&#60;b&#62;\""), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    assert!(
        page.contains(
            "Engraving cannot hold “&#60;” (character 4): use letters, digits, spaces and"
        ),
        "{page}"
    );
    assert!(
        page.contains("formaction=\"/shop/demo/cart\" disabled"),
        "{page}"
    );
    let hidden = panel("mug/panel?engraving=Ada%E2%80%AEx").await;
    assert!(
        hidden.contains("an invisible character (character 4)"),
        "{hidden}"
    );
    let long = panel("mug/panel?engraving=ABCDEFGHIJKLMNOP").await;
    assert!(
        long.contains("Engraving takes at most 12 characters."),
        "{long}"
    );
    let neck = panel("shirt/panel?neck_cm=99").await;
    assert!(neck.contains("Neck goes from 34 to 50."), "{neck}");
    // A good text is taken as it is.
    let good = panel("mug/panel?engraving=Ada").await;
    assert!(!good.contains("aria-invalid"), "{good}");
    assert!(!good.contains("formaction=\"/shop/demo/cart\" disabled"));
}
