//! Bulk orders, on two surfaces: the console's page (staff quote for a
//! business buyer) and the storefront's business page (the buyer quotes and
//! accepts alone, as a public checkout is: unproven). Both offer a template
//! CSV per product, quote an upload with every bad row listed, and accept
//! the quote as one order.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kiln_app::Error as AppError;
use kiln_app::bulk::Acceptance;
use kiln_app::orders::CustomerInput;
use kiln_domain::{Address, BulkQuote, QuoteId, ShipPolicy};
use serde::Deserialize;

use super::console::require;
use super::{Flash, UiResult, long_date, money, page};
use crate::AppState;
use crate::error::ApiError;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/bulk", get(show).post(upload))
        .route("/console/bulk/{quote}/accept", post(accept))
        .route(
            "/shop/{brand}/business",
            get(shop_show)
                .post(shop_upload)
                .layer(DefaultBodyLimit::max(SHOP_UPLOAD)),
        )
        .route("/shop/{brand}/business/{quote}/accept", post(shop_accept))
}

/// The largest file the storefront takes (some 50,000 rows); staff and
/// the API take more.
const SHOP_UPLOAD: usize = 8 * 1024 * 1024;

/// Where a bulk page is shown: who may use it and where its forms lead.
#[derive(Clone)]
enum Surface {
    /// Staff, for a buyer: `/console/bulk`, proven.
    Console,
    /// The buyer alone: `/shop/{brand}/business`, unproven.
    Shop(String),
}

impl Surface {
    fn base(&self) -> String {
        match self {
            Surface::Console => "/console/bulk".into(),
            Surface::Shop(slug) => format!("/shop/{slug}/business"),
        }
    }
}

/// Lines shown on the page; the rest are in the quote (`GET /bulk-quotes/{id}`).
const SHOWN: usize = 50;

#[derive(Template)]
#[template(path = "console_bulk.html")]
struct BulkPage {
    brand: String,
    /// The storefront's page, not the console's.
    shop: bool,
    /// Where the page and its forms are: `/console/bulk` or
    /// `/shop/{brand}/business`.
    base: String,
    cart_count: usize,
    notice: String,
    problem: String,
    /// (product name, template URL)
    templates: Vec<(String, String)>,
    /// (id, company) of the brand's business customers: the console's
    /// acceptance may name one.
    business: Vec<(String, String)>,
    /// The upload's problems when no row could be quoted: (where, what).
    refused: Vec<(String, String)>,
    quote: Option<QuoteView>,
}

struct QuoteView {
    id: String,
    total: String,
    goods: String,
    shipping: String,
    promised: String,
    valid_until: String,
    rows: u64,
    good_rows: u64,
    bad_rows: u64,
    units: u64,
    /// (row, column, message)
    errors: Vec<(u64, String, String)>,
    /// Problems past the listed ones.
    errors_omitted: u64,
    /// (sku, lines, quantity, unit price, amount)
    skus: Vec<(String, u64, u64, String, String)>,
    /// (row, sku, quantity, unit price, promised, recipient)
    lines: Vec<(u64, String, u32, String, String, String)>,
    more: usize,
    order: String,
    /// A fresh Idempotency-Key for the acceptance form: a double submit
    /// places one order.
    key: String,
}

fn view_of(q: &BulkQuote) -> QuoteView {
    let m = |d| money(&q.currency, d);
    QuoteView {
        id: q.id.to_string(),
        total: m(q.total),
        goods: m(q.goods),
        shipping: m(q.shipping),
        promised: long_date(q.promised_date),
        valid_until: super::minute(q.valid_until),
        rows: q.rows,
        good_rows: q.good_rows,
        bad_rows: q.bad_rows,
        units: q.units,
        errors_omitted: q.errors_omitted,
        errors: q
            .errors
            .iter()
            .map(|e| {
                (
                    e.row,
                    e.column.clone().unwrap_or_default(),
                    e.message.clone(),
                )
            })
            .collect(),
        skus: q
            .skus
            .iter()
            .map(|s| {
                (
                    s.sku.clone(),
                    s.lines,
                    s.quantity,
                    m(s.unit_price),
                    m(s.amount),
                )
            })
            .collect(),
        lines: q
            .lines
            .iter()
            .take(SHOWN)
            .map(|l| {
                (
                    l.row,
                    l.sku.clone(),
                    l.quantity,
                    m(l.unit_price),
                    long_date(l.promised_date),
                    l.recipient
                        .as_ref()
                        .map(|a| format!("{}, {}", a.name, a.city))
                        .unwrap_or_default(),
                )
            })
            .collect(),
        more: q.lines.len().saturating_sub(SHOWN),
        order: q
            .order_id
            .as_ref()
            .map(|o| o.to_string())
            .unwrap_or_default(),
        key: uuid::Uuid::new_v4().to_string(),
    }
}

