//! Staff sign in with their email and password (`/sign-in`), into a session
//! whose secret rides in an HttpOnly, SameSite cookie; and what each role
//! may do in the console and store mode, checked for every request there
//! before any handler ([`gate`], [`may`]).
//!
//! A brand API key still opens the console (for setting up a brand before
//! it has staff); people do not need one.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kiln_app::Error as AppError;
use kiln_app::staff::StaffPrincipal;
use kiln_domain::Role;
use serde::Deserialize;

use super::{UiResult, cookie, page, see_other, set_cookie};
use crate::AppState;

/// The session cookie: a random secret, never a key or a password.
pub(super) const STAFF_COOKIE: &str = "kiln_staff";

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/sign-in", get(form).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/sign-out-everywhere", post(sign_out_everywhere))
}

/// The signed-in staff member, if the request carries a live session.
pub(super) async fn staff_of(
    state: &AppState,
    headers: &HeaderMap,
) -> UiResult<Option<StaffPrincipal>> {
    match cookie(headers, STAFF_COOKIE) {
        Some(token) => Ok(state.app.staff_session(&token).await?),
        None => Ok(None),
    }
}

/// What the signed-in person's role lets the console offer them (a brand
/// key: everything). Pages hide what the role may not do; [`gate`] refuses
/// it anyway.
#[derive(Debug, Clone, Copy)]
pub struct Can {
    /// Mark down, re-sequence, receive or delay purchases, ship, record
    /// payments.
    pub plan: bool,
    /// Start and complete operations.
    pub operate: bool,
    /// The orders, claims and demand pages.
    pub see_orders: bool,
    pub see_catalog: bool,
    pub see_webhooks: bool,
    pub manage_staff: bool,
}

impl Can {
    pub(super) async fn of(state: &AppState, headers: &HeaderMap) -> UiResult<Can> {
        let role = staff_of(state, headers).await?.map(|w| w.member.role);
        let may = |method: &Method, path: &str| role.is_none_or(|r| may(r, method, path));
        Ok(Can {
            plan: may(&Method::POST, "/console/downtimes"),
            operate: may(&Method::POST, "/console/work-orders/w/operations/1/start"),
            see_orders: may(&Method::GET, "/console/orders"),
            see_catalog: may(&Method::GET, "/console/catalog"),
            see_webhooks: may(&Method::GET, "/console/webhooks"),
            manage_staff: may(&Method::GET, "/console/staff"),
        })
    }
}

/// Who the audit log names for a console change: the signed-in person, or
/// the brand key the console was opened with.
pub(super) async fn actor_of(
    state: &AppState,
    headers: &HeaderMap,
    rt: &kiln_app::BrandRuntime,
) -> UiResult<kiln_app::Actor> {
    Ok(match staff_of(state, headers).await? {
        Some(who) => who.actor(),
        None => kiln_app::Actor::Staff(format!("console key {}", rt.brand.slug)),
    })
}

#[derive(Template)]
#[template(path = "staff_signin.html")]
pub(super) struct SignInPage {
    pub problem: String,
    pub email: String,
    /// Where to go once signed in: `/console` or `/store`.
    pub next: String,
}

impl SignInPage {
    pub(super) fn to(next: &str) -> SignInPage {
        SignInPage {
            problem: String::new(),
            email: String::new(),
            next: next.into(),
        }
    }
}

async fn form() -> Response {
    page(&SignInPage::to("/console"))
}

#[derive(Deserialize)]
struct Fields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only the console or store mode, never an address from the form.
fn next_of(next: &str, role: Role) -> &'static str {
    match (next, role) {
        (_, Role::StoreClerk) => "/store",
        ("/store", Role::Admin) => "/store",
        _ => "/console",
    }
}

async fn sign_in(State(state): State<Arc<AppState>>, req: Request) -> UiResult<Response> {
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let tls = req
        .headers()
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let Form(f) = Form::<Fields>::from_request(req, &state)
        .await
        .map_err(|e| crate::error::ApiError::BadRequest {
            detail: e.body_text(),
            errors: Vec::new(),
        })?;
    let again = |problem: &str, status: StatusCode| {
        let mut r = page(&SignInPage {
            problem: problem.into(),
            email: f.email.trim().chars().take(254).collect(),
            next: if f.next == "/store" {
                "/store"
            } else {
                "/console"
            }
            .into(),
        });
        *r.status_mut() = status;
        r
    };
    match state.app.sign_in(&f.email, &f.password, address).await {
        Ok(signed) => {
            let mut response = see_other(next_of(&f.next, signed.member.role));
            let max_age = kiln_app::staff::ABSOLUTE.as_secs();
            super::set_session_cookie(&mut response, STAFF_COOKIE, &signed.token, max_age, tls);
            Ok(response)
        }
        // The same words for an unknown email and a wrong password.
        Err(AppError::Unauthorized) => Ok(again(
            "That email and password do not match an account. Check both and try again.",
            StatusCode::UNAUTHORIZED,
        )),
        Err(AppError::RateLimited(_)) => Ok(again(
            "Too many failed sign-ins for this account or from this address. Wait 15 minutes and try again.",
            StatusCode::TOO_MANY_REQUESTS,
        )),
        Err(e) => Err(e.into()),
    }
}

async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    if let Some(token) = cookie(&headers, STAFF_COOKIE) {
        state.app.sign_out(&token).await?;
    }
    let mut response = see_other("/sign-in");
    set_cookie(&mut response, STAFF_COOKIE, "", "/", 0);
    Ok(response)
}

