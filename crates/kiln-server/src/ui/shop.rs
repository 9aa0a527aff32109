//! The storefront: catalog, product page with live configurator, saved
//! designs, cart, checkout and the customer's order page.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use kiln_configure::Selections;

use super::cart::cart_lines;
use super::{UiResult, cookie, page, see_other, set_cookie};
use super::{cart, checkout, order_page};
use crate::AppState;
use kiln_app::profiles::own::OwnEvent;
use kiln_app::storefront::recheck;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/shop/{brand}", get(catalog))
        .route("/shop/{brand}/p/{product}", get(product_page))
        .route("/shop/{brand}/p/{product}/panel", get(panel))
        .route("/shop/{brand}/designs", post(save_design))
        .route("/shop/{brand}/d/{code}", get(design_page))
        .route(
            "/shop/{brand}/cart",
            get(cart::cart_page).post(cart::add_to_cart),
        )
        .route("/shop/{brand}/cart/remove", post(cart::remove_from_cart))
        .route("/shop/{brand}/cart/quantity", post(cart::change_quantity))
        .route(
            "/shop/{brand}/checkout",
            get(checkout::checkout_page).post(checkout::checkout),
        )
        .route(
            "/shop/{brand}/checkout/delivery",
            get(super::delivery::delivery_fragment),
        )
        .route("/shop/{brand}/orders/{order}", get(order_page::order_page))
        .route(
            "/shop/{brand}/21/{serial}",
            get(super::passport::passport_page),
        )
        .route("/01/{gtin}/21/{serial}", get(super::passport::digital_link))
        .route("/shop/{brand}/verify", get(super::verify::verify_page))
        .route(
            "/shop/{brand}/verify-sw.js",
            get(super::verify::service_worker),
        )
}

use super::panel::{
    Fields, PanelFragment, PanelView, configure_leniently, field, panel_view, quantity_of,
    selections_of,
};

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    brand: String,
    cart_count: usize,
    share: Option<Share>,
    p: PanelView,
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    brand: String,
    brand_name: String,
    cart_count: usize,
    products: Vec<super::ProductCard>,
}

async fn catalog(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let cart_count = cart_lines(&state, &rt, &headers).await.len();
    let mut response = page(&CatalogPage {
        brand: rt.brand.slug.to_string(),
        brand_name: rt.brand.name.clone(),
        cart_count,
        products: super::cards(&rt),
    });
    super::visitor::record(&state, &rt.brand, &headers, &mut response, |v| {
        OwnEvent::page(v, "Catalog").with("path", format!("/shop/{}", rt.brand.slug))
    });
    Ok(response)
}

async fn product_page(
    State(state): State<Arc<AppState>>,
    Path((brand, product)): Path<(String, String)>,
    Query(fields): Query<Fields>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let c = rt.product(&product)?;
    let p = panel_view(&rt, c, selections_of(&fields), quantity_of(&fields)).await;
    let cart_count = cart_lines(&state, &rt, &headers).await.len();
    let name = c.product().name.clone();
    let mut response = page(&ProductPage {
        brand: rt.brand.slug.to_string(),
        cart_count,
        share: None,
        p,
    });
    super::visitor::record(&state, &rt.brand, &headers, &mut response, |v| {
        OwnEvent::track(v, "Product Viewed")
            .with("product_id", product.as_str())
            .with("name", name)
    });
    Ok(response)
}

async fn panel(
    State(state): State<Arc<AppState>>,
    Path((brand, product)): Path<(String, String)>,
    Query(fields): Query<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let c = rt.product(&product)?;
    let p = panel_view(&rt, c, selections_of(&fields), quantity_of(&fields)).await;
    Ok(page(&PanelFragment { p }))
}

async fn save_design(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let product = field(&fields, "_product").unwrap_or_default().to_string();
    let c = rt.product(&product)?;
    let (outcome, _) = configure_leniently(c, selections_of(&fields));
    // Only what the customer chose: defaults may change, choices should not.
    let chosen: Selections = outcome
        .options
        .iter()
        .filter_map(|o| o.selected.clone().map(|v| (o.id.clone(), v)))
        .collect();
    let design = state
        .app
        .save_design(rt.brand.slug.as_str(), &product, chosen)
        .await?;
    let mut response = see_other(&format!("/shop/{}/d/{}", rt.brand.slug, design.code));
    // Only the one who saved it is told so, once; the link shows the design.
    let path = format!("/shop/{}/d/{}", rt.brand.slug, design.code);
    set_cookie(&mut response, SAVED_COOKIE, "1", &path, 300);
    super::visitor::record(&state, &rt.brand, &headers, &mut response, |v| {
        OwnEvent::track(v, "Design Saved")
            .with("product_id", product.as_str())
            .with("design", design.code.as_str())
    });
    Ok(response)
}

/// Set on the design page's path for the next view after saving it.
const SAVED_COOKIE: &str = "kiln_saved";

/// A design's link, and whether the viewer has just saved it (or was sent
/// the link).
struct Share {
    link: String,
    saved: bool,
}

async fn design_page(
    State(state): State<Arc<AppState>>,
    Path((brand, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let design = state.app.design(rt.brand.slug.as_str(), &code).await?;
    let c = rt.product(&design.product_id)?;
    // Saved on an older catalog version: say what no longer holds.
    let problems = recheck(&rt.catalog, &design.product_id, &design.selections);
    let mut p = panel_view(&rt, c, design.selections.clone(), Ok(1)).await;
    if !problems.is_empty() {
        let note = format!(
            "This design was saved on an earlier catalog: {}",
            problems.join("; ")
        );
        p.conflict = Some(p.conflict.map_or(note.clone(), |c| format!("{note}. {c}")));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let saved = cookie(&headers, SAVED_COOKIE).is_some();
    let share = Some(Share {
        link: format!("http://{host}/shop/{}/d/{}", rt.brand.slug, design.code),
        saved,
    });
    let cart_count = cart_lines(&state, &rt, &headers).await.len();
    let mut response = page(&ProductPage {
        brand: rt.brand.slug.to_string(),
        cart_count,
        share,
        p,
    });
    if saved {
        let path = format!("/shop/{}/d/{}", rt.brand.slug, design.code);
        set_cookie(&mut response, SAVED_COOKIE, "", &path, 0);
    }
    Ok(response)
}
