//! Checkout: the cart's items with shipping and tax for where they go (the
//! home country until the shopper chooses one: "Update delivery" re-rates
//! the page, as the script does in place; see `delivery.rs`), the
//! customer's details with errors in sentences beside their fields, and the
//! order placed through the same use case as the API, the cart being the
//! idempotency key.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::panel::{Fields, field};
use super::{UiResult, cookie, page, see_other, set_cookie};
use crate::AppState;
use kiln_app::orders::{CustomerInput, LineInput, OrderRequest};
use kiln_app::storefront::CartLine;
use kiln_app::{BrandRuntime, Error as AppError};
use kiln_domain::{Address, Channel};

use super::cart::{CART_COOKIE, CartLineView, Totals, cart_lines};
use super::delivery::{COUNTRIES, DeliveryView, destination, rated};

pub struct FieldView {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
    error: String,
    /// Beside the country: that the brand does not deliver there.
    note: String,
    /// The ids of the messages that describe the field.
    describedby: String,
    /// The first field in error takes the focus when the page loads.
    autofocus: bool,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    brand: String,
    cart_count: usize,
    count: usize,
    lines: Vec<CartLineView>,
    totals: Totals,
    delivery: DeliveryView,
    problem: String,
    fields: Vec<FieldView>,
    countries: Vec<(&'static str, &'static str)>,
}

/// (field, label, input type, autocomplete, path in the order request)
const CHECKOUT_FIELDS: &[(&str, &str, &str, &str, &str)] = &[
    ("name", "Full name", "text", "name", "/customer/name"),
    ("email", "Email", "email", "email", "/customer/email"),
    ("phone", "Phone (optional)", "tel", "tel", "/customer/phone"),
    (
        "line1",
        "Street address",
        "text",
        "address-line1",
        "/ship_to/line1",
    ),
    ("city", "City", "text", "address-level2", "/ship_to/city"),
    (
        "postal_code",
        "Postal code",
        "text",
        "postal-code",
        "/ship_to/postal_code",
    ),
    ("country", "Country", "text", "country", "/ship_to/country"),
];

/// A checkout error as a shopper reads it: what to do, in a sentence. A
/// missing field says what to enter; the country is chosen, not typed.
fn for_shoppers(field: &str, message: &str) -> String {
    let missing = message.contains("required");
    match (field, missing) {
        ("name", true) => "Enter your full name.".into(),
        ("email", true) => "Enter your email address, like ada@example.com.".into(),
        ("line1", true) => "Enter the street and number.".into(),
        ("city", true) => "Enter the town or city.".into(),
        ("postal_code", true) => "Enter the postal code.".into(),
        ("country", _) => "Choose the country to deliver to.".into(),
        _ => super::sentence(message),
    }
}

/// The checkout with what was typed, rated for the country and postal
/// code typed (the home country until there is one).
async fn checkout_form(
    state: &AppState,
    rt: &BrandRuntime,
    lines: &[CartLine],
    values: &Fields,
    errors: &[kiln_app::FieldError],
    problem: String,
) -> UiResult<CheckoutPage> {
    let (views, totals, delivery) = rated(state, rt, lines, destination(values)).await?;
    let mut fields: Vec<FieldView> = CHECKOUT_FIELDS
        .iter()
        .map(|(name, label, kind, autocomplete, path)| {
            let mut error = errors
                .iter()
                .filter(|e| e.path == *path || (*name == "name" && e.path == "/ship_to/name"))
                .map(|e| for_shoppers(name, &e.message))
                .next()
                .unwrap_or_default();
            let mut note = String::new();
            if *name == "country" && !delivery.note.is_empty() {
                // Refused at the submit for where it goes: the error says why.
                if error.is_empty() {
                    note = delivery.note.clone();
                } else {
                    error = delivery.note.clone();
                }
            }
            let describedby = [(&error, "e-"), (&note, "n-")]
                .iter()
                .filter(|(message, _)| !message.is_empty())
                .map(|(_, prefix)| format!("{prefix}{name}"))
                .collect::<Vec<_>>()
                .join(" ");
            FieldView {
                name,
                label,
                kind,
                autocomplete,
                value: field(values, name).unwrap_or_default().to_string(),
                error,
                note,
                describedby,
                autofocus: false,
            }
        })
        .collect();
    if let Some(first) = fields.iter_mut().find(|f| !f.error.is_empty()) {
        first.autofocus = true;
    }
    Ok(CheckoutPage {
        brand: rt.brand.slug.to_string(),
        cart_count: views.len(),
        count: views.len(),
        lines: views,
        totals,
        delivery,
        problem,
        fields,
        countries: COUNTRIES.to_vec(),
    })
}

