//! Store mode takes a unit back: the clerk scans or types its serial (the
//! label's code gives the passport link, whose last segment is the serial),
//! says what is wrong, and opens a warranty claim or a return. The claim's
//! page shows what the factory decided and when the unit comes back.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use kiln_app::Error as AppError;
use kiln_app::claims::ClaimRequest;
use kiln_domain::{ClaimId, ClaimKind, ClaimStatus};
use serde::Deserialize;

use super::pos::at_store;
use super::{UiResult, long_date, page, see_other};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/store/claims", get(form).post(open))
        .route("/store/claims/{claim}", get(show))
}

#[derive(Deserialize, Default)]
struct Fields {
    #[serde(default)]
    serial: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    parts: String,
}

#[derive(Template)]
#[template(path = "pos_claim.html")]
struct ClaimForm {
    store_name: String,
    f: Fields,
    problem: String,
}

async fn form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let (_, store) = at_store(&state, &headers).await?;
    Ok(page(&ClaimForm {
        store_name: store.name,
        f: Fields::default(),
        problem: String::new(),
    }))
}

/// The serial in what was typed or scanned: a serial, or the label's link
/// (`…/21/{serial}?pp=…`).
fn serial_of(scanned: &str) -> String {
    let s = scanned.trim();
    let path = s.split(['?', '#']).next().unwrap_or(s);
    match path.rsplit_once("/21/") {
        Some((_, serial)) => serial.trim_matches('/').to_string(),
        None => path.to_string(),
    }
}

async fn open(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> UiResult<Response> {
    let (rt, store) = at_store(&state, &headers).await?;
    let again = |f: Fields, problem: String| {
        page(&ClaimForm {
            store_name: store.name.clone(),
            f,
            problem,
        })
    };
    let kind = match f.kind.parse::<ClaimKind>() {
        Ok(k) => k,
        Err(_) => return Ok(again(f, "Choose a warranty repair or a return.".into())),
    };
    let serial = serial_of(&f.serial);
    if serial.is_empty() {
        return Ok(again(f, "Scan the unit's label or type its serial.".into()));
    }
    let req = ClaimRequest {
        kind,
        reason: f.reason.clone(),
        parts: f
            .parts
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    };
    match state
        .app
        .open_claim(rt.brand.slug.as_str(), &serial, req)
        .await
    {
        Ok(c) => Ok(see_other(&format!("/store/claims/{}", c.id))),
        Err(AppError::NotFound(_)) => Ok(again(
            f,
            format!("No unit of this brand has the serial “{serial}”: check the label."),
        )),
        Err(AppError::Invalid { errors, detail }) => {
            let why = super::why_refused(&errors, detail);
            Ok(again(f, format!("The claim was not opened: {why}.")))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pos_claim_show.html")]
struct ClaimPage {
    store_name: String,
    id: String,
    serial: String,
    passport: String,
    what: String,
    warranty: &'static str,
    decision: String,
}

async fn show(
    State(state): State<Arc<AppState>>,
    Path(claim): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let (rt, store) = at_store(&state, &headers).await?;
    let c = state
        .app
        .claim(rt.brand.slug.as_str(), &ClaimId::from(claim))
        .await?;
    let decision = match (c.status, c.promised_date) {
        (ClaimStatus::Open, _) => {
            "The factory decides: repair, remake, refund or reject. Check back here.".to_string()
        }
        (ClaimStatus::Repair, Some(d)) => {
            format!("To be repaired; back by {}.", long_date(d))
        }
        (ClaimStatus::Remake, Some(d)) => {
            format!("A new unit is made; ready by {}.", long_date(d))
        }
        (ClaimStatus::Rejected, _) => format!("Rejected: {}.", c.note),
        (status, _) => format!("Decided: {status}."),
    };
    Ok(page(&ClaimPage {
        store_name: store.name,
        id: c.id.to_string(),
        passport: format!("/shop/{}/21/{}", rt.brand.slug, c.serial),
        what: super::claims::what(&c),
        serial: c.serial,
        warranty: if c.in_warranty {
            "under warranty"
        } else {
            "out of warranty"
        },
        decision,
    }))
}

#[cfg(test)]
mod tests {
    use super::serial_of;

    #[test]
    fn a_scanned_label_gives_its_serial() {
        assert_eq!(serial_of(" K7Q2 "), "K7Q2");
        assert_eq!(
            serial_of("https://kiln.example/shop/demo/21/K7Q2?pp=a.b.c"),
            "K7Q2"
        );
        assert_eq!(serial_of("/shop/demo/21/K7Q2/"), "K7Q2");
    }
}
