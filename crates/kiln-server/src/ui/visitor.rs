//! The storefront's visitor: an anonymous id in a cookie (Segment's
//! `anonymousId`), so what someone browses and configures before they say
//! who they are joins their profile when they check out, and a clerk in a
//! store sees it when they come in.

use axum::http::HeaderMap;
use axum::response::Response;
use kiln_app::profiles::own::OwnEvent;

use super::{cookie, set_cookie};
use crate::AppState;

const VISITOR_COOKIE: &str = "kiln_visitor";

/// The visitor's anonymous id, and whether it is new to set on the answer.
pub(super) fn visitor(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, VISITOR_COOKIE) {
        Some(v)
            if (8..=64).contains(&v.len())
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            (v, false)
        }
        _ => (format!("v_{}", uuid::Uuid::now_v7().simple()), true),
    }
}

/// Records `event` for the visitor and keeps their id on the brand's shop
/// for a year when it is new.
pub(super) fn record(
    state: &AppState,
    brand: &kiln_domain::Brand,
    headers: &HeaderMap,
    response: &mut Response,
    event: impl FnOnce(&str) -> OwnEvent,
) {
    let (id, new) = visitor(headers);
    state.app.record_event(brand, event(&id));
    if new {
        set_cookie(
            response,
            VISITOR_COOKIE,
            &id,
            &format!("/shop/{}", brand.slug),
            365 * 86_400,
        );
    }
}
