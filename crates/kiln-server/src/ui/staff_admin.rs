//! The brand's people, for its admins (`/console/staff`): who works here in
//! which role, inviting someone by email, removing someone (out at once).
//! And the pages a person reaches from a mailed link: setting a password
//! (`/staff/password?token=`) and asking for a reset (`/sign-in/forgot`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use kiln_app::Error as AppError;
use kiln_app::staff::NewStaff;
use kiln_domain::{Role, StaffId, TokenPurpose};
use serde::Deserialize;

use super::console::require;
use super::{UiResult, page};
use crate::AppState;
use crate::api::passports::public_base;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/staff", get(list).post(invite))
        .route("/console/staff/{id}/remove", post(remove))
        .route("/staff/password", get(password_form).post(set_password))
        .route("/sign-in/forgot", get(forgot_form).post(forgot))
}

fn return_to_staff() -> String {
    "/console/staff".into()
}

const ROLES: &[(Role, &str)] = &[
    (Role::Admin, "Brand admin"),
    (Role::ProductManager, "Product manager"),
    (Role::Planner, "Planner"),
    (Role::Operator, "Operator"),
    (Role::StoreClerk, "Store clerk"),
    (Role::Analyst, "Analyst"),
];

fn role_name(role: Role) -> &'static str {
    ROLES
        .iter()
        .find(|(r, _)| *r == role)
        .map_or("", |(_, n)| n)
}

struct Row {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    stores: String,
    status: &'static str,
    removable: bool,
}

#[derive(Template)]
#[template(path = "console_staff.html")]
struct StaffPage {
    notice: String,
    problem: String,
    rows: Vec<Row>,
    roles: Vec<(&'static str, &'static str)>,
    stores: Vec<(String, String)>,
}

async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let slug = rt.brand.slug.as_str();
    let flash = super::flash_of(&headers);
    let said = |kind: super::Flash| {
        flash
            .as_ref()
            .filter(|(k, _)| *k == kind)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let rows = state
        .app
        .staff(slug)
        .await?
        .into_iter()
        .map(|m| Row {
            id: m.id.to_string(),
            status: match (&m.removed_at, &m.password_hash) {
                (Some(_), _) => "removed",
                (None, None) => "invited",
                (None, Some(_)) => "active",
            },
            removable: m.removed_at.is_none(),
            name: m.name,
            email: m.email,
            role: role_name(m.role),
            stores: m.stores.join(", "),
        })
        .collect();
    let response = page(&StaffPage {
        notice: said(super::Flash::Notice),
        problem: said(super::Flash::Problem),
        rows,
        roles: ROLES.iter().map(|(r, n)| (r.as_str(), *n)).collect(),
        stores: state
            .app
            .stores(slug)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
    });
    Ok(super::spend_flash(&headers, response))
}

#[derive(Deserialize)]
struct InviteFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    store: String,
}

async fn invite(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<InviteFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let back = return_to_staff();
    let Ok(role) = f.role.parse::<Role>() else {
        return Ok(super::redirect_with(
            &back,
            super::Flash::Problem,
            "Choose a role.",
        ));
    };
    let actor = super::staff::actor_of(&state, &headers, &rt).await?;
    let new = NewStaff {
        email: f.email,
        name: f.name,
        role,
        stores: Some(f.store.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .into_iter()
            .collect(),
        password: None,
    };
    Ok(
        match state
            .app
            .invite_staff(&actor, rt.brand.slug.as_str(), new, &public_base(&headers))
            .await
        {
            Ok(m) => super::redirect_with(
                &back,
                super::Flash::Notice,
                &format!(
                    "{} is invited: a link to set a password is on its way to {}.",
                    m.name, m.email
                ),
            ),
            Err(AppError::Invalid { errors, detail }) => {
                let why = super::why_refused(&errors, detail);
                super::redirect_with(
                    &back,
                    super::Flash::Problem,
                    &format!("Not invited: {why}."),
                )
            }
            Err(AppError::Conflict(m)) => {
                super::redirect_with(&back, super::Flash::Problem, &format!("Not invited: {m}."))
            }
            Err(e) => return Err(e.into()),
        },
    )
}

async fn remove(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let id = StaffId::from(id);
    if super::staff::staff_of(&state, &headers)
        .await?
        .is_some_and(|me| me.member.id == id)
    {
        return Ok(super::redirect_with(
            &return_to_staff(),
            super::Flash::Problem,
            "You cannot remove your own account: ask another admin.",
        ));
    }
    let actor = super::staff::actor_of(&state, &headers, &rt).await?;
    state
        .app
        .remove_staff(&actor, rt.brand.slug.as_str(), &id)
        .await?;
    Ok(super::redirect_with(
        &return_to_staff(),
        super::Flash::Notice,
        "Removed: their sessions ended, and they can no longer sign in.",
    ))
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "staff_password.html")]
struct PasswordPage {
    /// Empty when the link cannot be used.
    token: String,
    heading: String,
    who: String,
    problem: String,
    done: bool,
}

async fn password_form(
    State(state): State<Arc<AppState>>,
    Query(q): Query<TokenQuery>,
) -> UiResult<Response> {
    Ok(page(&match state.app.link_holder(&q.token).await? {
        Some((m, purpose)) => PasswordPage {
            heading: match purpose {
                TokenPurpose::Invite => "Set your password".into(),
                TokenPurpose::Reset => "Choose a new password".into(),
            },
            who: format!("{} ({})", m.name, m.email),
            token: q.token,
            problem: String::new(),
            done: false,
        },
        None => PasswordPage {
            heading: "This link cannot be used".into(),
            who: String::new(),
            token: String::new(),
            problem: "It has expired or was used already. Ask for a new one.".into(),
            done: false,
        },
    }))
}

#[derive(Deserialize)]
struct PasswordFields {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

async fn set_password(
    State(state): State<Arc<AppState>>,
    Form(f): Form<PasswordFields>,
) -> UiResult<Response> {
    let holder = state.app.link_holder(&f.token).await?;
    let who = holder
        .as_ref()
        .map(|(m, _)| format!("{} ({})", m.name, m.email))
        .unwrap_or_default();
    let again = |problem: String| PasswordPage {
        heading: "Choose a password".into(),
        who: who.clone(),
        token: f.token.clone(),
        problem,
        done: false,
    };
    if f.password != f.again {
        return Ok(page(&again(
            "The two passwords differ: type the same one twice.".into(),
        )));
    }
    Ok(page(&match state
        .app
        .set_password_with_link(&f.token, &f.password)
        .await
    {
        Ok(m) => PasswordPage {
            heading: "Your password is set".into(),
            who: format!("{} ({})", m.name, m.email),
            token: String::new(),
            problem: String::new(),
            done: true,
        },
        Err(AppError::Invalid { detail, .. }) => again(format!("{detail}.")),
        Err(e) => return Err(e.into()),
    }))
}

#[derive(Template)]
#[template(path = "staff_forgot.html")]
struct ForgotPage {
    sent: bool,
}

async fn forgot_form() -> Response {
    page(&ForgotPage { sent: false })
}

#[derive(Deserialize)]
struct ForgotFields {
    #[serde(default)]
    email: String,
}

async fn forgot(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<ForgotFields>,
) -> UiResult<Response> {
    state
        .app
        .request_password_reset(&f.email, &public_base(&headers))
        .await?;
    Ok(page(&ForgotPage { sent: true }))
}
