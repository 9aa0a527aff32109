//! Orders: placing one (idempotently), reading one, listing them.
//!
//! [`App::place_order`] is the spine of the platform. It checks the request,
//! configures every line against the brand's current catalog version, plans
//! the order on the brand's live schedule under the plan lock, queues it to
//! the group-commit writer, and answers only after the commit. If the write
//! fails, the plan is put back as it was before the order.

use kiln_configure::Selections;
use kiln_domain::{
    Address, Channel, Customer, CustomerId, NewOrder, Order, OrderId, OrderQuery, OrderStatus,
    OrderSummary, PaymentStatus,
};
use kiln_store::Placed;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{Error, FieldError, Found, NamedNotFound, Result};
pub use crate::flow::MAX_QUANTITY;
use crate::flow::{self, MAX_LINES, PricedLine};
use crate::logistics::ShipTo;
use crate::runtime::BrandRuntime;
use crate::writer::WriteError;
use crate::{App, time};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: Option<String>,
}

impl CustomerInput {
    /// The customer as stored, if the brand does not know the email yet:
    /// the email normalised, the name trimmed.
    pub fn customer(&self) -> Customer {
        Customer {
            id: CustomerId::new(),
            email: self.email.trim().to_lowercase(),
            name: self.name.trim().to_string(),
            phone: self.phone.clone(),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub product: String,
    #[serde(default)]
    pub selections: Selections,
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: u32,
}

/// An order as a client sends it.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub customer: CustomerInput,
    pub ship_to: Address,
    pub channel: Channel,
    /// Required for channel `store`: the store that took the order.
    #[serde(default)]
    pub store_id: Option<String>,
    #[schema(min_items = 1, max_items = 1000)]
    pub lines: Vec<LineInput>,
    /// Ship everything together once made (`complete`, the default), or
    /// each line as it is made (`as_ready`).
    #[serde(default, skip_serializing_if = "kiln_domain::ShipPolicy::is_complete")]
    pub shipping: kiln_domain::ShipPolicy,
}

/// Whether whoever places an order has shown it is the customer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Someone who speaks for the brand (a key with `orders:write`), or a
    /// clerk who looked the customer up in store mode.
    Proven,
    /// Anyone on the internet: the storefront's public checkout, or a
    /// publishable key. Such an order never joins or renames a customer the
    /// brand already knows (see [`kiln_domain::NewOrder::proven`]).
    Unproven,
}

/// What an order is placed from.
pub(crate) enum Placing<'r> {
    /// A client's request: the API, the storefront's checkout, store mode.
    Request(&'r OrderRequest, Proof),
    /// The repair or remake a claim decided: one unit, free of charge.
    AfterSales(&'r crate::claims::after_sales::AfterSalesJob),
}

/// Who an order is for and how it came: the head of a new order.
pub(crate) struct Who {
    pub customer: Customer,
    pub channel: Channel,
    pub store_id: Option<String>,
    pub ship_to: Address,
    /// The first entry of its timeline.
    pub first: String,
    /// See [`Proof`].
    pub proven: bool,
    pub ship_policy: kiln_domain::ShipPolicy,
}

/// An `Idempotency-Key` as sent: 1 to 255 visible characters.
pub fn idempotency_key(value: Option<&str>) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let key = value.trim();
    if key.is_empty() || key.len() > 255 || key.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            "Idempotency-Key",
            "the Idempotency-Key must be 1 to 255 visible characters",
        ));
    }
    Ok(Some(key.to_string()))
}

/// The customer and the address of an order (or an accepted quote): every
/// problem at once.
pub fn check_party(customer: &CustomerInput, ship_to: &Address) -> Vec<FieldError> {
    let mut errors = check_person("/customer", customer);
    errors.extend(check_address("/ship_to", ship_to));
    errors
}

