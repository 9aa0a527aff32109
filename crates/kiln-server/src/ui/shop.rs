//! The storefront: catalog, product page with live configurator, saved
//! designs, cart, checkout and the customer's order page.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kiln_configure::Selections;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{UiResult, cookie, long_date, money, page, see_other, set_cookie};
use crate::AppState;
use crate::error::ApiError;
use kiln_app::orders::{CustomerInput, LineInput, OrderRequest};
use kiln_app::storefront::{CartLine, recheck};
use kiln_app::{BrandRuntime, Error as AppError};
use kiln_domain::{Address, Channel, OrderId, PaymentStatus, TimelineStatus};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/shop/{brand}", get(catalog))
        .route("/shop/{brand}/p/{product}", get(product_page))
        .route("/shop/{brand}/p/{product}/panel", get(panel))
        .route("/shop/{brand}/designs", post(save_design))
        .route("/shop/{brand}/d/{code}", get(design_page))
        .route("/shop/{brand}/cart", get(cart_page).post(add_to_cart))
        .route("/shop/{brand}/cart/remove", post(remove_from_cart))
        .route("/shop/{brand}/cart/quantity", post(change_quantity))
        .route("/shop/{brand}/checkout", get(checkout_page).post(checkout))
        .route("/shop/{brand}/orders/{order}", get(order_page))
}

use super::panel::{
    Fields, PanelFragment, PanelView, configure_leniently, field, panel_view, quantity_of,
    selection_label, selections_of,
};

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    brand: String,
    cart_count: usize,
    share: Option<Share>,
    p: PanelView,
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    brand: String,
    brand_name: String,
    cart_count: usize,
    products: Vec<super::ProductCard>,
}

async fn catalog(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let cart_count = cart_lines(&state, &rt, &headers).await.len();
    Ok(page(&CatalogPage {
        brand: rt.brand.slug.to_string(),
        brand_name: rt.brand.name.clone(),
        cart_count,
        products: super::cards(&rt),
    }))
}

async fn product_page(
    State(state): State<Arc<AppState>>,
    Path((brand, product)): Path<(String, String)>,
    Query(fields): Query<Fields>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let c = rt.product(&product)?;
    let p = panel_view(&rt, c, selections_of(&fields), quantity_of(&fields)).await;
    let cart_count = cart_lines(&state, &rt, &headers).await.len();
    Ok(page(&ProductPage {
        brand: rt.brand.slug.to_string(),
        cart_count,
        share: None,
        p,
    }))
}

async fn panel(
    State(state): State<Arc<AppState>>,
    Path((brand, product)): Path<(String, String)>,
    Query(fields): Query<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let c = rt.product(&product)?;
    let p = panel_view(&rt, c, selections_of(&fields), quantity_of(&fields)).await;
    Ok(page(&PanelFragment { p }))
}

async fn save_design(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    Form(fields): Form<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let product = field(&fields, "_product").unwrap_or_default().to_string();
    let c = rt.product(&product)?;
    let (outcome, _) = configure_leniently(c, selections_of(&fields));
    // Only what the customer chose: defaults may change, choices should not.
    let chosen: Selections = outcome
        .options
        .iter()
        .filter_map(|o| o.selected.clone().map(|v| (o.id.clone(), v)))
        .collect();
    let design = state
        .app
        .save_design(rt.brand.slug.as_str(), &product, chosen)
        .await?;
    let mut response = see_other(&format!("/shop/{}/d/{}", rt.brand.slug, design.code));
    // Only the one who saved it is told so, once; the link shows the design.
    let path = format!("/shop/{}/d/{}", rt.brand.slug, design.code);
    set_cookie(&mut response, SAVED_COOKIE, "1", &path, 300);
    Ok(response)
}

/// Set on the design page's path for the next view after saving it.
const SAVED_COOKIE: &str = "kiln_saved";

/// A design's link, and whether the viewer has just saved it (or was sent
/// the link).
struct Share {
    link: String,
    saved: bool,
}

