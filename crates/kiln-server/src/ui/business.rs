//! The console's business customers: the companies that order in bulk, and
//! a form to record one with its first buyer and its address (used both
//! to bill and to ship to; the API takes them apart).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kiln_app::Error as AppError;
use kiln_app::bulk::business::BusinessCustomerInput;
use kiln_domain::{Address, Buyer};
use serde::Deserialize;

use super::console::require;
use super::{Flash, UiResult, page};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/console/business-customers", get(show).post(add))
}

struct Row {
    id: String,
    company: String,
    tax_id: String,
    buyers: String,
    ship_to: String,
}

#[derive(Template)]
#[template(path = "console_business.html")]
struct BusinessPage {
    notice: String,
    problem: String,
    /// (field label, what is wrong), for the form sent back.
    errors: Vec<(String, String)>,
    rows: Vec<Row>,
    form: Fields,
}

#[derive(Deserialize, Default, Clone)]
struct Fields {
    #[serde(default)]
    company: String,
    #[serde(default)]
    tax_id: String,
    #[serde(default)]
    buyer_name: String,
    #[serde(default)]
    buyer_email: String,
    #[serde(default)]
    buyer_phone: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    country: String,
}

/// The form's label for a field the use case names by its JSON path.
fn label(path: &str) -> &'static str {
    match path {
        "/company" => "Company",
        "/tax_id" => "Tax id",
        p if p.ends_with("/name") && p.starts_with("/buyers") => "Buyer's name",
        p if p.ends_with("/email") => "Buyer's email",
        p if p.ends_with("/phone") => "Buyer's phone",
        p if p.ends_with("/line1") => "Address",
        p if p.ends_with("/city") => "City",
        p if p.ends_with("/postal_code") => "Postal code",
        p if p.ends_with("/country") => "Country (two letters)",
        _ => "Company",
    }
}

async fn view(state: &AppState, slug: &str, form: Fields) -> UiResult<BusinessPage> {
    let list = state.app.business_customers(slug).await?;
    Ok(BusinessPage {
        notice: String::new(),
        problem: String::new(),
        errors: Vec::new(),
        rows: list
            .business_customers
            .into_iter()
            .map(|c| Row {
                id: c.id.to_string(),
                company: c.company,
                tax_id: c.tax_id.unwrap_or_default(),
                buyers: c
                    .buyers
                    .iter()
                    .map(|b| format!("{} <{}>", b.name, b.email))
                    .collect::<Vec<_>>()
                    .join(", "),
                ship_to: format!(
                    "{}, {} {}",
                    c.ship_to.line1, c.ship_to.postal_code, c.ship_to.city
                ),
            })
            .collect(),
        form,
    })
}

async fn show(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let mut page_view = view(&state, rt.brand.slug.as_str(), Fields::default()).await?;
    match super::flash_of(&headers) {
        Some((Flash::Notice, text)) => page_view.notice = text,
        Some((Flash::Problem, text)) => page_view.problem = text,
        None => {}
    }
    Ok(super::spend_flash(&headers, page(&page_view)))
}

async fn add(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let slug = rt.brand.slug.as_str();
    let address = Address {
        name: f.company.trim().to_string(),
        line1: f.line1.trim().to_string(),
        line2: None,
        city: f.city.trim().to_string(),
        postal_code: f.postal_code.trim().to_string(),
        region: None,
        country: f.country.trim().to_string(),
    };
    let input = BusinessCustomerInput {
        company: f.company.clone(),
        tax_id: Some(f.tax_id.trim().to_string()).filter(|t| !t.is_empty()),
        buyers: vec![Buyer {
            name: f.buyer_name.trim().to_string(),
            email: f.buyer_email.trim().to_string(),
            phone: Some(f.buyer_phone.trim().to_string()).filter(|p| !p.is_empty()),
        }],
        billing_address: address.clone(),
        ship_to: Some(address),
    };
    match state.app.add_business_customer(slug, input).await {
        Ok(c) => Ok(super::redirect_with(
            "/console/business-customers",
            Flash::Notice,
            &format!("{} recorded as business customer {}.", c.company, c.id),
        )),
        Err(AppError::Invalid { detail, errors }) => {
            let mut again = view(&state, slug, f).await?;
            again.problem = if errors.is_empty() {
                detail
            } else {
                "The business customer was not recorded:".into()
            };
            again.errors = errors
                .iter()
                .map(|e| (label(&e.path).to_string(), e.message.clone()))
                .collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&again)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
