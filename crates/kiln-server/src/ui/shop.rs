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
use kiln_configure::{Configurator, Outcome, Reason, Selections};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{UiResult, cookie, long_date, money, page, see_other, set_cookie};
use crate::AppState;
use crate::error::ApiError;
use kiln_app::orders::{CustomerInput, LineInput, MAX_QUANTITY, OrderRequest};
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
        .route("/shop/{brand}/checkout", get(checkout_page).post(checkout))
        .route("/shop/{brand}/orders/{order}", get(order_page))
}

type Fields = Vec<(String, String)>;

/// Form fields that are selections: control fields start with `_`, and an
/// empty value means "not chosen".
pub(super) fn selections_of(fields: &Fields) -> Selections {
    fields
        .iter()
        .filter(|(k, v)| !k.starts_with('_') && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect()
}

/// The panel's quantity field: a whole number from 1 to [`MAX_QUANTITY`].
pub(super) fn quantity_of(fields: &Fields) -> Result<u32, String> {
    match field(fields, "_quantity").map(str::trim) {
        None | Some("") => Ok(1),
        Some(q) => q
            .parse::<u32>()
            .ok()
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or_else(|| format!("Choose a quantity from 1 to {MAX_QUANTITY}.")),
    }
}

pub(super) fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Configures, dropping selections the product does not know (an old link,
/// a hand-edited URL) and saying so, rather than failing the page.
fn configure_leniently(c: &Configurator, mut selections: Selections) -> (Outcome, Vec<String>) {
    let mut dropped = Vec::new();
    loop {
        match c.configure(&selections) {
            Ok(outcome) => return (outcome, dropped),
            Err(e) => {
                dropped.push(e.to_string());
                selections.remove(e.option());
            }
        }
    }
}

pub struct ValueView {
    pub id: String,
    pub label: String,
    pub checked: bool,
    pub available: bool,
    pub reason: String,
}

pub struct OptionView {
    pub id: String,
    pub name: String,
    pub optional: bool,
    pub is_text: bool,
    pub is_number: bool,
    pub is_color: bool,
    pub value: String,
    pub values: Vec<ValueView>,
    pub reason: String,
    pub max_length: u32,
    pub min: String,
    pub max: String,
    pub unit: String,
}

pub struct PanelView {
    pub brand: String,
    pub product: String,
    pub name: String,
    pub description: String,
    pub svg: String,
    pub conflict: Option<String>,
    pub options: Vec<OptionView>,
    pub base: String,
    pub price_lines: Vec<(String, String)>,
    /// Price of one unit.
    pub total: String,
    /// Units the price and the date are for.
    pub quantity: u32,
    /// Price of `quantity` units.
    pub total_all: String,
    /// The date `quantity` units can be delivered by.
    pub promise: String,
    pub sku: String,
    pub orderable: bool,
    /// A clerk's page: the customer's details replace cart and design.
    pub store_mode: bool,
}

/// A reason in words: the rules' messages, and which choices trigger them.
fn reason_text(c: &Configurator, reason: &Reason) -> String {
    let rules: Vec<&str> = reason.rules.iter().map(|r| r.message.as_str()).collect();
    let mut text = rules.join("; ");
    if !reason.selections.is_empty() {
        let with: Vec<String> = reason
            .selections
            .iter()
            .map(|(o, v)| selection_label(c, o, v))
            .collect();
        text.push_str(&format!(" (with {})", with.join(", ")));
    }
    if text.is_empty() {
        "it breaks the product's rules".into()
    } else {
        text
    }
}

/// `Shape: Conical` for an option and a value id.
fn selection_label(c: &Configurator, option: &str, value: &str) -> String {
    let Some(o) = c.product().option(option) else {
        return format!("{option} = {value}");
    };
    let label = o
        .kind
        .values()
        .iter()
        .find(|v| v.id.eq_ignore_ascii_case(value))
        .map(|v| v.label.as_str())
        .unwrap_or(value);
    format!("{}: {}", o.name, label)
}

/// The preview with an accessible name that lists the configuration, so
/// screen readers (and any change of option) see a different picture.
fn accessible_svg(svg: &str, c: &Configurator, outcome: &Outcome) -> String {
    let described: Vec<String> = outcome
        .options
        .iter()
        .filter_map(|o| o.value.as_ref().map(|v| selection_label(c, &o.id, v)))
        .collect();
    let label = format!("{}: {}", c.product().name, described.join(", "));
    let label = label
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    match svg.find('>') {
        Some(end) if svg.starts_with("<svg") => format!(
            "{} role=\"img\" aria-label=\"{label}\"><title>{label}</title>{}",
            &svg[..end],
            &svg[end + 1..]
        ),
        _ => svg.to_string(),
    }
}

/// The configurator panel for these selections and this many units (a
/// quantity that is not one is reported, and 1 is priced instead).
pub(super) async fn panel_view(
    rt: &BrandRuntime,
    c: &Configurator,
    selections: Selections,
    quantity: Result<u32, String>,
) -> PanelView {
    let p = c.product();
    let (outcome, dropped) = configure_leniently(c, selections);
    let (quantity, quantity_error) = match quantity {
        Ok(q) => (q, None),
        Err(e) => (1, Some(e)),
    };
    let options = outcome
        .options
        .iter()
        .map(|o| {
            let mut values: Vec<ValueView> = o
                .values
                .iter()
                .map(|v| ValueView {
                    id: v.id.clone(),
                    label: v.label.clone(),
                    checked: o.value.as_deref() == Some(v.id.as_str()),
                    available: v.available,
                    reason: v
                        .reason
                        .as_ref()
                        .map(|r| reason_text(c, r))
                        .unwrap_or_default(),
                })
                .collect();
            if o.optional && !o.values.is_empty() {
                values.insert(
                    0,
                    ValueView {
                        id: String::new(),
                        label: "None".into(),
                        checked: o.value.is_none(),
                        available: o.can_be_omitted,
                        reason: if o.can_be_omitted {
                            String::new()
                        } else {
                            "your other choices need it".into()
                        },
                    },
                );
            }
            OptionView {
                id: o.id.clone(),
                name: o.name.clone(),
                optional: o.optional,
                is_text: o.kind == "text",
                is_number: o.kind == "number",
                is_color: o.kind == "color",
                value: o.value.clone().unwrap_or_default(),
                values,
                reason: String::new(),
                max_length: o.max_length.unwrap_or(0),
                min: o.min.map(|d| d.to_string()).unwrap_or_default(),
                max: o.max.map(|d| d.to_string()).unwrap_or_default(),
                unit: o.unit.clone().unwrap_or_default(),
            }
        })
        .collect();
    let mut conflict = outcome
        .conflict
        .as_ref()
        .map(|r| format!("These choices do not go together: {}", reason_text(c, r)));
    if !dropped.is_empty() {
        let note = format!("Ignored: {}", dropped.join("; "));
        conflict = Some(conflict.map(|c| format!("{c}. {note}")).unwrap_or(note));
    }
    if let Some(e) = &quantity_error {
        conflict = Some(conflict.map_or(e.clone(), |c| format!("{c}. {e}")));
    }
    let orderable = outcome.valid && outcome.complete;
    let promise = if orderable {
        kiln_app::catalog::quote(rt, p, &outcome, quantity)
            .await
            .map(long_date)
            .unwrap_or_default()
    } else {
        String::new()
    };
    let (base, price_lines, total, total_all) = match &outcome.price {
        Some(price) => (
            money(&price.currency, price.base),
            price
                .lines
                .iter()
                .map(|l| (l.label.clone(), money(&price.currency, l.amount)))
                .collect(),
            money(&price.currency, price.total),
            money(
                &price.currency,
                price.total * rust_decimal::Decimal::from(quantity),
            ),
        ),
        None => (
            money(&p.currency, p.base_price),
            Vec::new(),
            "–".into(),
            "–".into(),
        ),
    };
    PanelView {
        brand: rt.brand.slug.to_string(),
        product: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        svg: accessible_svg(&outcome.preview_svg, c, &outcome),
        conflict,
        options,
        base,
        price_lines,
        total,
        quantity,
        total_all,
        promise,
        sku: outcome.sku.clone().unwrap_or_else(|| "–".into()),
        orderable,
        store_mode: false,
    }
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    brand: String,
    cart_count: usize,
    share: Option<Share>,
    p: PanelView,
}

#[derive(Template)]
#[template(path = "panel.html")]
pub(super) struct PanelFragment {
    pub p: PanelView,
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
    total: String,
}

/// Cart lines priced and promised now; a line whose product changed and no
/// longer fits is shown with its reason instead of a price. A line the
/// factory can no longer deliver by the date shown when it was added says so.
async fn priced(rt: &BrandRuntime, lines: &[CartLine]) -> (Vec<CartLineView>, String) {
    let mut total = Decimal::ZERO;
    let mut currency = String::from("EUR");
    let mut views = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(c) = rt.catalog.product(&l.product) else {
            views.push(CartLineView {
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
            name: c.product().name.clone(),
            summary,
            quantity: l.quantity,
            price,
            promise: now.map(long_date).unwrap_or_default(),
            later,
        });
    }
    (views, money(&currency, total))
}

async fn cart_page(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let lines = cart_lines(&state, &rt, &headers).await;
    let (lines, total) = priced(&rt, &lines).await;
    Ok(page(&CartPage {
        brand: rt.brand.slug.to_string(),
        cart_count: lines.len(),
        lines,
        total,
    }))
}

pub struct FieldView {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
    error: String,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    brand: String,
    cart_count: usize,
    count: usize,
    lines: Vec<CartLineView>,
    total: String,
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

async fn checkout_form(
    rt: &BrandRuntime,
    lines: &[CartLine],
    values: &Fields,
    errors: &[kiln_app::FieldError],
    problem: String,
) -> CheckoutPage {
    let (views, total) = priced(rt, lines).await;
    let fields = CHECKOUT_FIELDS
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
                .map(|e| e.message.clone())
                .next()
                .unwrap_or_default(),
        })
        .collect();
    CheckoutPage {
        brand: rt.brand.slug.to_string(),
        cart_count: views.len(),
        count: views.len(),
        lines: views,
        total,
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
    payment: String,
    brand: String,
    cart_count: usize,
    id: String,
    status_label: String,
    promised: String,
    steps: Vec<StepView>,
    /// (when, what) for each change to the promise, newest last.
    updates: Vec<(String, String)>,
    lines: Vec<(String, String, i64, String)>,
    total: String,
    /// Where it goes, a line each, as the customer typed it.
    address: Vec<String>,
    email: String,
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