pub(super) async fn checkout_page(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let lines = cart_lines(&state, &rt, &headers).await;
    if lines.is_empty() {
        return Ok(see_other(&format!("/shop/{}/cart", rt.brand.slug)));
    }
    let form = checkout_form(&state, &rt, &lines, &Vec::new(), &[], String::new()).await?;
    Ok(page(&form))
}

pub(super) async fn checkout(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Form(values): Form<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let Some(cart_id) = cookie(&headers, CART_COOKIE) else {
        return Ok(see_other(&format!("/shop/{}/cart", rt.brand.slug)));
    };
    let lines = cart_lines(&state, &rt, &headers).await;
    if lines.is_empty() {
        return Ok(see_other(&format!("/shop/{}/cart", rt.brand.slug)));
    }
    // "Update delivery": the page again with what was typed, re-rated for
    // it; no order, and no word yet about fields not filled in.
    if field(&values, "intent") == Some("delivery") {
        let form = checkout_form(&state, &rt, &lines, &values, &[], String::new()).await?;
        return Ok(page(&form));
    }
    let get = |name: &str| field(&values, name).unwrap_or_default().trim().to_string();
    let name = get("name");
    let request = OrderRequest {
        shipping: Default::default(),
        customer: CustomerInput {
            name: name.clone(),
            email: get("email"),
            phone: Some(get("phone")).filter(|p| !p.is_empty()),
        },
        ship_to: Address {
            name,
            line1: get("line1"),
            line2: None,
            city: get("city"),
            postal_code: get("postal_code"),
            region: None,
            country: get("country").to_uppercase(),
        },
        channel: Channel::Online,
        store_id: None,
        lines: lines
            .iter()
            .map(|l| LineInput {
                product: l.product.clone(),
                selections: l.selections.clone(),
                quantity: l.quantity,
            })
            .collect(),
    };
    // The cart is the idempotency key: a double submit places one order.
    let slug = rt.brand.slug.as_str();
    match state
        .app
        .place_order(
            slug,
            Some(format!("checkout-{cart_id}")),
            request,
            kiln_app::orders::Proof::Unproven,
        )
        .await
    {
        Ok(order) => {
            state.app.clear_cart(slug, &cart_id).await?;
            // The visitor says who they are: their browsing joins the
            // profile their order's email makes or finds.
            let (visitor, _) = super::visitor::visitor(&headers);
            state.app.record_event(
                &rt.brand,
                kiln_app::profiles::own::OwnEvent::identify(
                    &visitor,
                    &order.customer.email,
                    &order.customer.name,
                ),
            );
            let to = format!(
                "/shop/{}/orders/{}?token={}",
                rt.brand.slug, order.id, order.access_token
            );
            let mut response = see_other(&to);
            set_cookie(
                &mut response,
                CART_COOKIE,
                "",
                &format!("/shop/{}", rt.brand.slug),
                0,
            );
            Ok(response)
        }
        Err(AppError::Invalid { detail, errors }) => {
            let known: Vec<&str> = CHECKOUT_FIELDS
                .iter()
                .map(|f| f.4)
                .chain(["/ship_to/name"])
                .collect();
            let problem = if errors.iter().all(|e| known.contains(&e.path.as_str())) {
                "Please correct the fields marked below.".to_string()
            } else {
                detail
            };
            let form = checkout_form(&state, &rt, &lines, &values, &errors, problem).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&form)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
