//! Product managers publish catalogs: every publish is a new immutable
//! version; versions, their files and the difference between two can be read.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kiln_app::catalog::{Published, SourceFile, VersionDiff, VersionFiles};
use kiln_domain::CatalogVersion;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, CatalogWrite};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(publish_catalog))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
        .routes(routes!(diff_versions))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogUpload {
    /// The factory file and the product files, checked together.
    pub files: Vec<SourceFile>,
}

/// Publish a new catalog version. Any error in any file refuses the whole
/// upload with a 422 whose `errors` give each error's `file`, `line`,
/// `column` and `message`, exactly as `kiln model check` prints them;
/// nothing changes. Placed orders keep the version they were configured against.
#[utoipa::path(put, path = "/brands/{brand}/catalog", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = CatalogUpload,
    security(("brand_key" = ["catalog:write"])),
    responses((status = 201, body = Published), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem, description = "the new factory drops work centres that open work is booked on"),
              (status = 422, body = Problem, description = "model errors, each at file, line and column")))]
async fn publish_catalog(
    State(state): State<Arc<AppState>>,
    auth: Authorized<CatalogWrite>,
    Body(req): Body<CatalogUpload>,
) -> ApiResult<(StatusCode, Json<Published>)> {
    let published = state
        .app
        .publish_catalog(&auth.actor(), &auth.brand, req.files)
        .await?;
    Ok((StatusCode::CREATED, Json(published)))
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    /// Newest first.
    pub versions: Vec<CatalogVersion>,
}

/// Every published version, newest first.
#[utoipa::path(get, path = "/brands/{brand}/catalog/versions", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["catalog:write"])),
    responses((status = 200, body = VersionList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_versions(
    State(state): State<Arc<AppState>>,
    auth: Authorized<CatalogWrite>,
) -> ApiResult<Json<VersionList>> {
    Ok(Json(VersionList {
        versions: state.app.catalog_versions(&auth.brand).await?,
    }))
}

/// One version with its files.
#[utoipa::path(get, path = "/brands/{brand}/catalog/versions/{version}", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug"), ("version" = i64, Path, description = "version number, from 1")),
    security(("brand_key" = ["catalog:write"])),
    responses((status = 200, body = VersionFiles), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_version(
    State(state): State<Arc<AppState>>,
    auth: Authorized<CatalogWrite>,
    Path((_, version)): Path<(String, i64)>,
) -> ApiResult<Json<VersionFiles>> {
    Ok(Json(state.app.catalog_version(&auth.brand, version).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version.
    from: i64,
    /// The newer version.
    to: i64,
}

/// What changed between two versions: options, values, rules, prices, BOM
/// lines and operations added, removed or changed.
#[utoipa::path(get, path = "/brands/{brand}/catalog/diff", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug"), DiffQuery),
    security(("brand_key" = ["catalog:write"])),
    responses((status = 200, body = VersionDiff), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn diff_versions(
    State(state): State<Arc<AppState>>,
    auth: Authorized<CatalogWrite>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<VersionDiff>> {
    if q.from < 1 || q.to < 1 {
        return Err(ApiError::invalid("from", "versions are numbered from 1"));
    }
    Ok(Json(
        state.app.catalog_diff(&auth.brand, q.from, q.to).await?,
    ))
}