/// A person's fields, at `at` (`/customer`, `/buyers/0`): a name, an email
/// address, lengths a label holds, and nothing invisible (control
/// characters, bidirectional overrides) that would change how a page, a
/// label or a passport shows them.
pub fn check_person(at: &str, person: &CustomerInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if person.name.trim().is_empty() {
        errors.push(FieldError::new(format!("{at}/name"), "a name is required"));
    }
    let texts = [
        ("name", Some(person.name.as_str()), 200),
        ("email", Some(person.email.as_str()), 254),
        ("phone", person.phone.as_deref(), 40),
    ];
    check_texts(at, &texts, &mut errors);
    let email = person.email.trim();
    let valid_email = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if !valid_email {
        errors.push(FieldError::new(
            format!("{at}/email"),
            "an email address like ada@example.com is required",
        ));
    }
    errors
}

/// An address's fields, at `at` (`/ship_to`, `/billing_address`).
pub fn check_address(at: &str, address: &Address) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, value, what) in [
        ("name", &address.name, "a recipient name"),
        ("line1", &address.line1, "an address line"),
        ("city", &address.city, "a city"),
        ("postal_code", &address.postal_code, "a postal code"),
    ] {
        if value.trim().is_empty() {
            errors.push(FieldError::new(
                format!("{at}/{field}"),
                format!("{what} is required"),
            ));
        }
    }
    let texts = [
        ("name", Some(address.name.as_str()), 200),
        ("line1", Some(address.line1.as_str()), 200),
        ("line2", address.line2.as_deref(), 200),
        ("city", Some(address.city.as_str()), 100),
        ("postal_code", Some(address.postal_code.as_str()), 20),
        ("region", address.region.as_deref(), 100),
    ];
    check_texts(at, &texts, &mut errors);
    let country = &address.country;
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
        errors.push(FieldError::new(
            format!("{at}/country"),
            "a two-letter ISO country code like GB is required",
        ));
    }
    errors
}

fn check_texts(at: &str, texts: &[(&str, Option<&str>, usize)], errors: &mut Vec<FieldError>) {
    for (field, value, max) in texts {
        let Some(value) = value else { continue };
        let path = format!("{at}/{field}");
        if value.chars().count() > *max {
            errors.push(FieldError::new(path, format!("at most {max} characters")));
        } else if let Err(bad) = kiln_model::text::check_text(value, None) {
            errors.push(FieldError::new(path, format!("cannot hold {bad}")));
        }
    }
}

/// Field checks the types cannot express; every problem is reported at once.
pub fn check_request(req: &OrderRequest) -> Vec<FieldError> {
    let mut errors = check_party(&req.customer, &req.ship_to);
    if req.channel == Channel::AfterSales {
        errors.push(FieldError::new(
            "/channel",
            "after-sales orders are made by deciding a claim (POST /claims/{id}/decision), not placed",
        ));
    }
    if let (Channel::Store, None | Some("")) = (req.channel, req.store_id.as_deref().map(str::trim))
    {
        errors.push(FieldError::new(
            "/store_id",
            "a store order needs the store's id",
        ))
    }
    if req.lines.is_empty() {
        errors.push(FieldError::new(
            "/lines",
            "an order needs at least one line",
        ));
    }
    if req.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "/lines",
            format!("an order has at most {MAX_LINES} lines"),
        ));
    }
    for (i, line) in req.lines.iter().enumerate() {
        if line.quantity == 0 || line.quantity > MAX_QUANTITY {
            errors.push(FieldError::new(
                format!("/lines/{i}/quantity"),
                format!("the quantity must be between 1 and {MAX_QUANTITY}"),
            ));
        }
    }
    errors
}

/// Why a configuration cannot be ordered, if it cannot, and the option
/// at fault: a broken rule (with the rules' own messages), or a required
/// option without a value. One wording for an order's lines and a bulk
/// upload's rows.
pub(crate) fn line_problem(outcome: &kiln_configure::Outcome) -> Option<(Option<String>, String)> {
    if !outcome.valid {
        let conflict = outcome.conflict.as_ref();
        let rules: Vec<&str> = conflict
            .map(|c| c.rules.iter().map(|r| r.message.as_str()).collect())
            .unwrap_or_default();
        let option = conflict
            .and_then(|c| c.selections.first())
            .map(|(o, _)| o.clone());
        return Some((
            option,
            format!("these selections break the rules: {}", rules.join("; ")),
        ));
    }
    if !outcome.complete {
        let missing = outcome
            .options
            .iter()
            .find(|o| o.value.is_none() && !o.optional)
            .map(|o| o.id.clone())
            .unwrap_or_default();
        return Some((Some(missing.clone()), format!("`{missing}` needs a value")));
    }
    None
}

