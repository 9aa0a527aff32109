//! Customer profiles: write keys for the tracking API, profiles found by any
//! identity and shown whole, merges undone, people erased, and the brand's
//! identity resolution rules.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kiln_app::profiles::segments::{SegmentInput, SegmentView};
use kiln_app::profiles::{
    ErasureReport, NewWriteKey, ProfileSearch, ProfileView, WriteKeyInput, tracking,
};
use kiln_domain::{MergeId, ProfileId, ResolutionRules, TrackedEvent, WriteKey, WriteKeyId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, ProfilesRead, ProfilesWrite};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create_write_key, list_write_keys))
        .routes(routes!(revoke_write_key))
        .routes(routes!(search_profiles))
        .routes(routes!(get_profile, erase_profile))
        .routes(routes!(profile_events))
        .routes(routes!(unmerge))
        .routes(routes!(get_rules, put_rules))
        .routes(routes!(create_segment, list_segments))
}

/// Make a segment: profiles meeting every rule (`did` an event, within
/// days, of a product, at a store; `did_not`; a `trait` equal to a value),
/// filled now and kept up to date as events arrive and as time passes.
/// Entering or leaving it fires `profile.entered_segment` or
/// `profile.left_segment` through the brand's webhooks.
#[utoipa::path(post, path = "/brands/{brand}/segments", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = SegmentInput,
    security(("brand_key" = ["profiles:write"])),
    responses((status = 201, body = SegmentView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn create_segment(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesWrite>,
    Body(input): Body<SegmentInput>,
) -> ApiResult<(StatusCode, Json<SegmentView>)> {
    let segment = state.app.create_segment(auth.slug(), input).await?;
    Ok((StatusCode::CREATED, Json(segment)))
}

#[derive(Serialize, ToSchema)]
struct SegmentList {
    segments: Vec<SegmentView>,
}

/// The brand's segments with how many profiles each holds now.
#[utoipa::path(get, path = "/brands/{brand}/segments", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["profiles:read"])),
    responses((status = 200, body = SegmentList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_segments(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesRead>,
) -> ApiResult<Json<SegmentList>> {
    Ok(Json(SegmentList {
        segments: state.app.segments(auth.slug()).await?,
    }))
}

/// Make a write key for Segment's tracking API (`/v1/...`), shown once.
#[utoipa::path(post, path = "/brands/{brand}/write-keys", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = WriteKeyInput,
    security(("brand_key" = ["profiles:write"])),
    responses((status = 201, body = NewWriteKey), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn create_write_key(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesWrite>,
    Body(input): Body<WriteKeyInput>,
) -> ApiResult<(StatusCode, Json<NewWriteKey>)> {
    let key = state
        .app
        .create_write_key(auth.slug(), &auth.actor(), input)
        .await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[derive(Serialize, ToSchema)]
struct WriteKeyList {
    write_keys: Vec<WriteKey>,
}

/// The brand's write keys (never the keys themselves).
#[utoipa::path(get, path = "/brands/{brand}/write-keys", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["profiles:write"])),
    responses((status = 200, body = WriteKeyList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_write_keys(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesWrite>,
) -> ApiResult<Json<WriteKeyList>> {
    Ok(Json(WriteKeyList {
        write_keys: state.app.write_keys(auth.slug()).await?,
    }))
}

/// Revoke a write key: calls with it are refused from now on.
#[utoipa::path(delete, path = "/brands/{brand}/write-keys/{key}", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug"), ("key" = String, Path, description = "write key id")),
    security(("brand_key" = ["profiles:write"])),
    responses((status = 204, description = "revoked"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_write_key(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesWrite>,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .app
        .revoke_write_key(auth.slug(), &auth.actor(), &WriteKeyId::from(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
struct ProfileList {
    profiles: Vec<ProfileView>,
}

/// Find the profile holding one identity: an email (any case, spaces
/// trimmed), a phone (E.164), a user id, an anonymous id or a member card.
/// An empty list when no one holds it.
#[utoipa::path(get, path = "/brands/{brand}/profiles", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug"), ProfileSearch),
    security(("brand_key" = ["profiles:read"])),
    responses((status = 200, body = ProfileList), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn search_profiles(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesRead>,
    Query(search): Query<ProfileSearch>,
) -> ApiResult<Json<ProfileList>> {
    Ok(Json(ProfileList {
        profiles: state.app.find_profiles(auth.slug(), &search).await?,
    }))
}

/// A person whole: identities, traits, merges, every order from every
/// channel, lifetime value, stores, and the latest events. The id of a
/// profile merged into another gives the one it joined.
#[utoipa::path(get, path = "/brands/{brand}/profiles/{profile}", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug"), ("profile" = String, Path, description = "profile id")),
    security(("brand_key" = ["profiles:read"])),
    responses((status = 200, body = ProfileView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_profile(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesRead>,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(
        state.app.profile(auth.slug(), &ProfileId::from(id)).await?,
    ))
}

/// Erase a person (the right to erasure): the profile, every profile merged
/// into it, their identities and events are deleted; their orders keep what
/// the factory and the accounts need and lose the name, email, phone and
/// street; later events carrying any of their identities are dropped. The
/// erasure is in the audit log, without the person.
#[utoipa::path(delete, path = "/brands/{brand}/profiles/{profile}", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug"), ("profile" = String, Path, description = "profile id")),
    security(("brand_key" = ["profiles:write"])),
    responses((status = 200, body = ErasureReport), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn erase_profile(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesWrite>,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ErasureReport>> {
    Ok(Json(
        state
            .app
            .erase_profile(auth.slug(), &auth.actor(), &ProfileId::from(id))
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventPage {
    /// Only events older than this instant (RFC 3339).
    before: Option<String>,
    /// At most this many, 1 to 500 (100 when left out).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct EventList {
    events: Vec<TrackedEvent>,
}

/// A profile's events from every channel, newest first.
#[utoipa::path(get, path = "/brands/{brand}/profiles/{profile}/events", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug"), ("profile" = String, Path, description = "profile id"), EventPage),
    security(("brand_key" = ["profiles:read"])),
    responses((status = 200, body = EventList), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn profile_events(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesRead>,
    Path((_, id)): Path<(String, String)>,
    Query(page): Query<EventPage>,
) -> ApiResult<Json<EventList>> {
    let before = match page.before.as_deref() {
        None => None,
        Some(t) => Some(tracking::parse_instant(t).ok_or_else(|| {
            ApiError::App(kiln_app::Error::invalid(
                "before",
                format!("`{t}` is not an RFC 3339 date and time"),
            ))
        })?),
    };
    let events = state
        .app
        .profile_events(auth.slug(), &ProfileId::from(id), before, page.limit)
        .await?;
    Ok(Json(EventList { events }))
}

/// Undo a wrong merge: the profile it merged in stands alone again, with its
/// own identities, events and traits.
#[utoipa::path(post, path = "/brands/{brand}/profiles/{profile}/merges/{merge}/undo", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug"), ("profile" = String, Path, description = "profile id"),
           ("merge" = String, Path, description = "merge id, from the profile's `merged`")),
    security(("brand_key" = ["profiles:write"])),
    responses((status = 200, body = ProfileView, description = "the profile the merge was undone on"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn unmerge(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesWrite>,
    Path((_, id, merge)): Path<(String, String, String)>,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(
        state
            .app
            .unmerge_profile(
                auth.slug(),
                &auth.actor(),
                &ProfileId::from(id),
                &MergeId::from(merge),
            )
            .await?,
    ))
}

/// How identities resolve to profiles: each kind's priority and limit per
/// profile, and the values that identify no one.
#[utoipa::path(get, path = "/brands/{brand}/identity-rules", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["profiles:read"])),
    responses((status = 200, body = ResolutionRules), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_rules(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesRead>,
) -> ApiResult<Json<ResolutionRules>> {
    Ok(Json(state.app.resolution_rules(auth.slug()).await?))
}

/// Change how identities resolve from now on (merges already made stay;
/// undo a wrong one).
#[utoipa::path(put, path = "/brands/{brand}/identity-rules", tag = "profiles",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = ResolutionRules,
    security(("brand_key" = ["profiles:write"])),
    responses((status = 200, body = ResolutionRules), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn put_rules(
    State(state): State<Arc<AppState>>,
    auth: Authorized<ProfilesWrite>,
    Body(rules): Body<ResolutionRules>,
) -> ApiResult<Json<ResolutionRules>> {
    Ok(Json(
        state
            .app
            .set_resolution_rules(auth.slug(), &auth.actor(), rules)
            .await?,
    ))
}
