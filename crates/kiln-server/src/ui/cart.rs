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
use kiln_app::storefront::{CartLine, recheck};

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

/// Cart lines priced and promised now; a line whose product changed and no
/// longer fits is shown with its reason instead of a price. A line the
/// factory can no longer deliver by the date shown when it was added says so.
pub(super) async fn priced(rt: &BrandRuntime, lines: &[CartLine]) -> (Vec<CartLineView>, Totals) {
    let mut total = Decimal::ZERO;
    let mut currency = String::from("EUR");
    let mut parcels = Vec::new();
    let mut views = Vec::with_capacity(lines.len());
    // Quantity breaks count the units of a product over the whole cart, as
    // the order will.
    let mut units: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    for l in lines {
        *units.entry(l.product.as_str()).or_default() += l.quantity;
    }
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
        let at = kiln_configure::Units {
            line: l.quantity,
            order: units.get(l.product.as_str()).copied().unwrap_or(l.quantity),
        };
        let unit_price = outcome
            .as_ref()
            .filter(|o| o.price.is_some())
            .map(|o| c.price_at(&o.configuration, at));
        let price = match &unit_price {
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
        if let Some(o) = &outcome
            && let Some(u) = kiln_app::logistics::units(
                parcels.len() as i64,
                c,
                &o.configuration,
                o.sku.as_deref().unwrap_or_default(),
                l.quantity,
            )
        {
            parcels.push(u);
        }
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
        Totals::of(
            &rt.catalog.factory.sales,
            &currency,
            total,
            kiln_app::logistics::estimate(&rt.catalog.factory, parcels),
        ),
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
    /// `carrier`: what the brand's carriers charge for these goods (to its
    /// home country, until the address is known); `None`: the flat rate.
    pub fn of(
        sales: &kiln_model::Sales,
        currency: &str,
        goods: Decimal,
        carrier: Option<Decimal>,
    ) -> Totals {
        let shipping = sales.charge(goods, false, carrier);
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

pub(super) async fn cart_page(
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
