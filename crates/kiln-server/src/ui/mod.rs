//! The web UI: server-rendered HTML with one small script. Every form works
//! without JavaScript; the script only redraws the configurator in place.

mod analytics;
mod bulk;
mod business;
mod cart;
mod checkout;
mod claims;
mod console;
mod delivery;
mod disruption;
mod fulfilment;
mod gantt;
mod labels;
mod material_plan;
mod order_changes;
mod order_page;
mod orders;
mod panel;
mod passport;
mod platform;
mod pos;
mod pos_claims;
mod profiles;
mod purchases;
mod shop;
mod staff;
mod staff_admin;
mod stores;
mod verify;
mod visitor;

use std::fmt::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_decimal::Decimal;

use crate::AppState;
use crate::error::ApiError;
use kiln_app::{BrandRuntime, Error as AppError};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/static/kiln.css", get(css))
        .route("/static/kiln.js", get(js))
        .route("/static/verify.js", get(verify_js))
        .merge(shop::routes())
        .merge(console::routes())
        .merge(orders::routes())
        .merge(order_changes::routes())
        .merge(bulk::routes())
        .merge(business::routes())
        .merge(claims::routes())
        .merge(labels::routes())
        .merge(analytics::routes())
        .merge(material_plan::routes())
        .merge(pos::routes())
        .merge(pos_claims::routes())
        .merge(profiles::routes())
        .merge(platform::routes())
        .merge(staff::routes())
        .merge(staff_admin::routes())
        .merge(stores::routes())
}

pub use staff::gate;

/// An error shown as a page rather than a problem document.
pub struct UiError(ApiError);

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> UiError {
        UiError(e)
    }
}

impl From<AppError> for UiError {
    fn from(e: AppError) -> UiError {
        UiError(ApiError::App(e))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub(super) struct ErrorPage {
    pub title: String,
    pub detail: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        self.0.log();
        let forward_to = self.0.forward_to();
        let status = self.0.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found".to_string(),
            StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong".to_string(),
            _ => "That did not work".to_string(),
        };
        let detail = match &self.0 {
            ApiError::App(
                AppError::Internal { .. }
                | AppError::Unavailable { .. }
                | AppError::Elsewhere { .. },
            ) => "Please try again in a moment.".to_string(),
            other => other.to_string(),
        };
        let mut response = (status, page(&ErrorPage { title, detail })).into_response();
        if let Some(to) = forward_to {
            response.extensions_mut().insert(to);
        }
        response
    }
}

pub type UiResult<T> = Result<T, UiError>;