/// RFC 6901 escaping of a JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Configures every line; every line at fault is reported at once.
fn price_lines<'a>(
    rt: &'a crate::BrandRuntime,
    req: &OrderRequest,
    mut errors: Vec<FieldError>,
) -> Result<Vec<PricedLine<'a>>> {
    let mut lines = Vec::new();
    for (i, line) in req.lines.iter().enumerate() {
        let Some(configurator) = rt.catalog.product(&line.product) else {
            errors.push(FieldError::new(
                format!("/lines/{i}/product"),
                format!("no product `{}` in this brand", line.product),
            ));
            continue;
        };
        match configurator.configure_unexplained(&line.selections) {
            Err(e) => errors.push(FieldError::new(
                format!("/lines/{i}/selections/{}", escape(e.option())),
                e.to_string(),
            )),
            Ok(outcome) if let Some((option, message)) = line_problem(&outcome) => {
                let at = option
                    .map(|o| format!("/{}", escape(&o)))
                    .unwrap_or_default();
                errors.push(FieldError::new(
                    format!("/lines/{i}/selections{at}"),
                    message,
                ));
            }
            Ok(outcome) => lines.push(PricedLine {
                configurator,
                outcome,
                quantity: line.quantity,
                recipient: None,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(Error::invalid_fields(errors));
    }
    let currency = &lines[0].configurator.product().currency;
    if let Some(i) = lines
        .iter()
        .position(|l| &l.configurator.product().currency != currency)
    {
        return Err(Error::invalid(
            format!("/lines/{i}/product"),
            "all lines of an order must be in one currency",
        ));
    }
    crate::flow::price_volumes(&mut lines);
    Ok(lines)
}

impl App {
    /// Places an order: checks, configures, plans and writes it; or returns
    /// the order this idempotency key placed before (a different body under
    /// the same key is refused). The API, the storefront's checkout and store
    /// mode all come through here.
    pub async fn place_order(
        &self,
        slug: &str,
        key: Option<String>,
        req: OrderRequest,
        proof: Proof,
    ) -> Result<Order> {
        // The hash is over the parsed request, so whitespace or key order in a
        // retried body does not matter.
        let request_hash =
            hex::encode(Sha256::digest(serde_json::to_vec(&req).unwrap_or_default()));
        self.place(slug, key, request_hash, Placing::Request(&req, proof))
            .await
    }

    /// Places what `placing` describes: a client's request, or the repair or
    /// remake a claim decided (see `claims.rs`); both plan and write the
    /// same way.
    pub(crate) async fn place(
        &self,
        slug: &str,
        key: Option<String>,
        request_hash: String,
        placing: Placing<'_>,
    ) -> Result<Order> {
        // A publish may retire the runtime this request found: plan again on
        // the new one (the order is configured against the version it plans on).
        // A retry of an order already placed is answered from the store, by
        // any server, without the brand's plan (one server checks below).
        // One look-up per order: on the first pass it is made here when
        // servers share the database, else in the loop once the brand is in
        // hand; a retired runtime's retry looks again.
        let mut looked_up = false;
        if self.shares_database()
            && let Some(key) = &key
        {
            let brand = self.brand_id_here_or_stored(slug).await?;
            if let Some(existing) = self.store.order_by_idempotency_key(&brand, key).await? {
                return replay(existing, &request_hash);
            }
            looked_up = true;
        }
        for _ in 0..3 {
            let rt = self.brand(slug).await?;
            if let Some(key) = &key
                && !std::mem::take(&mut looked_up)
                && let Some(existing) = self
                    .store
                    .order_by_idempotency_key(&rt.brand.id, key)
                    .await?
            {
                return replay(existing, &request_hash);
            }
            let (lines, who) = match &placing {
                Placing::Request(req, proof) => (
                    price_lines(&rt, req, check_request(req))?,
                    Who {
                        customer: req.customer.customer(),
                        channel: req.channel,
                        store_id: req.store_id.clone(),
                        ship_to: req.ship_to.clone(),
                        first: format!("received through {}", req.channel),
                        proven: *proof == Proof::Proven,
                        ship_policy: req.shipping,
                    },
                ),
                Placing::AfterSales(job) => (job.priced(&rt)?, job.who()),
            };
            let currency = lines[0].configurator.product().currency.clone();
            let order_id = OrderId::new();
            let created_at = time::now();
            let waited = std::time::Instant::now();
            let mut plan = rt.plan.lock().await;
            let held = std::time::Instant::now();
            metrics::histogram!("kiln_plan_lock_wait_seconds")
                .record((held - waited).as_secs_f64());
            if plan.retired {
                continue;
            }
            // A store order goes to the store, an after-sales remake to the
            // customer: promised by carrier, charged nothing (`new_order`).
            let ship_to = ShipTo::Address(&who.ship_to);
            let (plotted, change) =
                flow::plan_order(&rt, &mut plan, &order_id, &lines, ship_to, time::today())?;
            let order = new_order(
                &rt,
                who,
                order_id,
                (key.clone(), request_hash.clone()),
                currency,
                created_at,
                plotted,
            );
            // Queued under the plan lock so the writer sees orders in plan
            // order; the lock is released before the commit so the next order
            // can plan.
            let written = self.orders.enqueue(order.clone());
            drop(plan);
            metrics::histogram!("kiln_plan_lock_held_seconds").record(held.elapsed().as_secs_f64());
            return self
                .committed(&rt, written, order, change, key.as_deref(), &request_hash)
                .await;
        }
        Err(Error::Unavailable {
            what: "the brand's plan (its catalog was being published)",
            source: None,
        })
    }

    /// Waits for `order`'s commit. If it is not written, takes it back
    /// out of the plan (`change`) and answers why, or with the order a
    /// concurrent request with the same key placed.
    pub(crate) async fn committed(
        &self,
        rt: &BrandRuntime,
        written: Written,
        order: NewOrder,
        change: flow::PlanChange,
        key: Option<&str>,
        request_hash: &str,
    ) -> Result<Order> {
        let placed = written.await.unwrap_or(Err(WriteError::Stopped));
        if let Ok(Placed::Created { customer_id }) = placed {
            metrics::counter!("kiln_orders_placed_total").increment(1);
            let order = order.placed(customer_id);
            self.observe_order(&rt.brand, &order);
            return Ok(order);
        }
        // Not written: take the order back out of the plan.
        let plan = rt.plan.lock().await;
        self.take_back(rt, plan, change).await;
        // A concurrent request with the same key won the race.
        if let Some(key) = key
            && let Some(existing) = self
                .store
                .order_by_idempotency_key(&rt.brand.id, key)
                .await?
        {
            return replay(existing, request_hash);
        }
        Err(match placed {
            Err(e) => match Error::from(e) {
                Error::Conflict(m) => Error::Conflict(format!(
                    "the order could not be stored ({m}); it was not placed, and it is safe to retry"
                )),
                other => other,
            },
            Ok(_) => Error::Conflict(
                "an order with this Idempotency-Key is being placed; retry to get it".into(),
            ),
        })
    }

    /// Takes an order that will not be written back out of `plan`, and
    /// brings the stored rows of the operations around it up to date.
    pub(crate) async fn take_back(
        &self,
        rt: &BrandRuntime,
        mut plan: tokio::sync::MutexGuard<'_, crate::runtime::PlanState>,
        change: flow::PlanChange,
    ) {
        let moved = change.undo(&mut plan);
        let rebooked = queue_rebook(
            &self.orders,
            rt,
            moved,
            "setups after an order taken back out",
        );
        drop(plan);
        rebooked.await;
    }

    /// One order, with its lines, timeline, material requirements and shipments.
    pub async fn order(&self, slug: &str, id: &OrderId) -> Result<Order> {
        let brand = self.brand_record(slug).await?;
        self.store
            .order(&brand.id, id)
            .await
            .found(|| format!("no order `{id}`"))
    }

    /// One page of the brand's orders, newest first, as `query` filters them.
    pub async fn orders(&self, slug: &str, mut query: OrderQuery) -> Result<Vec<OrderSummary>> {
        let brand = self.brand_record(slug).await?;
        query.customer_email = query.customer_email.map(|e| e.trim().to_lowercase());
        query.limit = query.limit.clamp(1, 500);
        Ok(self.store.orders(&brand.id, &query).await?)
    }

    /// Records an order's payment as its provider (or staff, for the manual
    /// provider) reports it.
    pub async fn set_payment(
        &self,
        slug: &str,
        order: &OrderId,
        status: PaymentStatus,
    ) -> Result<()> {
        let brand = self.brand_record(slug).await?;
        self.store
            .set_payment_status(&brand.id, order, status, time::now())
            .await
            .or_not_found(|| format!("no order `{order}`"))
    }
}

/// Queues the stored rows of booked operations to follow what `moved`
/// says they now are (setups changed around an order taken back out of
/// the plan, an operation started before its slot or completed before it
/// began). Call it holding the
/// plan lock: the rows are written after the orders planned before and
/// before those planned after, which may move them again. The future it
/// returns waits for the write (and logs a failure naming `what`); await
/// it once the lock is let go.
pub(crate) fn queue_rebook(
    writer: &crate::writer::OrderWriter,
    rt: &BrandRuntime,
    moved: Vec<kiln_domain::BookingRow>,
    what: &'static str,
) -> impl std::future::Future<Output = ()> + use<> {
    let written = (!moved.is_empty()).then(|| writer.rebook(rt.brand.id.clone(), moved));
    let slug = rt.brand.slug.clone();
    async move {
        let Some(written) = written else {
            return;
        };
        if let Err(e) = written.await {
            tracing::warn!(
                error = %Error::from(e).chain(),
                "{slug}: {what} not stored"
            );
        }
    }
}

/// What a commit of the order writer answers.
pub(crate) type Written = tokio::sync::oneshot::Receiver<std::result::Result<Placed, WriteError>>;

/// The order to write: who it is for, what the plan gave, its first
/// timeline entries.
pub(crate) fn new_order(
    rt: &BrandRuntime,
    who: Who,
    order_id: OrderId,
    (idempotency_key, request_hash): (Option<String>, String),
    currency: String,
    created_at: kiln_domain::Timestamp,
    plotted: flow::Plotted,
) -> NewOrder {
    let timeline = flow::first_entries(who.first, plotted.promised, created_at);
    let head = NewOrder {
        brand_id: rt.brand.id.clone(),
        id: order_id,
        idempotency_key,
        request_hash,
        access_token: uuid::Uuid::new_v4().simple().to_string(),
        customer: who.customer,
        proven: who.proven,
        ship_policy: who.ship_policy,
        channel: who.channel,
        store_id: who.store_id,
        ship_to: who.ship_to,
        status: OrderStatus::Planned,
        currency,
        total: Default::default(),
        shipping: Default::default(),
        tax: Default::default(),
        promised_date: plotted.promised,
        created_at,
        lines: Vec::new(),
        staged: None,
        work_orders: Vec::new(),
        bookings: Vec::new(),
        rebooked: Vec::new(),
        requirements: Vec::new(),
        suggestions: Vec::new(),
        timeline: Vec::new(),
        payment: crate::payment::placeholder(),
    };
    flow::new_order(head, plotted, timeline, &rt.catalog.factory.sales)
}

pub(crate) fn replay(existing: Order, request_hash: &str) -> Result<Order> {
    if existing.request_hash != request_hash {
        return Err(Error::invalid(
            "Idempotency-Key",
            "this Idempotency-Key was used for a different order; use a new key for a new order",
        ));
    }
    Ok(existing)
}