#[derive(Deserialize)]
struct ShowQuery {
    quote: Option<String>,
}

fn bulk_page(rt: &kiln_app::BrandRuntime, surface: &Surface) -> BulkPage {
    let slug = rt.brand.slug.to_string();
    BulkPage {
        shop: matches!(surface, Surface::Shop(_)),
        base: surface.base(),
        cart_count: 0,
        business: Vec::new(),
        templates: rt
            .catalog
            .products
            .iter()
            .map(|c| {
                let p = c.product();
                (
                    p.name.clone(),
                    format!("/api/v1/brands/{slug}/products/{}/bulk-template.csv", p.id),
                )
            })
            .collect(),
        brand: slug,
        notice: String::new(),
        problem: String::new(),
        refused: Vec::new(),
        quote: None,
    }
}

async fn show(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ShowQuery>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    render(&state, &headers, &rt, &Surface::Console, q).await
}

async fn shop_show(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Query(q): Query<ShowQuery>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let surface = Surface::Shop(rt.brand.slug.to_string());
    render(&state, &headers, &rt, &surface, q).await
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    rt: &kiln_app::BrandRuntime,
    surface: &Surface,
    q: ShowQuery,
) -> UiResult<Response> {
    let mut view = bulk_page(rt, surface);
    if let Surface::Console = surface {
        view.business = state
            .app
            .business_customers(rt.brand.slug.as_str())
            .await?
            .business_customers
            .into_iter()
            .map(|c| (c.id.to_string(), c.company))
            .collect();
    }
    if let Some(id) = q.quote.filter(|id| !id.is_empty()) {
        let quote = state
            .app
            .bulk_quote(rt.brand.slug.as_str(), &QuoteId::from(id))
            .await?;
        view.quote = Some(view_of(&quote));
    }
    match super::flash_of(headers) {
        Some((Flash::Notice, text)) => view.notice = text,
        Some((Flash::Problem, text)) => view.problem = text,
        None => {}
    }
    Ok(super::spend_flash(headers, page(&view)))
}

/// Quotes the uploaded CSV and shows the quote; a file with no good row is
/// shown with each problem, and nothing is kept.
async fn upload(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Multipart,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    quote_upload(&state, &rt, &Surface::Console, form).await
}

async fn shop_upload(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    form: Multipart,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let surface = Surface::Shop(rt.brand.slug.to_string());
    quote_upload(&state, &rt, &surface, form).await
}