async fn design_page(
    State(state): State<Arc<AppState>>,
    Path((brand, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let design = state.app.design(rt.brand.slug.as_str(), &code).await?;
    let c = rt.product(&design.product_id)?;
    // Saved on an older catalog version: say what no longer holds.
    let problems = recheck(&rt.catalog, &design.product_id, &design.selections);
    let mut p = panel_view(&rt, c, design.selections.clone(), Ok(1)).await;
    if !problems.is_empty() {
        let note = format!(
            "This design was saved on an earlier catalog: {}",
            problems.join("; ")
        );
        p.conflict = Some(p.conflict.map_or(note.clone(), |c| format!("{note}. {c}")));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let saved = cookie(&headers, SAVED_COOKIE).is_some();
    let share = Some(Share {
        link: format!("http://{host}/shop/{}/d/{}", rt.brand.slug, design.code),
        saved,
    });
    let cart_count = cart_lines(&state, &rt, &headers).await.len();
    let mut response = page(&ProductPage {
        brand: rt.brand.slug.to_string(),
        cart_count,
        share,
        p,
    });
    if saved {
        let path = format!("/shop/{}/d/{}", rt.brand.slug, design.code);
        set_cookie(&mut response, SAVED_COOKIE, "", &path, 0);
    }
    Ok(response)
}

const CART_COOKIE: &str = "kiln_cart";

async fn cart_lines(state: &AppState, rt: &BrandRuntime, headers: &HeaderMap) -> Vec<CartLine> {
    let Some(id) = cookie(headers, CART_COOKIE) else {
        return Vec::new();
    };
    state
        .app
        .cart(rt.brand.slug.as_str(), &id)
        .await
        .unwrap_or_default()
}

async fn save_cart(
    state: &AppState,
    rt: &BrandRuntime,
    id: &str,
    lines: &[CartLine],
) -> UiResult<()> {
    Ok(state
        .app
        .put_cart(rt.brand.slug.as_str(), id, lines)
        .await?)
}

async fn add_to_cart(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let product = field(&fields, "_product").unwrap_or_default().to_string();
    let c = rt.product(&product)?;
    let quantity = quantity_of(&fields).map_err(|e| ApiError::invalid("_quantity", e))?;
    let outcome = c
        .configure_unexplained(&selections_of(&fields))
        .map_err(|e| ApiError::invalid(e.option(), e.to_string()))?;
    if !(outcome.valid && outcome.complete) {
        return Err(ApiError::invalid(
            "selections",
            "this configuration cannot be made; change the options marked unavailable",
        )
        .into());
    }
    let id = cookie(&headers, CART_COOKIE)
        .unwrap_or_else(|| format!("cart_{}", uuid::Uuid::now_v7().simple()));
    let mut lines = cart_lines(&state, &rt, &headers).await;
    let shown_promise = kiln_app::catalog::quote(&rt, c.product(), &outcome, quantity).await;
    lines.push(CartLine {
        product,
        selections: outcome.configuration.clone(),
        quantity,
        shown_promise,
    });
    save_cart(&state, &rt, &id, &lines).await?;
    let mut response = see_other(&format!("/shop/{}/cart", rt.brand.slug));
    set_cookie(
        &mut response,
        CART_COOKIE,
        &id,
        &format!("/shop/{}", rt.brand.slug),
        30 * 86_400,
    );
    Ok(response)
}

async fn remove_from_cart(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    if let Some(id) = cookie(&headers, CART_COOKIE) {
        let mut lines = cart_lines(&state, &rt, &headers).await;
        if let Some(i) = field(&fields, "line").and_then(|l| l.parse::<usize>().ok())
            && i < lines.len()
        {
            lines.remove(i);
        }
        save_cart(&state, &rt, &id, &lines).await?;
    }
    Ok(see_other(&format!("/shop/{}/cart", rt.brand.slug)))
}

pub struct CartLineView {
    name: String,
    /// The configured product drawn small; decorative beside its summary.
    picture: String,
    /// Why a quantity typed for this line was not taken.
    error: String,
    summary: String,
    quantity: u32,
    price: String,
    /// The date the factory can deliver this line by now ("" if it cannot).
    promise: String,
    /// Set when that is later than the date shown when the line was added.
    later: String,
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    brand: String,
    cart_count: usize,
    lines: Vec<CartLineView>,
    totals: Totals,
    max_quantity: u32,
}

/// An SVG hidden from screen readers: the text beside it says the same.
fn decorative(svg: &str) -> String {
    match svg.strip_prefix("<svg") {
        Some(rest) => format!("<svg aria-hidden=\"true\" focusable=\"false\"{rest}"),
        None => String::new(),
    }
}

/// Cart lines priced and promised now; a line whose product changed and no
/// longer fits is shown with its reason instead of a price. A line the
/// factory can no longer deliver by the date shown when it was added says so.
async fn priced(rt: &BrandRuntime, lines: &[CartLine]) -> (Vec<CartLineView>, Totals) {
    let mut total = Decimal::ZERO;
    let mut currency = String::from("EUR");
    let mut views = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(c) = rt.catalog.product(&l.product) else {
            views.push(CartLineView {
                picture: String::new(),
                error: String::new(),
                name: l.product.clone(),
                summary: "no longer sold".into(),
                quantity: l.quantity,
                price: "–".into(),
                promise: String::new(),
                later: String::new(),
            });
            continue;
        };
        // Added on an older catalog version: say what no longer holds.
        let problems = recheck(&rt.catalog, &l.product, &l.selections);
        let summary = l
            .selections
            .iter()
            .map(|(o, v)| selection_label(c, o, v))
            .collect::<Vec<_>>()
            .join(", ");
        let outcome = c
            .configure_unexplained(&l.selections)
            .ok()
            .filter(|o| o.valid && o.complete);
        let price = match outcome.as_ref().and_then(|o| o.price.as_ref()) {
            Some(p) => {
                currency = p.currency.clone();
                let line = p.total * Decimal::from(l.quantity);
                total += line;
                money(&p.currency, line)
            }
            None if problems.is_empty() => "cannot be made as configured".into(),
            None => format!("cannot be made as configured: {}", problems.join("; ")),
        };
        let now = match &outcome {
            Some(o) => kiln_app::catalog::quote(rt, c.product(), o, l.quantity).await,
            None => None,
        };
        let later = match (l.shown_promise, now) {
            (Some(shown), Some(now)) if now > shown => format!(
                "Later than the {} shown when you added it: the factory has taken other orders since.",
                long_date(shown)
            ),
            _ => String::new(),
        };
        views.push(CartLineView {
            error: String::new(),
            picture: outcome
                .as_ref()
                .map(|o| decorative(&o.preview_svg))
                .unwrap_or_default(),
            name: c.product().name.clone(),
            summary,
            quantity: l.quantity,
            price,
            promise: now.map(long_date).unwrap_or_default(),
            later,
        });
    }
    (
        views,
        Totals::of(&rt.catalog.factory.sales, &currency, total),
    )
}

/// What the customer pays for the goods, delivered to an address: the
/// goods, shipping (or why it is free), the total and the tax it includes.
pub struct Totals {
    pub goods: String,
    pub shipping: String,
    /// Set when shipping is charged and could be free.
    pub free_from: String,
    pub total: String,
    /// "Includes VAT (19%): €4.79", or empty when the brand shows no tax.
    pub tax: String,
}

impl Totals {
    pub fn of(sales: &kiln_model::Sales, currency: &str, goods: Decimal) -> Totals {
        let shipping = sales.shipping_for(goods, false);
        let total = goods + shipping;
        let tax = sales.tax_in(total);
        Totals {
            goods: money(currency, goods),
            shipping: if shipping.is_zero() {
                "free".into()
            } else {
                money(currency, shipping)
            },
            free_from: match sales.free_shipping_from {
                Some(from) if !shipping.is_zero() => format!(
                    "Free for orders from {}: {} more.",
                    money(currency, from),
                    money(currency, from - goods)
                ),
                _ => String::new(),
            },
            total: money(currency, total),
            tax: if tax.is_zero() {
                String::new()
            } else {
                format!(
                    "Includes {} ({}%): {}",
                    sales.tax_name,
                    sales.tax_rate.normalize(),
                    money(currency, tax)
                )
            },
        }
    }
}

async fn cart_page(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let lines = cart_lines(&state, &rt, &headers).await;
    Ok(page(&cart_view(&rt, &lines, None).await))
}

async fn cart_view(
    rt: &BrandRuntime,
    lines: &[CartLine],
    problem: Option<(usize, String)>,
) -> CartPage {
    let (mut lines, totals) = priced(rt, lines).await;
    if let Some((i, message)) = problem
        && let Some(line) = lines.get_mut(i)
    {
        line.error = message;
    }
    CartPage {
        brand: rt.brand.slug.to_string(),
        cart_count: lines.len(),
        lines,
        totals,
        max_quantity: kiln_app::orders::MAX_QUANTITY,
    }
}

/// Changes one line's quantity; the line's date is promised again for it.
/// A quantity outside 1 to the maximum is refused next to its field, and the
/// cart stays as it was.
async fn change_quantity(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let back = see_other(&format!("/shop/{}/cart", rt.brand.slug));
    let Some(id) = cookie(&headers, CART_COOKIE) else {
        return Ok(back);
    };
    let mut lines = cart_lines(&state, &rt, &headers).await;
    let Some(i) = field(&fields, "line")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|i| *i < lines.len())
    else {
        return Ok(back);
    };
    let quantity = field(&fields, "quantity")
        .map(str::trim)
        .and_then(|q| q.parse::<u32>().ok())
        .filter(|q| (1..=kiln_app::orders::MAX_QUANTITY).contains(q));
    let Some(quantity) = quantity else {
        let message = format!(
            "Enter a whole number from 1 to {}; to take the item out, use Remove.",
            kiln_app::orders::MAX_QUANTITY
        );
        let mut response = page(&cart_view(&rt, &lines, Some((i, message))).await);
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    };
    let line = &mut lines[i];
    line.quantity = quantity;
    if let Some(c) = rt.catalog.product(&line.product)
        && let Ok(o) = c.configure_unexplained(&line.selections)
        && o.valid
        && o.complete
    {
        line.shown_promise = kiln_app::catalog::quote(&rt, c.product(), &o, quantity).await;
    }
    save_cart(&state, &rt, &id, &lines).await?;
    Ok(back)
}

pub struct FieldView {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
    error: String,
    /// The first field in error takes the focus when the page loads.
    autofocus: bool,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    brand: String,
    cart_count: usize,
    count: usize,
    lines: Vec<CartLineView>,
    totals: Totals,
    problem: String,
    fields: Vec<FieldView>,
    countries: Vec<(&'static str, &'static str)>,
}

const COUNTRIES: &[(&str, &str)] = &[
    ("GB", "United Kingdom"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("IT", "Italy"),
    ("ES", "Spain"),
    ("NL", "Netherlands"),
    ("IE", "Ireland"),
    ("US", "United States"),
    ("CN", "China"),
    ("JP", "Japan"),
];

/// (field, label, input type, autocomplete, path in the order request)
const CHECKOUT_FIELDS: &[(&str, &str, &str, &str, &str)] = &[
    ("name", "Full name", "text", "name", "/customer/name"),
    ("email", "Email", "email", "email", "/customer/email"),
    ("phone", "Phone (optional)", "tel", "tel", "/customer/phone"),
    (
        "line1",
        "Street address",
        "text",
        "address-line1",
        "/ship_to/line1",
    ),
    ("city", "City", "text", "address-level2", "/ship_to/city"),
    (
        "postal_code",
        "Postal code",
        "text",
        "postal-code",
        "/ship_to/postal_code",
    ),
    ("country", "Country", "text", "country", "/ship_to/country"),
];

/// A checkout error as a shopper reads it: what to do, in a sentence. A
/// missing field says what to enter; the country is chosen, not typed.
fn for_shoppers(field: &str, message: &str) -> String {
    let missing = message.contains("required");
    match (field, missing) {
        ("name", true) => "Enter your full name.".into(),
        ("email", true) => "Enter your email address, like ada@example.com.".into(),
        ("line1", true) => "Enter the street and number.".into(),
        ("city", true) => "Enter the town or city.".into(),
        ("postal_code", true) => "Enter the postal code.".into(),
        ("country", _) => "Choose the country to deliver to.".into(),
        _ => super::sentence(message),
    }
}

async fn checkout_form(
    rt: &BrandRuntime,
    lines: &[CartLine],
    values: &Fields,
    errors: &[kiln_app::FieldError],
    problem: String,
) -> CheckoutPage {
    let (views, totals) = priced(rt, lines).await;
    let mut fields: Vec<FieldView> = CHECKOUT_FIELDS
        .iter()
        .map(|(name, label, kind, autocomplete, path)| FieldView {
            name,
            label,
            kind,
            autocomplete,
            value: field(values, name).unwrap_or_default().to_string(),
            error: errors
                .iter()
                .filter(|e| e.path == *path || (*name == "name" && e.path == "/ship_to/name"))
                .map(|e| for_shoppers(name, &e.message))
                .next()
                .unwrap_or_default(),
            autofocus: false,
        })
        .collect();
    if let Some(first) = fields.iter_mut().find(|f| !f.error.is_empty()) {
        first.autofocus = true;
    }
    CheckoutPage {
        brand: rt.brand.slug.to_string(),
        cart_count: views.len(),
        count: views.len(),
        lines: views,
        totals,
        problem,
        fields,
        countries: COUNTRIES.to_vec(),
    }
}

async fn checkout_page(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let lines = cart_lines(&state, &rt, &headers).await;
    if lines.is_empty() {
        return Ok(see_other(&format!("/shop/{}/cart", rt.brand.slug)));
    }
    let form = checkout_form(&rt, &lines, &Vec::new(), &[], String::new()).await;
    Ok(page(&form))
}

async fn checkout(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Form(values): Form<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let Some(cart_id) = cookie(&headers, CART_COOKIE) else {
        return Ok(see_other(&format!("/shop/{}/cart", rt.brand.slug)));
    };
    let lines = cart_lines(&state, &rt, &headers).await;
    if lines.is_empty() {
        return Ok(see_other(&format!("/shop/{}/cart", rt.brand.slug)));
    }
    let get = |name: &str| field(&values, name).unwrap_or_default().trim().to_string();
    let name = get("name");
    let request = OrderRequest {
        customer: CustomerInput {
            name: name.clone(),
            email: get("email"),
            phone: Some(get("phone")).filter(|p| !p.is_empty()),
        },
        ship_to: Address {
            name,
            line1: get("line1"),
            line2: None,
            city: get("city"),
            postal_code: get("postal_code"),
            region: None,
            country: get("country").to_uppercase(),
        },
        channel: Channel::Online,
        store_id: None,
        lines: lines
            .iter()
            .map(|l| LineInput {
                product: l.product.clone(),
                selections: l.selections.clone(),
                quantity: l.quantity,
            })
            .collect(),
    };
    // The cart is the idempotency key: a double submit places one order.
    let slug = rt.brand.slug.as_str();
    match state
        .app
        .place_order(slug, Some(format!("checkout-{cart_id}")), request)
        .await
    {
        Ok(order) => {
            state.app.clear_cart(slug, &cart_id).await?;
            let to = format!(
                "/shop/{}/orders/{}?token={}",
                rt.brand.slug, order.id, order.access_token
            );
            let mut response = see_other(&to);
            set_cookie(
                &mut response,
                CART_COOKIE,
                "",
                &format!("/shop/{}", rt.brand.slug),
                0,
            );
            Ok(response)
        }
        Err(AppError::Invalid { detail, errors }) => {
            let known: Vec<&str> = CHECKOUT_FIELDS
                .iter()
                .map(|f| f.4)
                .chain(["/ship_to/name"])
                .collect();
            let problem = if errors.iter().all(|e| known.contains(&e.path.as_str())) {
                "Please correct the fields marked below.".to_string()
            } else {
                detail
            };
            let form = checkout_form(&rt, &lines, &values, &errors, problem).await;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&form)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub struct StepView {
    label: &'static str,
    done: bool,
    at: String,
    note: String,
}

#[derive(Template)]
#[template(path = "order.html")]
pub(super) struct OrderPage {
    pub(super) payment: String,
    pub(super) brand: String,
    pub(super) cart_count: usize,
    pub(super) id: String,
    pub(super) status_label: String,
    pub(super) promised: String,
    pub(super) steps: Vec<StepView>,
    /// (when, what) for each change to the promise, newest last.
    pub(super) updates: Vec<(String, String)>,
    pub(super) lines: Vec<(String, String, i64, String)>,
    pub(super) total: String,
    /// "€4.90", "free", or "none: picked up at the store".
    pub(super) shipping: String,
    /// "Includes VAT: €5.09", or empty.
    pub(super) tax: String,
    /// Where it goes, a line each, as the customer typed it.
    pub(super) address: Vec<String>,
    pub(super) email: String,
}

pub const STEPS: &[(&str, &str)] = &[
    ("ordered", "Ordered"),
    ("planned", "Planned"),
    ("in_production", "In production"),
    ("made", "Made"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
];

#[derive(Deserialize)]
struct Token {
    token: Option<String>,
}

async fn order_page(
    State(state): State<Arc<AppState>>,
    Path((brand, order)): Path<(String, String)>,
    Query(token): Query<Token>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let o = state
        .app
        .order_for_customer(
            rt.brand.slug.as_str(),
            &OrderId::from(order),
            token.token.as_deref(),
        )
        .await?;
    Ok(page(&order_view(&rt, &o)))
}

/// The order page of one order, for the customer or a clerk.
pub(super) fn order_view(rt: &BrandRuntime, o: &kiln_domain::Order) -> OrderPage {
    let steps = STEPS
        .iter()
        .map(|(status, label)| {
            let event = o.timeline.iter().find(|e| e.status.as_str() == *status);
            StepView {
                label,
                done: event.is_some(),
                at: event.map(|e| minute(e.at)).unwrap_or_default(),
                note: event.map(|e| e.note.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let updates = o
        .timeline
        .iter()
        .filter(|e| e.status == TimelineStatus::PromiseMoved)
        .map(|e| (minute(e.at), e.note.clone()))
        .collect();
    let status_label = STEPS
        .iter()
        .find(|(s, _)| *s == o.status.as_str())
        .map(|(_, l)| l.to_string())
        .unwrap_or(o.status.to_string());
    let lines = o
        .lines
        .iter()
        .map(|l| {
            let selections = &l.selections;
            let (name, summary) = match rt.catalog.product(&l.product_id) {
                Some(c) => (
                    c.product().name.clone(),
                    selections
                        .iter()
                        .map(|(k, v)| selection_label(c, k, v))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                None => (l.product_id.clone(), l.sku.clone()),
            };
            let unit = money(&o.currency, l.unit_price);
            (name, summary, l.quantity, unit)
        })
        .collect();
    let total = money(&o.currency, o.total);
    let shipping = if o.channel == kiln_domain::Channel::Store {
        "none: picked up at the store".to_string()
    } else if o.shipping.is_zero() {
        "free".to_string()
    } else {
        money(&o.currency, o.shipping)
    };
    let tax = if o.tax.is_zero() {
        String::new()
    } else {
        format!(
            "Includes {}: {}",
            rt.catalog.factory.sales.tax_name,
            money(&o.currency, o.tax)
        )
    };
    let payment = match &o.payment {
        Some(p) if p.status == PaymentStatus::Paid => format!("Paid ({})", p.reference),
        Some(p) if p.status == PaymentStatus::AwaitingPayment => p.instructions.clone(),
        Some(p) => format!("{} ({})", p.status.as_str().replace('_', " "), p.reference),
        None => String::new(),
    };
    let a = &o.ship_to;
    let address = [
        Some(a.name.clone()),
        Some(a.line1.clone()),
        a.line2.clone(),
        Some(format!("{} {}", a.postal_code, a.city).trim().to_string()),
        a.region.clone(),
        Some(a.country.clone()),
    ]
    .into_iter()
    .flatten()
    .filter(|l| !l.trim().is_empty())
    .collect();
    OrderPage {
        address,
        email: o.customer.email.clone(),
        payment,
        brand: rt.brand.slug.to_string(),
        cart_count: 0,
        id: o.id.to_string(),
        status_label,
        promised: long_date(o.promised_date),
        steps,
        updates,
        lines,
        total,
        shipping,
        tax,
    }
}

/// A timestamp to the minute, for timelines.
fn minute(at: jiff::Timestamp) -> String {
    at.to_string()
        .chars()
        .take(16)
        .collect::<String>()
        .replace('T', " ")
        + " UTC"
}
