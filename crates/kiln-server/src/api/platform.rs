//! The platform: brands join (with a platform admin key), brands hand out
//! scoped keys, and every administrative action is in the audit log.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kiln_app::brands::IssuedKey;
use kiln_domain::{ApiKey, ApiKeyId, AuditEntry, Brand, Role, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, BrandAdmin, PlatformAdmin};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, OptionalBody};

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create_brand, list_brands))
        .routes(routes!(platform_audit))
        .routes(routes!(issue_key, list_keys))
        .routes(routes!(revoke_key))
        .routes(routes!(rotate_key))
        .routes(routes!(brand_audit))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBrand {
    /// What URLs name the brand by: 2 to 40 lowercase letters, digits and hyphens.
    pub slug: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedBrand {
    pub brand: Brand,
    /// The brand's first key, with every scope (`admin`); shown this once.
    pub api_key: String,
    pub key: ApiKey,
}

/// Create a brand: it starts empty and works end to end once it has
/// published a catalog. The answer holds its first key, shown once.
#[utoipa::path(post, path = "/admin/brands", tag = "platform",
    request_body = NewBrand,
    security(("admin_key" = [])),
    responses((status = 201, body = CreatedBrand), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem, description = "not a platform admin key"),
              (status = 422, body = Problem, description = "a bad or taken slug, named at /slug")))]
