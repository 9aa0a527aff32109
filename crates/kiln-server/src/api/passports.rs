//! Product passports: each unit's signed passport and the brand's public
//! keys to check it with, both public (a passport holds no personal data and
//! is meant to be read from the unit's label); the units of an order or a
//! work order for staff.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kiln_app::claims::report::ClaimsReport;
use kiln_app::claims::{ClaimRequest, Decision};
use kiln_app::passport::{Jwks, PassportView};
use kiln_domain::{Claim, ClaimId, OrderId, Unit, WorkOrderId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, BrandAdmin, FactoryRead, FactoryWrite, OrdersRead, OrdersWrite};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(passport_keys, rotate_passport_key))
        .routes(routes!(revoke_passport_key))
        .routes(routes!(unit_passport))
        .routes(routes!(work_order_units))
        .routes(routes!(order_units))
        .routes(routes!(unit_qr))
        .routes(routes!(open_claim, unit_claims))
        .routes(routes!(get_claim))
        .routes(routes!(claims_report))
        .routes(routes!(decide_claim))
}

/// Open a return or warranty claim on a unit, from its serial. Whether it
/// is under warranty comes from the unit's passport. The order's timeline
/// gets an entry and a `claim.opened` event goes out.
#[utoipa::path(post, path = "/brands/{brand}/units/{serial}/claims", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("serial" = String, Path, description = "the unit's serial")),
    request_body = ClaimRequest,
    security(("brand_key" = ["orders:write"])),
    responses((status = 201, body = Claim), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn open_claim(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersWrite>,
    Path((_, serial)): Path<(String, String)>,
    Body(req): Body<ClaimRequest>,
) -> ApiResult<(StatusCode, Json<Claim>)> {
    let claim = state.app.open_claim(auth.slug(), &serial, req).await?;
    Ok((StatusCode::CREATED, Json(claim)))
}

#[derive(Serialize, ToSchema)]
pub struct ClaimList {
    pub claims: Vec<Claim>,
}

/// The claims on a unit, oldest first.
#[utoipa::path(get, path = "/brands/{brand}/units/{serial}/claims", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("serial" = String, Path, description = "the unit's serial")),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = ClaimList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn unit_claims(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
    Path((_, serial)): Path<(String, String)>,
) -> ApiResult<Json<ClaimList>> {
    let claims = state.app.claims_of_unit(auth.slug(), &serial).await?;
    Ok(Json(ClaimList { claims }))
}

/// One claim.
#[utoipa::path(get, path = "/brands/{brand}/claims/{claim}", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("claim" = String, Path, description = "claim id")),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = Claim), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_claim(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
    Path((_, claim)): Path<(String, String)>,
) -> ApiResult<Json<Claim>> {
    Ok(Json(
        state.app.claim(auth.slug(), &ClaimId::from(claim)).await?,
    ))
}