/// Renders a template; a template that fails to render is a bug, shown as 500.
fn page(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The value of one cookie from the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A session cookie for the whole site: `Secure` when the request came
/// over TLS.
fn set_session_cookie(response: &mut Response, name: &str, value: &str, max_age: i64, tls: bool) {
    let secure = if tls { "; Secure" } else { "" };
    let cookie =
        format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn set_cookie(response: &mut Response, name: &str, value: &str, path: &str, max_age: i64) {
    let cookie = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A one-time message for the next page of the console, store mode or
/// the storefront. It rides in a cookie the
/// server sets on its own redirect, never in the URL: a link cannot put
/// words on the console. Hex keeps any text cookie-safe.
const FLASH_COOKIE: &str = "kiln_flash";

/// What a flash message is: a confirmation or a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flash {
    Notice,
    Problem,
}

/// Redirects to `to` with `text` shown once there.
pub(super) fn redirect_with(to: &str, kind: Flash, text: &str) -> Response {
    let mut response = see_other(to);
    let mut value = String::from(match kind {
        Flash::Notice => "n",
        Flash::Problem => "p",
    });
    // Well under a cookie's 4 KB once hex-encoded.
    let text: String = text.chars().take(1_000).collect();
    for b in text.bytes() {
        let _ = write!(value, "{b:02x}");
    }
    set_cookie(&mut response, FLASH_COOKIE, &value, flash_path(to), 60);
    response
}

/// The part of the site a flash message is for: the console, store mode
/// or the storefront, by where the redirect goes.
fn flash_path(to: &str) -> &'static str {
    FLASH_PATHS
        .iter()
        .find(|p| to == **p || to.starts_with(&format!("{p}/")) || to.starts_with(&format!("{p}?")))
        .copied()
        .unwrap_or("/console")
}

const FLASH_PATHS: [&str; 3] = ["/console", "/store", "/shop"];

/// The flash message the request carries, if any (see [`redirect_with`]).
pub(super) fn flash_of(headers: &HeaderMap) -> Option<(Flash, String)> {
    let value = cookie(headers, FLASH_COOKIE)?;
    let kind = match value.get(..1)? {
        "n" => Flash::Notice,
        "p" => Flash::Problem,
        _ => return None,
    };
    let hex = value.get(1..)?;
    let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    Some((kind, String::from_utf8(bytes?).ok()?))
}

/// Shows `response` with the flash message spent: the next view is clean.
pub(super) fn spend_flash(headers: &HeaderMap, mut response: Response) -> Response {
    if cookie(headers, FLASH_COOKIE).is_some() {
        for path in FLASH_PATHS {
            set_cookie(&mut response, FLASH_COOKIE, "", path, 0);
        }
    }
    response
}

/// Why a request was refused, in one sentence: each field's message, or
/// the refusal's own when it names no field.
pub(super) fn why_refused(errors: &[kiln_app::FieldError], detail: String) -> String {
    if errors.is_empty() {
        detail
    } else {
        errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub fn money(currency: &str, amount: Decimal) -> String {
    let amount = amount.round_dp(2);
    match currency {
        "EUR" => format!("€{amount:.2}"),
        "GBP" => format!("£{amount:.2}"),
        "USD" => format!("${amount:.2}"),
        other => format!("{amount:.2} {other}"),
    }
}

/// A timestamp to the minute, in UTC: `2026-12-04 12:25 UTC`.
pub(super) fn minute(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// `Thu 26 Nov 2026`.
pub fn long_date(date: jiff::civil::Date) -> String {
    kiln_app::time::long_date(date)
}

async fn css() -> impl IntoResponse {
    static_file(
        "text/css; charset=utf-8",
        include_str!("../../static/kiln.css"),
    )
}

async fn js() -> impl IntoResponse {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../static/kiln.js"),
    )
}

async fn verify_js() -> impl IntoResponse {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../static/verify.js"),
    )
}

fn static_file(kind: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

/// The sign-in form of the staff pages (console, store mode).
#[derive(serde::Deserialize)]
struct KeyForm {
    key: String,
}

/// The brand a staff key opens; `None` for a key that opens none (unknown,
/// revoked, a platform admin key, or one without the brand's `admin` scope).
async fn brand_for_key(state: &AppState, key: &str) -> UiResult<Option<Arc<BrandRuntime>>> {
    let caller = match state.app.authenticate(key.trim()).await {
        Ok(caller) => caller,
        Err(AppError::Unauthorized) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let kiln_app::Caller::Brand { key, brand } = caller else {
        return Ok(None);
    };
    if !key.grants(kiln_domain::Scope::Admin) {
        return Ok(None);
    }
    Ok(Some(state.app.brand(brand.slug.as_str()).await?))
}

/// The brand of the key a staff page keeps in the cookie `name`.
async fn brand_from_cookie(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
) -> UiResult<Option<Arc<BrandRuntime>>> {
    match cookie(headers, name) {
        Some(key) => brand_for_key(state, &key).await,
        None => Ok(None),
    }
}

pub struct ProductCard {
    pub id: String,
    pub name: String,
    pub description: String,
    pub price: String,
}

pub struct BrandCards {
    pub slug: String,
    pub name: String,
    pub products: Vec<ProductCard>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    brands: Vec<BrandCards>,
}

fn cards(rt: &BrandRuntime) -> Vec<ProductCard> {
    rt.catalog
        .products
        .iter()
        .map(|c| {
            let p = c.product();
            ProductCard {
                id: p.id.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                price: money(&p.currency, p.base_price),
            }
        })
        .collect()
}

async fn home(State(state): State<Arc<AppState>>) -> UiResult<Response> {
    let mut brands = Vec::new();
    for b in state.app.brands().await? {
        // A brand whose catalog does not load, or that has none yet, is left out.
        if let Ok(rt) = state.app.brand(b.slug.as_str()).await
            && !rt.catalog.products.is_empty()
        {
            brands.push(BrandCards {
                slug: b.slug.to_string(),
                name: b.name.clone(),
                products: cards(&rt),
            });
        }
    }
    Ok(page(&Home { brands }))
}

/// Text made safe inside SVG and HTML built by hand (charts).
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A message as a sentence: capital first letter, full stop at the end.
pub(super) fn sentence(message: &str) -> String {
    let mut c = message.trim().chars();
    let mut out: String = c
        .next()
        .map(|f| f.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(c.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// An address a line each, as it is written on a parcel.
pub(super) fn address_lines(a: &kiln_domain::Address) -> Vec<String> {
    [
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
    .collect()
}
