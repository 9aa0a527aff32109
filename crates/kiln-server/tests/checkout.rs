//! The checkout re-rates delivery for the country and postal code the
//! shopper types, on the demo brand (its post reaches the United Kingdom,
//! the EU and the wider world; its freight line the UK and its neighbours):
//! shipping and the dates for the home country until one is chosen, those
//! of the country chosen once it is, with or without the script, and a
//! plain sentence where nothing is delivered. What the re-rated page shows
//! is what the order placed then gets.
//! Runs on SQLite and, with `KILN_TEST_POSTGRES`, on PostgreSQL (`mod
//! postgres`), as `tests/api.rs` explains.

mod common;

use common::*;
use jiff::civil::Date;
use reqwest::StatusCode;

api_tests!(
    the_checkout_rates_the_home_country_until_another_is_chosen,
    updating_delivery_keeps_what_was_typed_and_places_nothing,
    a_country_no_carrier_reaches_is_said_beside_its_field,
    the_order_gets_the_shipping_and_dates_the_re_rated_page_showed,
);

/// A shopper with `lines` (product, size, shape) in their cart: the
/// `Cookie` header that carries it.
async fn cart_with(app: &App, lines: &[(&str, &str, &str)]) -> String {
    let http = no_redirects();
    let mut cookie = String::new();
    for (product, size, shape) in lines {
        let added = http
            .post(format!("{}/shop/{}/cart", app.base, app.slug))
            .header(reqwest::header::COOKIE, cookie.clone())
            .form(&[("_product", *product), ("size", *size), ("shape", *shape)])
            .send()
            .await
            .expect("add to cart");
        assert_eq!(added.status(), StatusCode::SEE_OTHER);
        let set = cookies_of(&added).join("; ");
        if !set.is_empty() {
            cookie = set;
        }
    }
    cookie
}

/// A page of the shop with the cart's cookie: (status, HTML).
async fn get(app: &App, cookie: &str, path: &str) -> (StatusCode, String) {
    let page = no_redirects()
        .get(format!("{}/shop/{}{path}", app.base, app.slug))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .expect("page");
    (page.status(), page.text().await.expect("html"))
}

/// The checkout form posted with the cart's cookie: the response.
async fn post(app: &App, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    no_redirects()
        .post(format!("{}/shop/{}/checkout", app.base, app.slug))
        .header(reqwest::header::COOKIE, cookie)
        .form(form)
        .send()
        .await
        .expect("checkout")
}

/// What follows `before` up to the next `<`, each time it occurs.
fn all_after(html: &str, before: &str) -> Vec<String> {
    html.split(before)
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap_or_default().to_string())
        .collect()
}

fn date(shown: &str) -> Date {
    Date::strptime("%a %d %b %Y", shown).unwrap_or_else(|e| panic!("{shown}: {e}"))
}

/// The date the whole order is delivered by, as the page says it.
fn delivered_by(html: &str) -> Date {
    let by = all_after(html, "All delivered by <strong>");
    assert_eq!(by.len(), 1, "{html}");
    date(&by[0])
}

/// Each line's date in the items table.
fn line_dates(html: &str) -> Vec<Date> {
    all_after(html, "<td>by ").iter().map(|d| date(d)).collect()
}

fn shipping(html: &str) -> String {
    let said = all_after(html, "<dt>Shipping</dt><dd>");
    assert_eq!(said.len(), 1, "{html}");
    said[0].clone()
}

async fn orders_placed(app: &App) -> usize {
    let list = app.get("/orders").await.expect(StatusCode::OK);
    list.body["orders"].as_array().expect("orders").len()
}

async fn the_checkout_rates_the_home_country_until_another_is_chosen(app: App) {
    // One small mug: 12.00, under the free threshold, in the post's
    // lightest band everywhere.
    let cookie = cart_with(&app, &[("mug", "S", "classic")]).await;
    let (status, home) = get(&app, &cookie, "/checkout").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shipping(&home), "€4.90");
    assert!(
        home.contains("Shipping and delivery dates for United Kingdom, until you choose"),
        "{home}"
    );
    // The script's hook, and the button that does it without the script.
    assert!(
        home.contains("data-rerate=\"/shop/demo/checkout/delivery\""),
        "{home}"
    );
    assert!(home.contains(">Update delivery</button>"), "{home}");
    assert!(home.contains("role=\"status\" aria-live=\"polite\""));
    let home_by = delivered_by(&home);

    // Germany: the post's EU standard (the freight line costs more), four
    // days in transit instead of two.
    let (status, germany) = get(
        &app,
        &cookie,
        "/checkout/delivery?country=DE&postal_code=10117",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shipping(&germany), "€9.90");
    assert!(
        germany.contains("<dd class=\"total\">€21.90</dd>"),
        "{germany}"
    );
    assert!(
        germany.contains("Shipping and delivery dates for Germany, 10117."),
        "{germany}"
    );
    let germany_by = delivered_by(&germany);
    assert!(germany_by > home_by, "{germany_by} vs {home_by}");
    // Later for being farther, not for the factory falling behind.
    assert!(!germany.contains("Later than"), "{germany}");
    assert_eq!(line_dates(&germany), [germany_by]);
    // The screen reader hears the new figures once the fragment is in.
    assert!(
        germany.contains("data-announce=\"Shipping to Germany, 10117: €9.90. Total €21.90."),
        "{germany}"
    );
    assert!(germany.contains("id=\"n-country\"></span>"), "{germany}");

    // Japan, farther: the post's world band.
    let (_, japan) = get(&app, &cookie, "/checkout/delivery?country=jp").await;
    assert_eq!(shipping(&japan), "€19.90");
    assert!(delivered_by(&japan) > germany_by, "{japan}");

    // No country yet (or not a country): the home country again.
    let (_, none) = get(&app, &cookie, "/checkout/delivery?country=&postal_code=").await;
    assert_eq!(shipping(&none), "€4.90");
    assert_eq!(delivered_by(&none), home_by);
}