/// Claims counted by the product, option values, materials, work centres
/// and machines of the units they are on, each beside how many units were
/// made with it; and the claims waiting for a decision.
#[utoipa::path(get, path = "/brands/{brand}/claims/report", tag = "passports",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = ClaimsReport), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn claims_report(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
) -> ApiResult<Json<ClaimsReport>> {
    Ok(Json(state.app.claims_report(auth.slug()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `repair` (through the product's repair routing) or `remake` (a new
    /// unit of the same SKU), each placed as a free after-sales order on the
    /// live schedule with a promised date; `refund`; or `reject`.
    pub decision: Decision,
    /// Why; required to reject.
    #[serde(default)]
    pub note: String,
}

/// Decide an open claim: a repair or a remake makes its work order (in the
/// factory's queues like any other); the order's timeline gets an entry and
/// a `claim.decided` event goes out. A claim is decided once (409 after).
#[utoipa::path(post, path = "/brands/{brand}/claims/{claim}/decision", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("claim" = String, Path, description = "claim id")),
    request_body = DecisionRequest,
    security(("brand_key" = ["factory:write"])),
    responses((status = 200, body = Claim), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decide_claim(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryWrite>,
    Path((_, claim)): Path<(String, String)>,
    Body(req): Body<DecisionRequest>,
) -> ApiResult<Json<Claim>> {
    let claim = state
        .app
        .decide_claim(auth.slug(), &ClaimId::from(claim), req.decision, &req.note)
        .await?;
    Ok(Json(claim))
}

/// Where this server is reached from outside: `KILN_PUBLIC_URL` when set,
/// else `http://` and the request's `Host`.
pub(crate) fn public_base(headers: &axum::http::HeaderMap) -> String {
    if let Ok(url) = std::env::var("KILN_PUBLIC_URL")
        && !url.trim().is_empty()
    {
        return url.trim().trim_end_matches('/').to_string();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The unit's label QR code as SVG: a GS1 Digital Link URI
/// (`.../21/{serial}`) that opens the unit's passport page and carries a
/// signed summary of its passport (`pp`), checkable with no network.
#[utoipa::path(get, path = "/brands/{brand}/units/{serial}/qr.svg", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("serial" = String, Path, description = "the unit's serial")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn unit_qr(
    State(state): State<Arc<AppState>>,
    Path((brand, serial)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse as _;
    let uri = state
        .app
        .label_uri(&brand, &serial, &public_base(&headers))
        .await?;
    let svg = qr_svg(&uri)?;
    Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// A QR code holding `uri`, drawn as SVG (error correction L: the signed
/// summary makes the URI long, and labels are printed clean).
pub(crate) fn qr_svg(uri: &str) -> Result<String, ApiError> {
    let code = fast_qr::QRBuilder::new(uri.as_bytes())
        .ecl(fast_qr::ECL::L)
        .build()
        .map_err(|e| ApiError::App(kiln_app::Error::internal(format!("no QR code: {e:?}"))))?;
    Ok(fast_qr::convert::svg::SvgBuilder::default().to_str(&code))
}

/// The brand's public passport keys as a JWK set (Ed25519, RFC 8037): what
/// anyone verifies a passport with, offline. Revoked keys are left out.
#[utoipa::path(get, path = "/brands/{brand}/passport-keys", tag = "passports",
    params(("brand" = String, Path, description = "brand slug")),
    responses((status = 200, body = Jwks), (status = 404, body = Problem)))]
async fn passport_keys(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
) -> ApiResult<Json<Jwks>> {
    Ok(Json(state.app.passport_keys(&brand).await?))
}

/// Rotate the brand's passport key: passports are signed with a new key
/// from now on; the previous keys stay published, so what they signed still
/// verifies. The answer is the new key as a JWK set.
#[utoipa::path(post, path = "/brands/{brand}/passport-keys", tag = "passports",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["admin"])),
    responses((status = 201, body = Jwks), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn rotate_passport_key(
    State(state): State<Arc<AppState>>,
    auth: Authorized<BrandAdmin>,
) -> ApiResult<(StatusCode, Json<Jwks>)> {
    let keys = state
        .app
        .rotate_passport_key(&auth.actor(), auth.slug())
        .await?;
    Ok((StatusCode::CREATED, Json(keys)))
}

/// Revoke a passport key (one that leaked): it leaves the published set at
/// once, so the passports it signed no longer verify anywhere.
#[utoipa::path(delete, path = "/brands/{brand}/passport-keys/{kid}", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("kid" = String, Path, description = "the key's id")),
    security(("brand_key" = ["admin"])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_passport_key(
    State(state): State<Arc<AppState>>,
    auth: Authorized<BrandAdmin>,
    Path((_, kid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .app
        .revoke_passport_key(&auth.actor(), auth.slug(), &kid)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One unit's passport: the compact JWS (EdDSA, with its `kid`) and its
/// payload decoded. Verify the JWS, not the decoded copy.
#[utoipa::path(get, path = "/brands/{brand}/units/{serial}/passport", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("serial" = String, Path, description = "the unit's serial")),
    responses((status = 200, body = PassportView), (status = 404, body = Problem)))]
async fn unit_passport(
    State(state): State<Arc<AppState>>,
    Path((brand, serial)): Path<(String, String)>,
) -> ApiResult<Json<PassportView>> {
    Ok(Json(state.app.passport(&brand, &serial).await?))
}

#[derive(Serialize, ToSchema)]
pub struct UnitList {
    pub units: Vec<Unit>,
}

/// The units a work order made, each with its serial and passport.
#[utoipa::path(get, path = "/brands/{brand}/work-orders/{work_order}/units", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("work_order" = String, Path, description = "work order id")),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, body = UnitList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn work_order_units(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
    Path((_, work_order)): Path<(String, String)>,
) -> ApiResult<Json<UnitList>> {
    let units = state
        .app
        .units_of_work_order(auth.slug(), &WorkOrderId::from(work_order))
        .await?;
    Ok(Json(UnitList { units }))
}

/// The units made for an order, each with its serial and passport.
#[utoipa::path(get, path = "/brands/{brand}/orders/{order}/units", tag = "passports",
    params(("brand" = String, Path, description = "brand slug"),
           ("order" = String, Path, description = "order id")),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = UnitList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn order_units(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
    Path((_, order)): Path<(String, String)>,
) -> ApiResult<Json<UnitList>> {
    let units = state
        .app
        .units_of_order(auth.slug(), &OrderId::from(order))
        .await?;
    Ok(Json(UnitList { units }))
}
