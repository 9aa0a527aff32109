//! Store mode (point of sale): a clerk signs in for a store, looks a walk-in
//! customer up by email or phone with their orders from every channel, and
//! configures and places an order on channel `store`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::order_page::order_view;
use super::panel::{PanelFragment, PanelView, field, panel_view, quantity_of, selections_of};
use super::{
    KeyForm, ProductCard, UiResult, brand_for_key, brand_from_cookie, cookie, long_date, money,
    page, see_other, set_cookie,
};
use crate::AppState;
use crate::error::ApiError;
use kiln_app::orders::{CustomerInput, LineInput, OrderRequest};
use kiln_app::{BrandRuntime, Error as AppError};
use kiln_domain::{Channel, OrderId, PaymentStatus, StoreLocation};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/store", get(home))
        .route("/store/sign-in", post(sign_in))
        .route("/store/choose", post(choose))
        .route("/store/sign-out", post(sign_out))
        .route("/store/p/{product}", get(product))
        .route("/store/p/{product}/panel", get(panel))
        .route("/store/orders", post(place))
        .route("/store/orders/{order}", get(order))
        .route("/store/orders/{order}/paid", post(paid))
}

const KEY_COOKIE: &str = "kiln_pos";
const STORE_COOKIE: &str = "kiln_pos_store";

/// The signed-in brand and, once chosen, the store the clerk works at.
struct Session {
    rt: Arc<BrandRuntime>,
    store: Option<StoreLocation>,
    /// The stores this person may work at and see: a store clerk's own;
    /// `None` for an admin or a brand key (every store).
    allowed: Option<Vec<String>>,
}

impl Session {
    fn may_see(&self, channel: Channel, store_id: Option<&str>) -> bool {
        match (&self.allowed, channel) {
            (Some(own), Channel::Store) => store_id.is_some_and(|s| own.iter().any(|o| o == s)),
            _ => true,
        }
    }
}

async fn session(state: &AppState, headers: &HeaderMap) -> UiResult<Option<Session>> {
    let (rt, allowed) = match super::staff::staff_of(state, headers).await? {
        Some(who) => match who.member.role {
            kiln_domain::Role::StoreClerk => {
                (state.app.brand(&who.slug).await?, Some(who.member.stores))
            }
            kiln_domain::Role::Admin => (state.app.brand(&who.slug).await?, None),
            _ => return Ok(None),
        },
        None => match brand_from_cookie(state, headers, KEY_COOKIE).await? {
            Some(rt) => (rt, None),
            None => return Ok(None),
        },
    };
    let stores: Vec<StoreLocation> = state
        .app
        .stores(rt.brand.slug.as_str())
        .await?
        .into_iter()
        .filter(|s| allowed.as_ref().is_none_or(|own| own.contains(&s.id)))
        .collect();
    let store = match cookie(headers, STORE_COOKIE) {
        Some(id) => stores.iter().find(|s| s.id == id).cloned(),
        // A clerk of one store works there.
        None if allowed.is_some() && stores.len() == 1 => stores.first().cloned(),
        None => None,
    };
    Ok(Some(Session { rt, store, allowed }))
}

/// Not found, as for an order that does not exist, when the order belongs
/// to a store the signed-in clerk does not work at.
async fn visible(
    state: &AppState,
    headers: &HeaderMap,
    channel: Channel,
    store_id: Option<&str>,
) -> UiResult<()> {
    match session(state, headers).await? {
        Some(me) if me.may_see(channel, store_id) => Ok(()),
        Some(_) => Err(ApiError::not_found("no such order").into()),
        None => Err(ApiError::App(AppError::Unauthorized).into()),
    }
}

/// A signed-in clerk at a store, or a redirect to sign in.
pub(super) async fn at_store(
    state: &AppState,
    headers: &HeaderMap,
) -> UiResult<(Arc<BrandRuntime>, StoreLocation)> {
    match session(state, headers).await? {
        Some(Session {
            rt,
            store: Some(store),
            ..
        }) => Ok((rt, store)),
        _ => Err(ApiError::App(AppError::Unauthorized).into()),
    }
}

pub struct CustomerView {
    name: String,
    email: String,
    phone: String,
    /// (product name, link to configure it for this customer)
    start: Vec<(String, String)>,
    /// (id, channel, status, promised, total)
    orders: Vec<(String, String, String, String, String)>,
    /// Whether some of them were placed without proof under this email.
    unverified: bool,
    /// What they did online lately, newest first: (when, what).
    recent: Vec<(String, String)>,
}