async fn quote_upload(
    state: &AppState,
    rt: &kiln_app::BrandRuntime,
    surface: &Surface,
    mut form: Multipart,
) -> UiResult<Response> {
    let mut csv = Vec::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::invalid("file", format!("the upload could not be read: {e}")))?
    {
        if field.name() == Some("file") {
            csv = field
                .bytes()
                .await
                .map_err(|e| {
                    ApiError::invalid("file", format!("the upload could not be read: {e}"))
                })?
                .to_vec();
        }
    }
    if csv.is_empty() {
        return Ok(super::redirect_with(
            &surface.base(),
            Flash::Problem,
            "Choose a CSV file to upload",
        ));
    }
    match state.app.quote_bulk(rt.brand.slug.as_str(), csv).await {
        Ok(q) => Ok(super::redirect_with(
            &format!("{}?quote={}", surface.base(), q.id),
            Flash::Notice,
            &format!(
                "Quoted {} of {} rows; {} with problems, listed below",
                q.good_rows, q.rows, q.bad_rows
            ),
        )),
        Err(AppError::Invalid { detail, errors }) => {
            let mut view = bulk_page(rt, surface);
            view.problem = detail;
            view.refused = errors
                .into_iter()
                .map(|e| {
                    (
                        e.path
                            .trim_start_matches("/rows/")
                            .replace('/', ", column "),
                        e.message,
                    )
                })
                .map(|(at, m)| (format!("line {at}"), m))
                .collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&view)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct AcceptForm {
    key: String,
    name: String,
    email: String,
    #[serde(default)]
    phone: String,
    line1: String,
    city: String,
    postal_code: String,
    country: String,
    #[serde(default)]
    shipping: Option<ShipPolicy>,
    /// A business customer's id, or empty.
    #[serde(default)]
    business_customer: String,
}

async fn accept(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(quote): Path<String>,
    Form(f): Form<AcceptForm>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    accept_on(&state, &rt, &Surface::Console, quote, f).await
}

async fn shop_accept(
    State(state): State<Arc<AppState>>,
    Path((brand, quote)): Path<(String, String)>,
    Form(f): Form<AcceptForm>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let surface = Surface::Shop(rt.brand.slug.to_string());
    accept_on(&state, &rt, &surface, quote, f).await
}

async fn accept_on(
    state: &AppState,
    rt: &kiln_app::BrandRuntime,
    surface: &Surface,
    quote: String,
    f: AcceptForm,
) -> UiResult<Response> {
    let back = format!("{}?quote={quote}", surface.base());
    let proof = match surface {
        Surface::Console => kiln_app::orders::Proof::Proven,
        Surface::Shop(_) => kiln_app::orders::Proof::Unproven,
    };
    let business_customer = match surface {
        Surface::Console => Some(f.business_customer.trim())
            .filter(|b| !b.is_empty())
            .map(kiln_domain::BusinessCustomerId::from),
        Surface::Shop(_) => None,
    };
    let acceptance = Acceptance {
        business_customer,
        customer: CustomerInput {
            name: f.name.trim().to_string(),
            email: f.email.trim().to_string(),
            phone: Some(f.phone.trim().to_string()).filter(|p| !p.is_empty()),
        },
        ship_to: Address {
            name: f.name.trim().to_string(),
            line1: f.line1.trim().to_string(),
            line2: None,
            city: f.city.trim().to_string(),
            postal_code: f.postal_code.trim().to_string(),
            region: None,
            country: f.country.trim().to_ascii_uppercase(),
        },
        shipping: f.shipping.unwrap_or_default(),
    };
    let key = kiln_app::orders::idempotency_key(Some(&f.key))?
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    match state
        .app
        .accept_bulk_quote(
            rt.brand.slug.as_str(),
            &QuoteId::from(quote),
            key,
            acceptance,
            proof,
        )
        .await
    {
        Ok(a) => {
            let moved = if a.moved.is_empty() {
                String::new()
            } else {
                format!("; {} lines' promises moved since the quote", a.moved.len())
            };
            let to = match surface {
                Surface::Console => format!("/console/orders/{}", a.order_id),
                // The buyer's own order page, behind its secret link.
                Surface::Shop(slug) => {
                    let order = state.app.order(slug, &a.order_id).await?;
                    format!(
                        "/shop/{slug}/orders/{}?token={}",
                        order.id, order.access_token
                    )
                }
            };
            Ok(super::redirect_with(
                &to,
                Flash::Notice,
                &format!(
                    "Order placed from the quote, promised for {}{moved}",
                    long_date(a.promised_date)
                ),
            ))
        }
        Err(AppError::Invalid { detail, errors }) => Ok(super::redirect_with(
            &back,
            Flash::Problem,
            &super::why_refused(&errors, detail),
        )),
        Err(AppError::Conflict(why)) => Ok(super::redirect_with(&back, Flash::Problem, &why)),
        Err(e) => Err(e.into()),
    }
}