async fn updating_delivery_keeps_what_was_typed_and_places_nothing(app: App) {
    let cookie = cart_with(&app, &[("mug", "S", "classic")]).await;
    // Half the form typed, then "Update delivery".
    let updated = post(
        &app,
        &cookie,
        &[
            ("name", "Ada Lovelace"),
            ("email", ""),
            ("line1", "Unter den Linden 1"),
            ("city", ""),
            ("postal_code", "10117"),
            ("country", "DE"),
            ("intent", "delivery"),
        ],
    )
    .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let page = updated.text().await.unwrap();
    assert_eq!(shipping(&page), "€9.90");
    assert!(page.contains("Shipping and delivery dates for Germany, 10117."));
    for kept in [
        "value=\"Ada Lovelace\"",
        "value=\"Unter den Linden 1\"",
        "value=\"10117\"",
        "<option value=\"DE\" selected>Germany</option>",
    ] {
        assert!(page.contains(kept), "{kept} not kept: {page}");
    }
    // Nothing is said about the fields still empty, and nothing was placed.
    assert!(!page.contains("aria-invalid"), "{page}");
    assert!(!page.contains("role=\"alert\""), "{page}");
    assert!(!page.contains("Enter your email"), "{page}");
    assert_eq!(orders_placed(&app).await, 0);
    // The cart is still there to check out.
    let (status, again) = get(&app, &cookie, "/checkout").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(again.contains("1 item(s)."), "{again}");
}

async fn a_country_no_carrier_reaches_is_said_beside_its_field(app: App) {
    let cookie = cart_with(&app, &[("mug", "S", "classic")]).await;
    // As HTML writes it.
    let said = "We don&#39;t deliver to AQ. Choose another country.";
    // As the script asks for it: the sentence goes beside the field.
    let (status, fragment) = get(&app, &cookie, "/checkout/delivery?country=AQ").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        fragment.contains(&format!(
            "<span class=\"error\" id=\"n-country\">{said}</span>"
        )),
        "{fragment}"
    );
    assert_eq!(shipping(&fragment), "unavailable");
    assert!(!fragment.contains("All delivered by"), "{fragment}");
    assert!(fragment.contains(&format!("data-announce=\"{said}\"")));

    // Without the script: the same sentence, describing the country field.
    let page = post(
        &app,
        &cookie,
        &[
            ("country", "AQ"),
            ("postal_code", ""),
            ("intent", "delivery"),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains("aria-describedby=\"n-country\""), "{page}");
    assert!(page.contains(&format!("id=\"n-country\">{said}</span>")));
    assert_eq!(orders_placed(&app).await, 0);

    // Placing the order there anyway: refused, with the same sentence as
    // the country's error.
    let refused = post(
        &app,
        &cookie,
        &[
            ("name", "Ada Lovelace"),
            ("email", "ada@example.org"),
            ("line1", "1 Ice Shelf"),
            ("city", "McMurdo"),
            ("postal_code", "9999"),
            ("country", "AQ"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "<span class=\"error\" id=\"e-country\">{said}</span>"
        )),
        "{page}"
    );
    assert!(page.contains("aria-describedby=\"e-country\""), "{page}");
    assert_eq!(orders_placed(&app).await, 0);
}

async fn the_order_gets_the_shipping_and_dates_the_re_rated_page_showed(app: App) {
    // Two mugs, each its own line: 12.00 + 13.50, shipped to Paris by the
    // post's EU standard, a parcel each.
    let cookie = cart_with(&app, &[("mug", "S", "classic"), ("mug", "M", "classic")]).await;
    let (_, shown) = get(
        &app,
        &cookie,
        "/checkout/delivery?country=FR&postal_code=75001",
    )
    .await;
    assert_eq!(shipping(&shown), "€19.80");
    assert!(shown.contains("<dd class=\"total\">€45.30</dd>"), "{shown}");
    let lines = line_dates(&shown);
    assert_eq!(lines.len(), 2, "{shown}");
    let by = delivered_by(&shown);

    let placed = post(
        &app,
        &cookie,
        &[
            ("name", "Marie Curie"),
            ("email", "marie@example.org"),
            ("line1", "1 Rue Pierre et Marie Curie"),
            ("city", "Paris"),
            ("postal_code", "75001"),
            ("country", "FR"),
        ],
    )
    .await;
    assert_eq!(placed.status(), StatusCode::SEE_OTHER);
    let to = placed.headers()["location"].to_str().unwrap().to_string();
    let id = to
        .trim_start_matches(&format!("/shop/{}/orders/", app.slug))
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let order = app.order(&id).await;
    assert_eq!(order["shipping"], "19.80", "{order}");
    assert_eq!(order["total"], "45.30", "{order}");
    assert_eq!(order["promised_date"], by.to_string(), "{order}");
    let promised: Vec<String> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["promised_date"].as_str().unwrap().to_string())
        .collect();
    let lines: Vec<String> = lines.iter().map(Date::to_string).collect();
    assert_eq!(promised, lines, "{order}");
}
