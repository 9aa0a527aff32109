//! The console's customer profiles: find a person by any identity, see them
//! whole (identities, traits, orders from every channel, events, merges),
//! undo a wrong merge, erase a person. Reading is for every console role
//! but operators; undoing a merge and erasing are for brand admins.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use kiln_app::Error as AppError;
use kiln_app::profiles::{ProfileSearch, ProfileView};
use kiln_domain::{MergeId, ProfileId, Timestamp};
use serde::Deserialize;

use super::console::require;
use super::{Flash, UiResult, money, page};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/profiles", get(search))
        .route("/console/profiles/{profile}", get(show))
        .route("/console/segments", get(segments))
        .route("/console/profiles/{profile}/erase", post(erase))
        .route(
            "/console/profiles/{profile}/merges/{merge}/undo",
            post(unmerge),
        )
}

/// A day and time, UTC, as a person reads it.
fn when(t: Timestamp) -> String {
    t.strftime("%-d %b %Y %H:%M").to_string()
}

#[derive(Deserialize, Default)]
struct Find {
    #[serde(default)]
    q: String,
}

/// What to search by: an email if it has an `@`, a phone if it starts
/// with `+`, else a user id, anonymous id or member card, in that order.
fn searches(q: &str) -> Vec<ProfileSearch> {
    let q = q.trim().to_string();
    if q.contains('@') {
        return vec![ProfileSearch {
            email: Some(q),
            ..Default::default()
        }];
    }
    if q.starts_with('+') || q.starts_with("00") {
        return vec![ProfileSearch {
            phone: Some(q),
            ..Default::default()
        }];
    }
    vec![
        ProfileSearch {
            user_id: Some(q.clone()),
            ..Default::default()
        },
        ProfileSearch {
            anonymous_id: Some(q.clone()),
            ..Default::default()
        },
        ProfileSearch {
            member_card: Some(q),
            ..Default::default()
        },
    ]
}

struct Found {
    id: String,
    who: String,
    identities: usize,
    orders: usize,
    value: String,
}

#[derive(Template)]
#[template(path = "console_profiles.html")]
struct SearchPage {
    q: String,
    problem: String,
    notice: String,
    found: Vec<Found>,
}

