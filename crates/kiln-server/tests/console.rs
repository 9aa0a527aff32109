//! The factory console as a planner uses it (issue 17): every order a page
//! at a time with filters, one order's page with what staff act on, and
//! actions that come back to where they were taken.
//! Runs on SQLite and, with `KILN_TEST_POSTGRES`, on PostgreSQL (`mod
//! postgres`), as `tests/api.rs` explains.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

api_tests!(
    the_orders_list_pages_and_filters,
    an_order_page_shows_what_staff_act_on,
    the_api_lists_orders_by_status_and_channel_a_page_at_a_time,
    a_cancelled_downtime_frees_its_capacity_and_nothing_else_moves,
    the_demand_charts_draw_whole_weeks_by_date_in_whole_pieces,
    a_planner_records_a_late_purchase_and_sees_what_moved,
    the_material_plan_shows_what_to_make_and_buy,
);

/// A console page's HTML, signed in with `cookie`.
async fn html(app: &App, http: &reqwest::Client, cookie: &str, path: &str) -> String {
    let page = http
        .get(format!("{}{path}", app.base))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK, "{path}");
    page.text().await.expect("html")
}

/// The `href` of the link whose text is `label`, unescaped.
fn link(page: &str, label: &str) -> Option<String> {
    let end = page.find(&format!(">{label}</a>"))?;
    let start = page[..end].rfind("href=\"")? + 6;
    let href = &page[start..end];
    Some(
        href[..href.find('"')?]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

async fn the_orders_list_pages_and_filters(app: App) {
    let mut ids = Vec::new();
    for i in 0..27 {
        ids.push(app.place_ok(&mug(&format!("buyer{i}@example.com"))).await);
    }
    let http = no_redirects();
    let key = console_cookie(&app, &http).await;

    // Newest first, 25 to a page, then the rest.
    let first = html(&app, &http, &key, "/console/orders").await;
    assert!(first.contains(&ids[26]) && first.contains(&ids[2]));
    assert!(!first.contains(&ids[1]) && !first.contains(&ids[0]));
    assert!(link(&first, "Newest orders").is_none());
    let older = link(&first, "Older orders").expect("a link to older orders");
    let second = html(&app, &http, &key, &older).await;
    assert!(second.contains(&ids[1]) && second.contains(&ids[0]));
    assert!(!second.contains(&ids[2]));
    assert!(link(&second, "Older orders").is_none());
    assert!(link(&second, "Newest orders").is_some());

    // One customer's orders; filters that match nothing say so.
    let one = html(
        &app,
        &http,
        &key,
        "/console/orders?customer=Buyer7%40example.com",
    )
    .await;
    assert!(one.contains(&ids[7]) && !one.contains(&ids[8]), "{one}");
    let none = html(&app, &http, &key, "/console/orders?status=delivered").await;
    assert!(none.contains("No orders match."));
    let planned = html(
        &app,
        &http,
        &key,
        "/console/orders?status=planned&channel=online",
    )
    .await;
    assert!(planned.contains(&ids[26]));
    let store = html(&app, &http, &key, "/console/orders?channel=store").await;
    assert!(store.contains("No orders match."));

    // A made-up status is reported, not silently ignored.
    let bad = html(&app, &http, &key, "/console/orders?status=lost").await;
    assert!(bad.contains("There is no order status “lost”"), "{bad}");

    // The front page lists the latest ten and links to the rest.
    let console = html(&app, &http, &key, "/console").await;
    assert!(console.contains(&ids[26]) && !console.contains(&ids[16]));
    assert!(console.contains("href=\"/console/orders\""));

    // Signed out, there is nothing to see.
    let out = http
        .get(format!("{}/console/orders", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::UNAUTHORIZED);
}

async fn an_order_page_shows_what_staff_act_on(app: App) {
    let id = app.place_ok(&mug("grace@example.com")).await;
    let order = app.order(&id).await;
    let wo = work_orders_of(&order)[0].clone();
    let sku = order["lines"][0]["sku"].as_str().unwrap().to_string();
    let http = no_redirects();
    let key = console_cookie(&app, &http).await;
    let path = format!("/console/orders/{id}");
    let page = html(&app, &http, &key, &path).await;
    for shown in [
        "grace@example.com",
        "12 Analytical Way",
        "N1 9GU London",
        sku.as_str(),
        wo.as_str(),
        "Ordered",
        "Record payment",
        "Stripes",
    ] {
        assert!(page.contains(shown), "the order page lacks {shown}: {page}");
    }

    // Recording the payment from the order's page comes back to it.
    let paid = http
        .post(format!("{}/console/orders/{id}/paid", app.base))
        .header(reqwest::header::COOKIE, key.clone())
        .form(&[("back", format!("order:{id}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(paid.headers()["location"], path.as_str());
    let flash = cookies_of(&paid).join("; ");
    let after = html(&app, &http, &format!("{key}; {flash}"), &path).await;
    assert!(after.contains("Payment recorded for order"), "{after}");
    assert!(!after.contains(">Record payment</button>"));

    // A `back` that is not an order's id goes to the console, nowhere else.
    let other = app.place_ok(&mug("lin@example.com")).await;
    for back in ["https://evil.example/x", "order://evil", "order:../../x"] {
        let r = http
            .post(format!("{}/console/orders/{other}/paid", app.base))
            .header(reqwest::header::COOKIE, key.clone())
            .form(&[("back", back)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/console", "{back}");
    }

    // An unknown order is a 404 page.
    let missing = http
        .get(format!("{}/console/orders/ord_nope", app.base))
        .header(reqwest::header::COOKIE, key.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn the_api_lists_orders_by_status_and_channel_a_page_at_a_time(app: App) {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.place_ok(&mug(&format!("p{i}@example.com"))).await);
    }
    let page = |v: &serde_json::Value| -> Vec<String> {
        v["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = app.get("/orders?limit=2").await.expect(StatusCode::OK).body;
    assert_eq!(page(&first), [ids[4].clone(), ids[3].clone()]);
    let next = app
        .get(&format!("/orders?limit=2&before={}", ids[3]))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(page(&next), [ids[2].clone(), ids[1].clone()]);
    let planned = app
        .get("/orders?status=planned&channel=online")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(page(&planned).len(), 5);
    let shipped = app
        .get("/orders?status=shipped")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(page(&shipped).is_empty());
    assert_eq!(
        app.get("/orders?status=lost")
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["status"]
    );
    assert_eq!(
        app.get("/orders?channel=fax")
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["channel"]
    );
}

async fn a_cancelled_downtime_frees_its_capacity_and_nothing_else_moves(app: App) {
    let selections = json!({ "size": "L", "shape": "tall" });
    let promise = |app: &App| {
        let (http, url, key) = (
            app.http.clone(),
            app.brand_url("/products/mug/configure"),
            app.key.clone(),
        );
        let body = json!({ "selections": selections });
        async move {
            let r = http
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let v: serde_json::Value = r.json().await.unwrap();
            v["promised_date"].as_str().expect("a promise").to_string()
        }
    };
    let free = promise(&app).await;
    let placed = app.place_ok(&mug("ada@example.com")).await;
    let down = json!({ "from": today_plus(0), "to": today_plus(59), "reason": "wheel motor" });
    app.post("/work-centers/wheel/downtimes", &down)
        .await
        .expect(StatusCode::CREATED);
    let moved = app.order(&placed).await["promised_date"].clone();
    assert!(promise(&app).await > today_plus(59));
    let id = app.get("/downtimes").await.expect(StatusCode::OK).body["downtimes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The console lists it with a button that cancels it, and says what that did.
    let http = no_redirects();
    let key = console_cookie(&app, &http).await;
    let console = html(&app, &http, &key, "/console").await;
    assert!(console.contains("Cancel downtime: Potter"), "{console}");
    let done = http
        .post(format!("{}/console/downtimes/{id}/cancel", app.base))
        .header(reqwest::header::COOKIE, key.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let flash = cookies_of(&done).join("; ");
    let after = html(&app, &http, &format!("{key}; {flash}"), "/console").await;
    assert!(after.contains("Downtime cancelled"), "{after}");
    assert!(!after.contains("Cancel downtime: Potter"));

    // The capacity is back for new orders; the order it moved keeps its date.
    assert_eq!(promise(&app).await, free);
    assert_eq!(app.order(&placed).await["promised_date"], moved);
    assert!(
        app.get("/downtimes").await.body["downtimes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A server rebuilt from the store sees the same.
    let again = app.restarted().await;
    assert_eq!(promise(&again).await, free);

    // Once is enough; the audit log says who did it.
    app.call(
        "DELETE",
        &format!("/api/v1/brands/{}/downtimes/{id}", app.slug),
        Some(&app.key),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let audit = app.get("/audit").await.expect(StatusCode::OK).body;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "downtime.cancelled")
        .unwrap_or_else(|| panic!("no audit entry in {audit}"))
        .clone();
    assert_eq!(entry["subject"], id.as_str());
    assert!(
        entry["actor"].as_str().unwrap().starts_with("staff:"),
        "{entry}"
    );
}

async fn the_demand_charts_draw_whole_weeks_by_date_in_whole_pieces(app: App) {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let d = app.get("/demand").await.expect(StatusCode::OK).body;
    let day = |v: &serde_json::Value| v.as_str().unwrap().parse::<jiff::civil::Date>().unwrap();
    let plus = |d: jiff::civil::Date, n: i64| d.checked_add(jiff::Span::new().days(n)).unwrap();
    // History ends with the last whole week; the week under way is forecast.
    let last = day(d["history_weeks"].as_array().unwrap().last().unwrap());
    assert!(
        plus(last, 6) < today,
        "the last history week {last} is not over"
    );
    let first = day(&d["forecast_weeks"][0]);
    assert!(
        first <= today && today <= plus(first, 6),
        "forecast starts {first}"
    );
    assert_eq!(first, plus(last, 7));

    let http = no_redirects();
    let key = console_cookie(&app, &http).await;
    let page = html(&app, &http, &key, "/console/demand").await;
    // Dated axes, and where the forecast starts.
    assert!(page.contains("this week →"), "{page}");
    // Axes labelled with dates ("7 Sep"); which dates get a label depends
    // on the series' length, so on today's date.
    let dated = page
        .split("fill=\"#5b6470\">")
        .skip(1)
        .filter_map(|t| t.split_once("</text>").map(|(label, _)| label))
        .filter(|label| {
            label.split_once(' ').is_some_and(|(d, m)| {
                d.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
                    && m.len() == 3
                    && m.chars().all(|c| c.is_ascii_alphabetic())
            })
        })
        .count();
    assert!(dated >= 4, "{dated} dates on the axes: {page}");
    assert!(page.contains(&format!("week of {}", last.strftime("%-d %b %Y"))));
    // Pieces are whole numbers (materials, in their own units, come after).
    let pieces = &page[..page.find("id=\"materials\"").unwrap()];
    for cell in pieces.split("<td>").skip(1) {
        let cell = &cell[..cell.find("</td>").unwrap_or(0)];
        let decimal = cell.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        });
        assert!(!decimal, "a fraction of a piece: {cell}");
    }
}

/// Signs a demo staff member in (`planner`, `operator`, `analyst`…); the
/// session cookie.
async fn staff_cookie(app: &App, who: &str) -> String {
    let signed = no_redirects()
        .post(format!("{}/sign-in", app.base))
        .form(&[
            ("email", format!("{who}@{}.kiln.example", app.slug).as_str()),
            ("password", kiln_app::staff::DEMO_PASSWORD),
            ("next", "/console"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed.status(), StatusCode::SEE_OTHER, "{who} signs in");
    cookies_of(&signed).join("; ")
}

/// Posts the "Arrives late" form of purchase `id` as `cookie`.
async fn delay(app: &App, cookie: &str, id: &str, arrives: &str) -> reqwest::Response {
    no_redirects()
        .post(format!(
            "{}/console/purchase-suggestions/{id}/delay",
            app.base
        ))
        .header(reqwest::header::COOKIE, cookie)
        .form(&[("arrives", arrives)])
        .send()
        .await
        .expect("post")
}

/// The console a redirect leads to, with the flash message it set.
async fn followed(app: &App, cookie: &str, redirect: reqwest::Response) -> String {
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    assert_eq!(redirect.headers()["location"], "/console");
    let cookie = [cookie.to_string(), cookies_of(&redirect).join("; ")].join("; ");
    html(app, &no_redirects(), &cookie, "/console").await
}

async fn a_planner_records_a_late_purchase_and_sees_what_moved(app: App) {
    app.kiln
        .seed_demo_staff(&app.slug)
        .await
        .expect("demo staff");
    // 100 poplin shirts need more poplin than the demo holds.
    let shirts = order_body(
        "late-console@example.com",
        "shirt",
        json!({ "fabric": "poplin", "size": "M" }),
        100,
    );
    let order = app.place_ok(&shirts).await;
    let promised = |o: serde_json::Value| o["promised_date"].as_str().unwrap().to_string();
    let before = promised(app.order(&order).await);
    let open = app.get("/purchase-suggestions").await.body["purchase_suggestions"].clone();
    let purchase = open
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["order_id"] == order.as_str() && s["material"] == "poplin")
        .unwrap_or_else(|| panic!("a poplin purchase for {order}: {open}"))
        .clone();
    let id = purchase["id"].as_str().unwrap().to_string();
    let arrives: jiff::civil::Date = purchase["arrives"].as_str().unwrap().parse().unwrap();
    let arrives_now = || async {
        let open = app.get("/purchase-suggestions").await.body["purchase_suggestions"].clone();
        open.as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id.as_str())
            .map(|s| s["arrives"].as_str().unwrap().to_string())
    };

    // A planner sees the form beside the open purchase, its field labelled.
    let planner = staff_cookie(&app, "planner").await;
    let http = no_redirects();
    let console = html(&app, &http, &planner, "/console").await;
    let action = format!("action=\"/console/purchase-suggestions/{id}/delay\"");
    assert!(console.contains(&action), "no Arrives late form: {console}");
    assert!(console.contains(&format!("<label for=\"late-{id}\">Arrives late")));
    assert!(console.contains(&format!("id=\"late-{id}\" type=\"date\" name=\"arrives\"")));
    assert!(console.contains(&format!("min=\"{}\"", today_plus(0))));

    // A day in the past, or no date at all: the error beside the field, 422,
    // and nothing changed.
    for (typed, says) in [
        ("2020-01-01", "A purchase cannot arrive in the past."),
        ("soon", "Enter the day it now arrives as a date"),
    ] {
        let refused = delay(&app, &planner, &id, typed).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{typed}"
        );
        let page = refused.text().await.unwrap();
        assert!(
            page.contains(&format!(
                "aria-invalid=\"true\" aria-describedby=\"late-{id}-error\""
            )),
            "{page}"
        );
        let error = format!("<span class=\"error\" id=\"late-{id}-error\">{says}");
        assert!(page.contains(&error), "{typed}: {page}");
        assert!(page.contains("role=\"alert\""), "{page}");
    }
    assert_eq!(
        arrives_now().await.as_deref(),
        Some(arrives.to_string().as_str())
    );
    assert_eq!(promised(app.order(&order).await), before);

    // An operator's console offers no such form, and neither they nor an
    // analyst may post it.
    let operator = staff_cookie(&app, "operator").await;
    let theirs = html(&app, &http, &operator, "/console").await;
    assert!(!theirs.contains(&action));
    let late = arrives.checked_add(jiff::ToSpan::days(21)).unwrap();
    for who in [operator, staff_cookie(&app, "analyst").await] {
        let refused = delay(&app, &who, &id, &late.to_string()).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        arrives_now().await.as_deref(),
        Some(arrives.to_string().as_str())
    );

    // Three weeks late: the order's promise moves, and the console says so.
    let page = followed(
        &app,
        &planner,
        delay(&app, &planner, &id, &late.to_string()).await,
    )
    .await;
    let after = promised(app.order(&order).await);
    assert!(after > before, "the promise stays {before}");
    assert_eq!(arrives_now().await, Some(late.to_string()));
    let short: String = order.chars().skip(order.chars().count() - 6).collect();
    let long = |d: &str| kiln_app::time::long_date(d.parse().unwrap());
    let said = format!(
        "Cotton poplin now arrives {}: 1 order moved (order …{short} from {} to {})",
        long(&late.to_string()),
        long(&before),
        long(&after)
    );
    assert!(page.contains(&said), "{said} not in {page}");

    // Unknown: not found. Received already: the console says so.
    let unknown = delay(&app, &planner, "pur_nope", &late.to_string()).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    app.post(&format!("/purchase-suggestions/{id}/receive"), &json!({}))
        .await
        .expect(StatusCode::OK);
    let later = late.checked_add(jiff::ToSpan::days(7)).unwrap().to_string();
    let page = followed(&app, &planner, delay(&app, &planner, &id, &later).await).await;
    assert!(
        page.contains("Not recorded: this purchase was already received."),
        "{page}"
    );
}

async fn the_material_plan_shows_what_to_make_and_buy(app: App) {
    app.kiln
        .seed_demo_staff(&app.slug)
        .await
        .expect("demo staff");
    let body = order_body(
        "soles@example.com",
        "sneaker",
        json!({ "size": "41", "sole_material": "foam" }),
        4,
    );
    app.place_ok(&body).await;
    let planner = staff_cookie(&app, "planner").await;
    let http = no_redirects();
    let console = html(&app, &http, &planner, "/console").await;
    assert_eq!(
        link(&console, "Material plan").as_deref(),
        Some("/console/material-plan")
    );
    let page = html(&app, &http, &planner, "/console/material-plan").await;
    // The sole unit is made for the order, a level above its outsole.
    let make = &page[page.find("id=\"make\"").expect("what to make")..];
    let make = &make[..make.find("id=\"records\"").unwrap()];
    assert!(make.contains("Foam sole unit"), "{make}");
    assert!(make.contains("4 pair"), "{make}");
    let records = &page[page.find("id=\"records\"").unwrap()..];
    assert!(records.contains("Foam sole unit (pair)"), "{records}");
    assert!(records.contains("sub-assembly"), "{records}");

    // Operators work the queues; the plan is not theirs.
    let operator = staff_cookie(&app, "operator").await;
    let refused = http
        .get(format!("{}/console/material-plan", app.base))
        .header(reqwest::header::COOKIE, &operator)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
