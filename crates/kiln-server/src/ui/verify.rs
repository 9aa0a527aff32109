//! The passport check (`/shop/{brand}/verify`): a page that checks a unit's
//! passport, or the signed summary its label's QR code carries, in the
//! browser with WebCrypto against the brand's public keys, which it carries
//! inline. A service worker keeps the page, its script and the keys, so
//! once opened it checks with no network; online, it fetches the keys
//! afresh, so a rotated or revoked key counts at once.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{UiResult, page};
use crate::AppState;

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    brand: String,
    brand_name: String,
    cart_count: usize,
    /// The brand's JWK set as JSON, safe inside a `<script>` element.
    keys_json: String,
    key_count: usize,
    /// When the keys were read: to the minute, and as RFC 3339.
    fetched_at: String,
    fetched_iso: String,
}

pub(super) async fn verify_page(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let keys = state.app.passport_keys(rt.brand.slug.as_str()).await?;
    let json = serde_json::to_string(&keys)
        .map_err(|e| kiln_app::Error::internal_from("the passport keys do not serialize", e))?;
    let now = kiln_app::time::now();
    Ok(page(&VerifyPage {
        brand: rt.brand.slug.to_string(),
        brand_name: rt.brand.name.clone(),
        cart_count: 0,
        // `</script>` cannot end the data block early: JSON reads `\u003c` as `<`.
        keys_json: json.replace('<', "\\u003c"),
        key_count: keys.keys.len(),
        fetched_at: super::minute(now),
        fetched_iso: now.to_string(),
    }))
}

/// The service worker of the check page, for one brand: see [`SERVICE_WORKER`].
pub(super) async fn service_worker(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let slug = serde_json::Value::from(rt.brand.slug.as_str());
    let body = format!("const BRAND = {slug};\n{SERVICE_WORKER}");
    Ok((
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // The browser asks for it again on each visit: a new Kiln's
            // worker replaces the old one.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// Registered by `static/verify.js` with the scope `/shop/{brand}/verify`.
/// On install it keeps the page, its script and style and the brand's keys;
/// then every one of them is fetched network first (the copy kept is
/// refreshed) and, when the network fails, answered from what it kept,
/// marked `X-Kiln-Offline: 1`. Each copy kept carries `X-Kiln-Fetched-At`,
/// so the page can say how old its keys are.
const SERVICE_WORKER: &str = include_str!("../../static/verify-sw.js");