fn lifetime(p: &ProfileView) -> String {
    if p.lifetime_value.is_empty() {
        return "none yet".into();
    }
    p.lifetime_value
        .iter()
        .map(|(c, v)| money(c, *v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn who(p: &ProfileView) -> String {
    let name = p.profile.traits.get("name").and_then(|v| v.as_str());
    let first = p
        .profile
        .identities
        .iter()
        .find(|i| i.kind == kiln_domain::IdentityKind::Email)
        .or(p.profile.identities.first())
        .map(|i| i.value.clone())
        .unwrap_or_default();
    match name {
        Some(n) => format!("{n} · {first}"),
        None => first,
    }
}

async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(find): Query<Find>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let mut view = SearchPage {
        q: find.q.trim().to_string(),
        problem: String::new(),
        notice: String::new(),
        found: Vec::new(),
    };
    match super::flash_of(&headers) {
        Some((Flash::Notice, text)) => view.notice = text,
        Some((Flash::Problem, text)) => view.problem = text,
        None => {}
    }
    if !view.q.is_empty() {
        for s in searches(&view.q) {
            match state.app.find_profiles(rt.brand.slug.as_str(), &s).await {
                Ok(list) => view.found.extend(list.iter().map(|p| Found {
                    id: p.profile.id.to_string(),
                    who: who(p),
                    identities: p.profile.identities.len(),
                    orders: p.orders.len(),
                    value: lifetime(p),
                })),
                Err(AppError::Invalid { detail, .. }) => view.problem = detail,
                Err(e) => return Err(e.into()),
            }
        }
        view.found.dedup_by(|a, b| a.id == b.id);
    }
    Ok(super::spend_flash(&headers, page(&view)))
}

#[derive(Template)]
#[template(path = "console_profile.html")]
struct ProfilePage {
    id: String,
    who: String,
    since: String,
    value: String,
    stores: String,
    segments: String,
    /// (kind, value)
    identities: Vec<(String, String)>,
    /// (trait, value)
    traits: Vec<(String, String)>,
    /// (id, channel, status, total, placed)
    orders: Vec<(String, String, String, String, String)>,
    /// (when, kind, name, detail)
    events: Vec<(String, String, String, String)>,
    /// (merge id, merged profile, because, when)
    merges: Vec<(String, String, String, String)>,
    notice: String,
    problem: String,
}

/// An event's properties in a line: `product_id: mug, total: 30.00`.
fn detail(body: &serde_json::Value) -> String {
    let props = body.get("properties").or_else(|| body.get("traits"));
    let Some(props) = props.and_then(|p| p.as_object()) else {
        return String::new();
    };
    props
        .iter()
        .filter(|(_, v)| !v.is_array() && !v.is_object())
        .take(4)
        .map(|(k, v)| match v.as_str() {
            Some(s) => format!("{k}: {s}"),
            None => format!("{k}: {v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn show(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let p = state
        .app
        .profile(rt.brand.slug.as_str(), &ProfileId::from(id))
        .await?;
    let mut view = ProfilePage {
        id: p.profile.id.to_string(),
        who: who(&p),
        since: when(p.profile.created_at),
        value: lifetime(&p),
        stores: p.stores.join(", "),
        segments: p.segments.join(", "),
        identities: p
            .profile
            .identities
            .iter()
            .map(|i| (i.kind.as_str().replace('_', " "), i.value.clone()))
            .collect(),
        traits: p
            .profile
            .traits
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        orders: p
            .orders
            .iter()
            .map(|o| {
                (
                    o.id.to_string(),
                    o.channel.to_string(),
                    o.status.as_str().replace('_', " "),
                    money(&o.currency, o.total),
                    when(o.created_at),
                )
            })
            .collect(),
        events: p
            .events
            .iter()
            .map(|e| {
                (
                    when(e.timestamp),
                    e.kind.as_str().to_string(),
                    e.name.clone().unwrap_or_default(),
                    detail(&e.body),
                )
            })
            .collect(),
        merges: p
            .profile
            .merged
            .iter()
            .map(|m| {
                (
                    m.id.to_string(),
                    m.merged.to_string(),
                    m.because.clone(),
                    when(m.at),
                )
            })
            .collect(),
        notice: String::new(),
        problem: String::new(),
    };
    match super::flash_of(&headers) {
        Some((Flash::Notice, text)) => view.notice = text,
        Some((Flash::Problem, text)) => view.problem = text,
        None => {}
    }
    Ok(super::spend_flash(&headers, page(&view)))
}

async fn erase(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let actor = super::staff::actor_of(&state, &headers, &rt).await?;
    let done = state
        .app
        .erase_profile(rt.brand.slug.as_str(), &actor, &ProfileId::from(id))
        .await?;
    Ok(super::redirect_with(
        "/console/profiles",
        Flash::Notice,
        &format!(
            "Profile {} erased: {} events deleted, {} identities suppressed, {} orders kept without the person.",
            done.profile_id,
            done.events_deleted,
            done.identities_suppressed,
            done.orders_anonymised
        ),
    ))
}

async fn unmerge(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, merge)): Path<(String, String)>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let actor = super::staff::actor_of(&state, &headers, &rt).await?;
    let to = format!("/console/profiles/{id}");
    match state
        .app
        .unmerge_profile(
            rt.brand.slug.as_str(),
            &actor,
            &ProfileId::from(id.as_str()),
            &MergeId::from(merge),
        )
        .await
    {
        Ok(p) => Ok(super::redirect_with(
            &format!("/console/profiles/{}", p.profile.id),
            Flash::Notice,
            "The merge was undone: the other profile stands alone again.",
        )),
        Err(AppError::NotFound(m) | AppError::Conflict(m)) => {
            Ok(super::redirect_with(&to, Flash::Problem, &m))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console_segments.html")]
struct SegmentsPage {
    rows: Vec<SegmentRow>,
}

struct SegmentRow {
    name: String,
    rules: String,
    members: i64,
    /// `+12 / −3 in 30 days`, and its chart.
    moves: String,
    chart: String,
    /// The mail's subject, when it sends one.
    mail: String,
}

/// Members at the end of each day as a line over the days, with entries
/// as ticks under it.
fn trend_chart(name: &str, trend: &[kiln_app::profiles::segments::SegmentDay]) -> String {
    use std::fmt::Write as _;
    let (w, h, pad) = (240.0, 48.0, 4.0);
    let top = trend.iter().map(|d| d.members).max().unwrap_or(0).max(1) as f64;
    let step = (w - 2.0 * pad) / (trend.len().max(2) - 1) as f64;
    let y = |v: i64| h - pad - (v as f64 / top) * (h - 2.0 * pad);
    let title = format!("{name}: members over the last {} days", trend.len());
    let points: Vec<String> = trend
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{:.1},{:.1}", pad + i as f64 * step, y(d.members)))
        .collect();
    let mut svg = format!(
        "<svg class=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{0}\"><title>{0}</title>\
         <polyline points=\"{1}\" fill=\"none\" stroke=\"#2563eb\" stroke-width=\"2\"/>",
        super::xml(&title),
        points.join(" ")
    );
    if let Some(last) = trend.last() {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#2563eb\"><title>{} members on {}</title></circle>",
            pad + (trend.len() - 1) as f64 * step,
            y(last.members),
            last.members,
            last.date
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One rule in words: `did Product Configured (sneaker) in the last 7 days`.
fn rule_words(r: &kiln_domain::SegmentRule) -> String {
    use kiln_domain::SegmentRule::*;
    let event = |verb: &str,
                 e: &str,
                 days: &Option<u32>,
                 product: &Option<String>,
                 store: &Option<String>| {
        let mut w = format!("{verb} {e}");
        if let Some(p) = product {
            w.push_str(&format!(" of {p}"));
        }
        if let Some(s) = store {
            w.push_str(&format!(" at {s}"));
        }
        if let Some(d) = days {
            w.push_str(&format!(" in the last {d} days"));
        }
        w
    };
    match r {
        Did {
            event: e,
            within_days,
            product_id,
            store_id,
        } => event("did", e, within_days, product_id, store_id),
        DidNot {
            event: e,
            within_days,
            product_id,
            store_id,
        } => event("did not", e, within_days, product_id, store_id),
        Trait { name, equals } => format!("{name} is {equals}"),
    }
}

async fn segments(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let rows = state
        .app
        .segments(rt.brand.slug.as_str())
        .await?
        .into_iter()
        .map(|s| {
            let rules = s
                .segment
                .rules
                .iter()
                .map(rule_words)
                .collect::<Vec<_>>()
                .join("; and ");
            let entered: i64 = s.trend.iter().map(|d| d.entered).sum();
            let left: i64 = s.trend.iter().map(|d| d.left).sum();
            SegmentRow {
                chart: trend_chart(&s.segment.name, &s.trend),
                moves: format!("+{entered} / −{left} in {} days", s.trend.len()),
                mail: s
                    .segment
                    .mail
                    .as_ref()
                    .map(|m| m.subject.clone())
                    .unwrap_or_default(),
                name: s.segment.name,
                rules,
                members: s.members,
            }
        })
        .collect();
    Ok(page(&SegmentsPage { rows }))
}