/// Online events a clerk is shown for a customer who walks in.
const SHOWN_ONLINE: &[&str] = &[
    "Product Viewed",
    "Product Configured",
    "Product Added",
    "Design Saved",
];

/// What the customer with `email` did online lately, from their profile.
async fn recent_online(state: &AppState, slug: &str, email: &str) -> Vec<(String, String)> {
    let search = kiln_app::profiles::ProfileSearch {
        email: Some(email.to_string()),
        ..Default::default()
    };
    let Ok(found) = state.app.find_profiles(slug, &search).await else {
        return Vec::new();
    };
    found
        .iter()
        .flat_map(|p| p.events.iter())
        .filter(|e| e.name.as_deref().is_some_and(|n| SHOWN_ONLINE.contains(&n)))
        .take(5)
        .map(|e| {
            let product = e.body["properties"]["product_id"]
                .as_str()
                .unwrap_or("a product");
            let what = match e.name.as_deref() {
                Some("Product Viewed") => format!("looked at the {product}"),
                Some("Product Configured") => format!("configured a {product}"),
                Some("Product Added") => format!("put a {product} in the cart"),
                _ => format!("saved a {product} design"),
            };
            (e.timestamp.strftime("%-d %b %H:%M UTC").to_string(), what)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pos.html")]
struct Home {
    problem: String,
    signed_in: bool,
    store_name: String,
    stores: Vec<(String, String)>,
    query: String,
    customers: Vec<CustomerView>,
    products: Vec<ProductCard>,
}

#[derive(Deserialize)]
struct Lookup {
    customer: Option<String>,
}

async fn home(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(lookup): Query<Lookup>,
) -> UiResult<Response> {
    let mut view = Home {
        problem: String::new(),
        signed_in: false,
        store_name: String::new(),
        stores: Vec::new(),
        query: lookup.customer.unwrap_or_default().trim().to_string(),
        customers: Vec::new(),
        products: Vec::new(),
    };
    let Some(me) = session(&state, &headers).await? else {
        return Ok(page(&view));
    };
    view.signed_in = true;
    let rt = me.rt.clone();
    let Some(store) = me.store.clone() else {
        view.stores = state
            .app
            .stores(rt.brand.slug.as_str())
            .await?
            .into_iter()
            .filter(|s| me.may_see(Channel::Store, Some(&s.id)))
            .map(|s| (s.id, s.name))
            .collect();
        if view.stores.is_empty() {
            view.problem = "This brand has no stores yet.".into();
        }
        return Ok(page(&view));
    };
    view.store_name = store.name;
    view.products = super::cards(&rt);
    if !view.query.is_empty() {
        let slug = rt.brand.slug.as_str();
        for c in state.app.find_customers(slug, &view.query).await? {
            let summaries: Vec<kiln_domain::OrderSummary> = state
                .app
                .orders(
                    slug,
                    kiln_domain::OrderQuery {
                        customer_email: Some(c.email.clone()),
                        limit: 50,
                        ..Default::default()
                    },
                )
                .await?
                .into_iter()
                .filter(|o| me.may_see(o.channel, o.store_id.as_deref()))
                .collect();
            let unverified = summaries.iter().any(|o| !o.customer_verified);
            let orders: Vec<(String, String, String, String, String)> = summaries
                .into_iter()
                .map(|o| {
                    (
                        o.id.to_string(),
                        if o.customer_verified {
                            o.channel.to_string()
                        } else {
                            format!("{} · unverified", o.channel)
                        },
                        o.status.as_str().replace('_', " "),
                        long_date(o.promised_date),
                        money(&o.currency, o.total),
                    )
                })
                .collect();
            let carried = serde_urlencoded::to_string([
                ("_name", c.name.as_str()),
                ("_email", c.email.as_str()),
                ("_phone", c.phone.as_deref().unwrap_or_default()),
            ])
            .unwrap_or_default();
            let start = view
                .products
                .iter()
                .map(|p| (p.name.clone(), format!("/store/p/{}?{carried}", p.id)))
                .collect();
            if orders.is_empty() && me.allowed.is_some() {
                // Known only from another store's orders: not this clerk's to see.
                continue;
            }
            let recent = recent_online(&state, slug, &c.email).await;
            view.customers.push(CustomerView {
                recent,
                start,
                name: c.name,
                email: c.email,
                phone: c.phone.unwrap_or_default(),
                unverified,
                orders,
            });
        }
    }
    Ok(page(&view))
}

async fn sign_in(
    State(state): State<Arc<AppState>>,
    Form(form): Form<KeyForm>,
) -> UiResult<Response> {
    let key = form.key.trim();
    if brand_for_key(&state, key).await?.is_none() {
        let view = Home {
            problem: "That key is not valid.".into(),
            signed_in: false,
            store_name: String::new(),
            stores: Vec::new(),
            query: String::new(),
            customers: Vec::new(),
            products: Vec::new(),
        };
        return Ok((StatusCode::UNAUTHORIZED, page(&view)).into_response());
    }
    let mut response = see_other("/store");
    set_cookie(&mut response, KEY_COOKIE, key, "/store", 12 * 3600);
    Ok(response)
}

#[derive(Deserialize)]
struct Choose {
    store: String,
}

async fn choose(Form(form): Form<Choose>) -> Response {
    let mut response = see_other("/store");
    set_cookie(
        &mut response,
        STORE_COOKIE,
        form.store.trim(),
        "/store",
        12 * 3600,
    );
    response
}

async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    if let Some(token) = cookie(&headers, super::staff::STAFF_COOKIE) {
        state.app.sign_out(&token).await?;
    }
    let mut response = see_other("/store");
    set_cookie(&mut response, KEY_COOKIE, "", "/store", 0);
    set_cookie(&mut response, STORE_COOKIE, "", "/store", 0);
    set_cookie(&mut response, super::staff::STAFF_COOKIE, "", "/", 0);
    Ok(response)
}

#[derive(Template)]
#[template(path = "pos_product.html")]
struct ProductPage {
    store_name: String,
    problem: String,
    name: String,
    email: String,
    phone: String,
    /// What is wrong with each customer field and the quantity, if anything.
    errors: FieldErrors,
    p: PanelView,
}

/// A form error per field of the store order, in words for the clerk; the
/// first one takes the focus.
#[derive(Default)]
struct FieldErrors {
    name: String,
    email: String,
    phone: String,
    quantity: String,
    focus: &'static str,
}

impl FieldErrors {
    /// Sorts the order's field errors to the fields they belong to; what
    /// belongs to none (a choice the product refuses) is returned.
    fn from(errors: &[kiln_app::FieldError]) -> (FieldErrors, Vec<String>) {
        let mut out = FieldErrors::default();
        let mut rest = Vec::new();
        for e in errors {
            let slot = match e.path.as_str() {
                "/customer/name" | "/ship_to/name" => &mut out.name,
                "/customer/email" => &mut out.email,
                "/customer/phone" => &mut out.phone,
                p if p.starts_with("/lines/0/quantity") => &mut out.quantity,
                _ => {
                    rest.push(e.message.clone());
                    continue;
                }
            };
            if slot.is_empty() {
                *slot = super::sentence(&e.message);
            }
        }
        out.focus = [
            ("c-name", &out.name),
            ("c-email", &out.email),
            ("c-phone", &out.phone),
            ("c-qty", &out.quantity),
        ]
        .into_iter()
        .find(|(_, e)| !e.is_empty())
        .map_or("", |(id, _)| id);
        (out, rest)
    }
}

async fn store_panel(
    rt: &BrandRuntime,
    product: &str,
    fields: &[(String, String)],
) -> UiResult<PanelView> {
    let c = rt.product(product)?;
    let fields = fields.to_vec();
    let mut p = panel_view(rt, c, selections_of(&fields), quantity_of(&fields)).await;
    p.store_mode = true;
    Ok(p)
}

async fn product(
    State(state): State<Arc<AppState>>,
    Path(product): Path<String>,
    headers: HeaderMap,
    Query(fields): Query<Vec<(String, String)>>,
) -> UiResult<Response> {
    let (rt, store) = at_store(&state, &headers).await?;
    let p = store_panel(&rt, &product, &fields).await?;
    let get = |n: &str| field(&fields, n).unwrap_or_default().to_string();
    Ok(page(&ProductPage {
        store_name: store.name,
        problem: String::new(),
        name: get("_name"),
        email: get("_email"),
        phone: get("_phone"),
        errors: FieldErrors::default(),
        p,
    }))
}

async fn panel(
    State(state): State<Arc<AppState>>,
    Path(product): Path<String>,
    headers: HeaderMap,
    Query(fields): Query<Vec<(String, String)>>,
) -> UiResult<Response> {
    let (rt, _) = at_store(&state, &headers).await?;
    let p = store_panel(&rt, &product, &fields).await?;
    Ok(page(&PanelFragment { p }))
}

async fn place(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult<Response> {
    let (rt, store) = at_store(&state, &headers).await?;
    let get = |n: &str| field(&fields, n).unwrap_or_default().trim().to_string();
    let product = get("_product");
    // A quantity that cannot be is refused like any other field of the order.
    let placed = match quantity_of(&fields) {
        Ok(quantity) => {
            // Walk-in orders are picked up at the store: it is the address.
            let mut ship_to = store.address.clone();
            ship_to.name = get("_name");
            let request = OrderRequest {
                shipping: Default::default(),
                customer: CustomerInput {
                    name: get("_name"),
                    email: get("_email"),
                    phone: Some(get("_phone")).filter(|p| !p.is_empty()),
                },
                ship_to,
                channel: Channel::Store,
                store_id: Some(store.id.clone()),
                lines: vec![LineInput {
                    product: product.clone(),
                    selections: selections_of(&fields),
                    quantity,
                }],
            };
            state
                .app
                .place_order(
                    rt.brand.slug.as_str(),
                    None,
                    request,
                    // The clerk looked the customer up, or took them as new.
                    kiln_app::orders::Proof::Proven,
                )
                .await
        }
        Err(message) => Err(AppError::invalid_fields(vec![kiln_app::FieldError::new(
            "/lines/0/quantity",
            message,
        )])),
    };
    match placed {
        Ok(order) => Ok(see_other(&format!("/store/orders/{}", order.id))),
        Err(AppError::Invalid { errors, detail }) => {
            let (errors, rest) = FieldErrors::from(&errors);
            let problem = if rest.is_empty() && errors.focus.is_empty() {
                detail
            } else if rest.is_empty() {
                "The order was not placed: correct the fields marked below.".to_string()
            } else {
                format!("The order was not placed: {}", rest.join("; "))
            };
            let p = store_panel(&rt, &product, &fields).await?;
            let view = ProductPage {
                store_name: store.name,
                problem,
                name: get("_name"),
                email: get("_email"),
                phone: get("_phone"),
                errors,
                p,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&view)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pos_order.html")]
struct StoreOrder {
    store_name: String,
    customer_name: String,
    o: super::order_page::OrderPage,
    /// Set while the order waits for its payment: the amount to take.
    to_pay: String,
    paid: bool,
    /// The customer's own order page, to give them.
    customer_link: String,
}

/// The order just placed at the counter: what was ordered, when it can be
/// picked up, payment at the counter, and the next customer.
async fn order(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let (rt, store) = at_store(&state, &headers).await?;
    let o = state
        .app
        .order(rt.brand.slug.as_str(), &OrderId::from(order))
        .await?;
    visible(&state, &headers, o.channel, o.store_id.as_deref()).await?;
    let (to_pay, paid) = match &o.payment {
        Some(p) if p.status == PaymentStatus::AwaitingPayment => {
            (money(&p.currency, p.amount), false)
        }
        Some(p) => (String::new(), p.status == PaymentStatus::Paid),
        None => (String::new(), false),
    };
    let customer_link = format!(
        "/shop/{}/orders/{}?token={}",
        rt.brand.slug, o.id, o.access_token
    );
    Ok(page(&StoreOrder {
        store_name: store.name,
        customer_name: o.customer.name.clone(),
        o: order_view(&rt, &o),
        to_pay,
        paid,
        customer_link,
    }))
}

/// Records that the customer paid at the counter.
async fn paid(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let (rt, _) = at_store(&state, &headers).await?;
    let id = OrderId::from(order);
    let o = state.app.order(rt.brand.slug.as_str(), &id).await?;
    visible(&state, &headers, o.channel, o.store_id.as_deref()).await?;
    state
        .app
        .set_payment(rt.brand.slug.as_str(), &id, PaymentStatus::Paid)
        .await?;
    Ok(see_other(&format!("/store/orders/{id}")))
}