async fn create_brand(
    State(state): State<Arc<AppState>>,
    admin: PlatformAdmin,
    Body(req): Body<NewBrand>,
) -> ApiResult<(StatusCode, Json<CreatedBrand>)> {
    let (brand, key) = state
        .app
        .create_brand(&admin.actor(), &req.slug, &req.name)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedBrand {
            brand,
            api_key: key.api_key,
            key: key.key,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct BrandList {
    pub brands: Vec<Brand>,
}

/// Every brand on the platform.
#[utoipa::path(get, path = "/admin/brands", tag = "platform",
    security(("admin_key" = [])),
    responses((status = 200, body = BrandList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_brands(
    State(state): State<Arc<AppState>>,
    _admin: PlatformAdmin,
) -> ApiResult<Json<BrandList>> {
    Ok(Json(BrandList {
        brands: state.app.brands().await?,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// At most this many entries, newest first (default 100, at most 1,000).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
}

/// Every brand's administrative actions, newest first.
#[utoipa::path(get, path = "/admin/audit", tag = "platform",
    params(AuditQuery),
    security(("admin_key" = [])),
    responses((status = 200, body = AuditLog), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn platform_audit(
    State(state): State<Arc<AppState>>,
    _admin: PlatformAdmin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditLog>> {
    let entries = state.app.audit_log(None, q.limit.unwrap_or(100)).await?;
    Ok(Json(AuditLog { entries }))
}

/// The brand's administrative actions (keys, catalogs, webhooks), newest first.
#[utoipa::path(get, path = "/brands/{brand}/audit", tag = "keys",
    params(("brand" = String, Path, description = "brand slug"), AuditQuery),
    security(("brand_key" = ["admin"])),
    responses((status = 200, body = AuditLog), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn brand_audit(
    State(state): State<Arc<AppState>>,
    auth: Authorized<BrandAdmin>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditLog>> {
    let entries = state
        .app
        .audit_log(Some(&auth.brand), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(AuditLog { entries }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// What the key is for, e.g. `ERP integration`.
    #[serde(default)]
    pub label: String,
    /// At least one of `catalog:write`, `orders:read`, `orders:write`,
    /// `orders:online`, `factory:read`, `factory:write`, `operations:write`,
    /// `planning:read`, `planning:write`, `webhooks:write`, `admin`; or
    /// leave them out and name a `role`.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// A staff role whose scopes the key gets (`product_manager`: catalog:write,
    /// orders:read, factory:read, planning:read; `planner`: planning:write,
    /// factory:write, orders:read; `operator`: operations:write, factory:read;
    /// `analyst`: the three reads; `admin`: admin). Not with `scopes`.
    #[serde(default)]
    pub role: Option<Role>,
}

/// Issue a key with some scopes; the key is shown once, in this answer.
#[utoipa::path(post, path = "/brands/{brand}/api-keys", tag = "keys",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = NewKey,
    security(("brand_key" = ["admin"])),
    responses((status = 201, body = IssuedKey), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn issue_key(
    State(state): State<Arc<AppState>>,
    auth: Authorized<BrandAdmin>,
    Body(req): Body<NewKey>,
) -> ApiResult<(StatusCode, Json<IssuedKey>)> {
    let scopes = match (req.role, req.scopes.is_empty()) {
        (None, _) => req.scopes,
        (Some(role), true) => role.scopes().ok_or_else(|| {
            ApiError::invalid(
                "/role",
                "a store clerk works in store mode, signed in; a key cannot be held to one store",
            )
        })?,
        (Some(_), false) => {
            return Err(ApiError::invalid(
                "/role",
                "name a role or list scopes, not both",
            ));
        }
    };
    let key = state
        .app
        .issue_key(&auth.actor(), &auth.brand, &req.label, scopes)
        .await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    /// Every key, revoked ones too; never a secret.
    pub api_keys: Vec<ApiKey>,
}

/// The brand's keys (never their secrets).
#[utoipa::path(get, path = "/brands/{brand}/api-keys", tag = "keys",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["admin"])),
    responses((status = 200, body = KeyList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_keys(
    State(state): State<Arc<AppState>>,
    auth: Authorized<BrandAdmin>,
) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList {
        api_keys: state.app.api_keys(&auth.brand).await?,
    }))
}

/// Revoke a key: from the next request on it gets 401.
#[utoipa::path(delete, path = "/brands/{brand}/api-keys/{key}", tag = "keys",
    params(("brand" = String, Path, description = "brand slug"), ("key" = String, Path, description = "key id")),
    security(("brand_key" = ["admin"])),
    responses((status = 200, body = ApiKey), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_key(
    State(state): State<Arc<AppState>>,
    auth: Authorized<BrandAdmin>,
    Path((_, key)): Path<(String, String)>,
) -> ApiResult<Json<ApiKey>> {
    let id = ApiKeyId::from(key);
    Ok(Json(
        state
            .app
            .revoke_key(&auth.actor(), &auth.brand, &id)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// How long the old key keeps working, in seconds (default a day, at
    /// most 30 days; 0 ends it now).
    pub overlap_seconds: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Rotated {
    /// The new key, shown once.
    pub new: IssuedKey,
    /// The old key, with when it stops working.
    pub old: ApiKey,
}

/// Rotate a key: a new key with the same label and scopes; the old one
/// keeps working for the overlap, so clients switch without downtime.
#[utoipa::path(post, path = "/brands/{brand}/api-keys/{key}/rotate", tag = "keys",
    params(("brand" = String, Path, description = "brand slug"), ("key" = String, Path, description = "key id")),
    request_body(content = Option<Rotation>),
    security(("brand_key" = ["admin"])),
    responses((status = 201, body = Rotated), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rotate_key(
    State(state): State<Arc<AppState>>,
    auth: Authorized<BrandAdmin>,
    Path((_, key)): Path<(String, String)>,
    OptionalBody(req): OptionalBody<Rotation>,
) -> ApiResult<(StatusCode, Json<Rotated>)> {
    let overlap = req
        .overlap_seconds
        .unwrap_or(kiln_app::keys::DEFAULT_OVERLAP_SECONDS);
    let id = ApiKeyId::from(key);
    let (new, old) = state
        .app
        .rotate_key(&auth.actor(), &auth.brand, &id, overlap)
        .await?;
    Ok((StatusCode::CREATED, Json(Rotated { new, old })))
}