async fn sign_out_everywhere(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> UiResult<Response> {
    if let Some(who) = staff_of(&state, &headers).await? {
        state.app.sign_out_everywhere(&who).await?;
    }
    let mut response = see_other("/sign-in");
    set_cookie(&mut response, STAFF_COOKIE, "", "/", 0);
    Ok(response)
}

/// What a planner may change in the console: the factory's work, purchases,
/// disruptions, shipping and payments, claims. `*` stands for one segment.
const PLANNER_WRITES: &[&str] = &[
    "/console/work-orders/*/operations/*/*",
    "/console/orders/*/ship",
    "/console/orders/*/paid",
    "/console/orders/*/lines/*",
    "/console/orders/*/lines/*/cancel",
    "/console/shipments/*/delivered",
    "/console/downtimes",
    "/console/downtimes/*/cancel",
    "/console/resequence",
    "/console/purchase-suggestions/*/receive",
    "/console/purchase-suggestions/*/delay",
    "/console/demand/purchases",
    "/console/units/*/claims",
    "/console/claims/*/decision",
    "/console/bulk",
    "/console/bulk/*/accept",
    "/console/business-customers",
];
const OPERATOR_WRITES: &[&str] = &["/console/work-orders/*/operations/*/*"];
const PRODUCT_MANAGER_WRITES: &[&str] = &["/console/catalog"];

/// Whether `path` has the shape of `pattern` (`*`: any one segment).
fn matches(pattern: &str, path: &str) -> bool {
    let (mut p, mut q) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some("*"), Some(seg)) if !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// Whether `role` may make this request to the console or store mode.
/// Reading is `GET`; everything else changes something. What is not
/// listed is for brand admins only, so a new route is closed to everyone
/// else until its roles are written here.
pub fn may(role: Role, method: &Method, path: &str) -> bool {
    let read = matches!(*method, Method::GET | Method::HEAD);
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if path == "/console/sign-out" || path == "/store/sign-out" {
        return true;
    }
    let writes = |list: &[&str]| !read && list.iter().any(|p| matches(p, path));
    // Who works here, and the brand's webhooks: admins only, even to read.
    let console_read = read && under("/console") && !under("/console/staff");
    match role {
        Role::Admin => under("/console") || under("/store"),
        Role::StoreClerk => under("/store"),
        Role::Analyst => console_read,
        // The queues (and the chart above them), and starting and
        // completing their operations.
        Role::Operator => {
            (read && (path == "/console" || path == "/console/gantt")) || writes(OPERATOR_WRITES)
        }
        Role::Planner => console_read || writes(PLANNER_WRITES),
        Role::ProductManager => console_read || writes(PRODUCT_MANAGER_WRITES),
    }
}

/// Checks every console and store mode request of a signed-in staff member
/// against [`may`]; a refusal is a 403 page that says so.
pub async fn gate(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let guarded = path == "/console"
        || path.starts_with("/console/")
        || path == "/store"
        || path.starts_with("/store/");
    if !guarded {
        return next.run(req).await;
    }
    let who = match staff_of(&state, req.headers()).await {
        Ok(who) => who,
        Err(e) => return e.into_response(),
    };
    match who {
        Some(who) if !may(who.member.role, req.method(), path) => {
            tracing::info!(staff = %who.member.email, role = %who.member.role, path, "refused by role");
            let mut r = page(&super::ErrorPage {
                title: "Not for your role".into(),
                detail: format!(
                    "You are signed in as {} ({}), and this is not part of that role. Ask a brand admin if you need it.",
                    who.member.name,
                    who.member.role.as_str().replace('_', " ")
                ),
            });
            *r.status_mut() = StatusCode::FORBIDDEN;
            r
        }
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_may_do_its_job_only() {
        let (get, post) = (&Method::GET, &Method::POST);
        let op = "/console/work-orders/wo_1/operations/1/start";
        assert!(may(Role::Operator, post, op));
        assert!(may(Role::Operator, get, "/console"));
        assert!(!may(Role::Operator, post, "/console/orders/ord_1/ship"));
        assert!(!may(Role::Operator, get, "/console/orders"));
        assert!(!may(Role::Analyst, post, "/console/downtimes"));
        assert!(may(Role::Analyst, get, "/console/claims"));
        assert!(may(Role::Planner, post, "/console/downtimes"));
        assert!(may(Role::Planner, post, "/console/orders/ord_1/ship"));
        assert!(!may(Role::Planner, post, "/console/catalog"));
        let late = "/console/purchase-suggestions/pur_1/delay";
        assert!(may(Role::Planner, post, late));
        assert!(!may(Role::Operator, post, late) && !may(Role::Analyst, post, late));
        assert!(may(Role::Planner, get, "/console/catalog"));
        assert!(may(Role::ProductManager, post, "/console/catalog"));
        assert!(!may(Role::ProductManager, post, "/console/downtimes"));
        assert!(may(Role::StoreClerk, post, "/store/orders"));
        assert!(!may(Role::StoreClerk, get, "/console"));
        assert!(!may(Role::Planner, get, "/store"));
        assert!(may(Role::Admin, post, "/console/webhooks/w/replay"));
        assert!(may(Role::Analyst, post, "/console/sign-out"));
        assert!(!may(Role::Planner, get, "/console/staff"));
        assert!(!may(Role::Analyst, get, "/console/staff"));
        assert!(may(Role::Admin, post, "/console/staff"));
        // A route nobody listed is for admins only.
        assert!(!may(Role::Planner, post, "/console/something-new"));
        assert!(may(Role::Admin, post, "/console/something-new"));
        assert!(!may(
            Role::Operator,
            post,
            "/console/work-orders/wo_1/operations"
        ));
    }
}
