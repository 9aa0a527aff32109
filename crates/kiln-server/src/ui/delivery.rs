//! The checkout's delivery, re-rated for the country and postal code the
//! shopper types: what it costs to get there, the date each line would be
//! delivered by, and, beside the country field, a plain sentence when the
//! brand delivers nowhere there. The script fetches the fragment from
//! `GET /shop/{brand}/checkout/delivery?country=..&postal_code=..` as those
//! fields change; without it, the checkout's "Update delivery" button posts
//! the form and the whole page comes back re-rated.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::cart::{CartLineView, Totals, cart_lines, views};
use super::panel::{Fields, field};
use super::{UiResult, long_date, page};
use crate::AppState;
use kiln_app::BrandRuntime;
use kiln_app::logistics::Destination;
use kiln_app::rating::{RatedCart, Shipping};
use kiln_app::storefront::CartLine;

/// The countries the checkout offers, by their ISO code.
pub(super) const COUNTRIES: &[(&str, &str)] = &[
    ("GB", "United Kingdom"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("IT", "Italy"),
    ("ES", "Spain"),
    ("NL", "Netherlands"),
    ("IE", "Ireland"),
    ("US", "United States"),
    ("CN", "China"),
    ("JP", "Japan"),
];

/// A country as a shopper reads it: its name when the checkout lists it,
/// else its code.
fn country_name(code: &str) -> &str {
    COUNTRIES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, name)| name)
}

/// Where the form says the order goes, as far as it is typed yet.
pub(super) fn destination(values: &Fields) -> Option<Destination> {
    Destination::typed(
        field(values, "country").unwrap_or_default(),
        field(values, "postal_code").unwrap_or_default(),
    )
}

/// Delivery to where the shopper said, in sentences.
pub struct DeliveryView {
    /// Where shipping and the dates are for.
    pub to: String,
    /// The date the whole order would be delivered by ("" if none).
    pub by: String,
    /// Beside the country field: that the brand does not deliver there.
    pub note: String,
    /// Why the factory cannot plan the order now ("" if it can).
    pub problem: String,
    /// What a screen reader hears once the script has re-rated.
    pub announce: String,
}

impl DeliveryView {
    pub fn of(rated: &RatedCart, totals: &Totals) -> DeliveryView {
        let place = rated.destination.as_ref().map(|d| {
            let name = country_name(&d.country);
            match d.postal_code.as_str() {
                "" => name.to_string(),
                postal => format!("{name}, {postal}"),
            }
        });
        let name = rated
            .destination
            .as_ref()
            .map_or("", |d| country_name(&d.country));
        let note = match &rated.shipping {
            Shipping::Charged(_) => String::new(),
            Shipping::NoCountry => format!("We don't deliver to {name}. Choose another country."),
            Shipping::NoPostalCode => format!(
                "We don't deliver to {} in {name}. Check the postal code, or choose another country.",
                rated
                    .destination
                    .as_ref()
                    .map_or("", |d| d.postal_code.as_str())
            ),
            Shipping::Refused(_) => format!("We can't deliver these items to {name}."),
        };
        let to = match (&place, rated.estimated, note.is_empty()) {
            (_, _, false) => note.clone(),
            (None, _, _) => String::new(),
            (Some(place), true, _) => format!(
                "Shipping and delivery dates for {place}, until you choose the country to deliver to."
            ),
            (Some(place), false, _) => format!("Shipping and delivery dates for {place}."),
        };
        let by = rated.promised.map(long_date).unwrap_or_default();
        let problem = match (&rated.shipping, &rated.problem) {
            (Shipping::Refused(why), _) | (_, Some(why)) => super::sentence(why),
            _ => String::new(),
        };
        let announce = if !note.is_empty() {
            note.clone()
        } else {
            let mut said = format!(
                "Shipping{}: {}. Total {}.",
                place.as_ref().map_or(String::new(), |p| format!(" to {p}")),
                totals.shipping,
                totals.total
            );
            if !by.is_empty() {
                said.push_str(&format!(" Delivered by {by}."));
            }
            said
        };
        DeliveryView {
            to,
            by,
            note,
            problem,
            announce,
        }
    }
}

/// The checkout's items, totals and delivery, as the script swaps them in.
#[derive(Template)]
#[template(path = "checkout_delivery.html")]
struct DeliveryFragment {
    count: usize,
    lines: Vec<CartLineView>,
    totals: Totals,
    delivery: DeliveryView,
}

/// The cart rated for `to` (the home country until known), as shown.
pub(super) async fn rated(
    state: &AppState,
    rt: &BrandRuntime,
    lines: &[CartLine],
    to: Option<Destination>,
) -> UiResult<(Vec<CartLineView>, Totals, DeliveryView)> {
    let rated = state
        .app
        .rate_cart(rt.brand.slug.as_str(), lines, to)
        .await?;
    let (views, totals) = views(rt, lines, &rated);
    let delivery = DeliveryView::of(&rated, &totals);
    Ok((views, totals, delivery))
}

/// `GET /shop/{brand}/checkout/delivery?country=DE&postal_code=10117`: the
/// fragment re-rated for that country and postal code. Nothing is placed.
pub(super) async fn delivery_fragment(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    Query(values): Query<Fields>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let lines = cart_lines(&state, &rt, &headers).await;
    let (lines, totals, delivery) = rated(&state, &rt, &lines, destination(&values)).await?;
    Ok(page(&DeliveryFragment {
        count: lines.len(),
        lines,
        totals,
        delivery,
    }))
}
