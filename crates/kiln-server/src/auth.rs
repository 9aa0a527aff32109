//! Brand API keys: `Authorization: Bearer <key>`. Keys are stored as their
//! SHA-256 hash only, so a leaked database does not leak working keys.

use std::sync::Arc;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::runtime::BrandRuntime;

/// A new random key; the caller shows it once and stores [`hash_key`] of it.
pub fn new_key() -> String {
    format!(
        "kiln_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The brand behind the request's key, which must be the brand in the path.
/// Another brand's key gets 404, the same answer as a brand that does not
/// exist, so keys cannot probe for other brands' data.
pub async fn brand_admin(
    state: &AppState,
    headers: &HeaderMap,
    slug: &str,
) -> ApiResult<Arc<BrandRuntime>> {
    let key = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    let brand = state
        .store
        .brand_by_key_hash(&hash_key(key))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if brand.slug != slug {
        return Err(ApiError::NotFound(format!("no brand `{slug}`")));
    }
    state.runtimes.get(state.store.as_ref(), slug).await
}
