//! The shopper's cart: lines kept server-side behind a cookie, each drawn,
//! priced and promised now, its quantity editable; the totals with shipping
//! and the tax they include.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rust_decimal::Decimal;

use super::panel::{Fields, field, quantity_of, selection_label, selections_of};
use super::{UiResult, cookie, long_date, money, page, see_other, set_cookie};
use crate::AppState;
use crate::error::ApiError;
use kiln_app::BrandRuntime;
use kiln_app::profiles::own::OwnEvent;
use kiln_app::rating::{RatedCart, Shipping};
use kiln_app::storefront::CartLine;

pub(super) const CART_COOKIE: &str = "kiln_cart";

pub(super) async fn cart_lines(
    state: &AppState,
    rt: &BrandRuntime,
    headers: &HeaderMap,
) -> Vec<CartLine> {
    let Some(id) = cookie(headers, CART_COOKIE) else {
        return Vec::new();
    };
    state
        .app
        .cart(rt.brand.slug.as_str(), &id)
        .await
        .unwrap_or_default()
}

pub(super) async fn save_cart(
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

pub(super) async fn add_to_cart(
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
    let sku = outcome.sku.clone().unwrap_or_default();
    let (viewed, configured) = (product.clone(), product.clone());
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
    let selections = serde_json::to_value(&outcome.configuration).unwrap_or_default();
    let (id, _) = super::visitor::visitor(&headers);
    state.app.record_event(
        &rt.brand,
        OwnEvent::track(&id, "Product Configured")
            .with("product_id", configured)
            .with("sku", sku.as_str())
            .with("selections", selections),
    );
    super::visitor::record(&state, &rt.brand, &headers, &mut response, |v| {
        OwnEvent::track(v, "Product Added")
            .with("product_id", viewed)
            .with("sku", sku)
            .with("quantity", quantity)
    });
    Ok(response)
}

pub(super) async fn remove_from_cart(
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
    pub(super) name: String,
    /// The configured product drawn small; decorative beside its summary.
    pub(super) picture: String,
    /// Why a quantity typed for this line was not taken.
    pub(super) error: String,
    pub(super) summary: String,
    pub(super) quantity: u32,
    pub(super) price: String,
    /// The date the factory can deliver this line by now ("" if it cannot).
    pub(super) promise: String,
    /// Set when that is later than the date shown when the line was added.
    pub(super) later: String,
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

/// Cart lines as rated (see [`kiln_app::rating`]): each drawn, priced and
/// promised; a line whose product changed and no longer fits is shown with
/// its reason instead of a price. A line the factory can no longer deliver
/// by the date shown when it was added says so.
pub(super) fn views(
    rt: &BrandRuntime,
    lines: &[CartLine],
    rated: &RatedCart,
) -> (Vec<CartLineView>, Totals) {
    let views = lines
        .iter()
        .zip(&rated.lines)
        .map(|(l, r)| {
            let Some(c) = rt.catalog.product(&l.product) else {
                return CartLineView {
                    picture: String::new(),
                    error: String::new(),
                    name: l.product.clone(),
                    summary: "no longer sold".into(),
                    quantity: l.quantity,
                    price: "–".into(),
                    promise: String::new(),
                    later: String::new(),
                };
            };
            let summary = l
                .selections
                .iter()
                .map(|(o, v)| selection_label(c, o, v))
                .collect::<Vec<_>>()
                .join(", ");
            let price = match r.unit_price {
                Some(unit) => money(&c.product().currency, unit * Decimal::from(l.quantity)),
                None if r.problems.is_empty() => "cannot be made as configured".into(),
                None => format!("cannot be made as configured: {}", r.problems.join("; ")),
            };
            CartLineView {
                error: String::new(),
                picture: r
                    .outcome
                    .as_ref()
                    .map(|o| decorative(&o.preview_svg))
                    .unwrap_or_default(),
                name: c.product().name.clone(),
                summary,
                quantity: l.quantity,
                price,
                promise: r.promise.map(long_date).unwrap_or_default(),
                later: r
                    .slipped_from
                    .map(|shown| {
                        format!(
                            "Later than the {} shown when you added it: the factory has taken other orders since.",
                            long_date(shown)
                        )
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    (views, Totals::of(&rt.catalog.factory.sales, rated))
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
    /// The amounts of a rated cart, as shown; `sales` names the tax.
    pub fn of(sales: &kiln_model::Sales, rated: &RatedCart) -> Totals {
        let currency = rated.currency.as_str();
        Totals {
            goods: money(currency, rated.goods),
            shipping: match &rated.shipping {
                Shipping::Charged(c) if c.is_zero() => "free".into(),
                Shipping::Charged(c) => money(currency, *c),
                _ => "unavailable".into(),
            },
            free_from: match rated.free_from {
                Some(from) => format!(
                    "Free for orders from {}: {} more.",
                    money(currency, from),
                    money(currency, from - rated.goods)
                ),
                None => String::new(),
            },
            total: money(currency, rated.total),
            tax: if rated.tax.is_zero() {
                String::new()
            } else {
                format!(
                    "Includes {} ({}%): {}",
                    sales.tax_name,
                    sales.tax_rate.normalize(),
                    money(currency, rated.tax)
                )
            },
        }
    }
}

pub(super) async fn cart_page(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let lines = cart_lines(&state, &rt, &headers).await;
    Ok(page(&cart_view(&state, &rt, &lines, None).await?))
}

/// The cart, rated for the brand's home country (the address comes at
/// checkout).
async fn cart_view(
    state: &AppState,
    rt: &BrandRuntime,
    lines: &[CartLine],
    problem: Option<(usize, String)>,
) -> UiResult<CartPage> {
    let rated = state
        .app
        .rate_cart(rt.brand.slug.as_str(), lines, None)
        .await?;
    let (mut lines, totals) = views(rt, lines, &rated);
    if let Some((i, message)) = problem
        && let Some(line) = lines.get_mut(i)
    {
        line.error = message;
    }
    Ok(CartPage {
        brand: rt.brand.slug.to_string(),
        cart_count: lines.len(),
        lines,
        totals,
        max_quantity: kiln_app::orders::MAX_QUANTITY,
    })
}

/// Changes one line's quantity; the line's date is promised again for it.
/// A quantity outside 1 to the maximum is refused next to its field, and the
/// cart stays as it was.
pub(super) async fn change_quantity(
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
        let mut response = page(&cart_view(&state, &rt, &lines, Some((i, message))).await?);
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
