//! Bulk orders from business buyers (issue 12): a CSV of configured lines
//! becomes a quote, and an accepted quote one order.
//!
//! [`App::quote_bulk`] reads the file ([`rows::read`]: every bad row at
//! once, the good ones configured), plans every good line together on a copy
//! of the live plan to promise each (a quote books nothing), prices them,
//! batches them by SKU and stores the quote.
//! [`App::accept_bulk_quote`] places one order of the quote's lines through
//! the same path as any order ([`App::place`] with [`Placing::Bulk`]), at
//! the quoted prices, and says which lines' promises moved since.

pub mod business;
pub(crate) mod in_flight;
mod place;
mod quote;
pub use quote::MAX_ERRORS;
pub mod rows;

use std::collections::HashMap;

use kiln_configure::{Outcome, Selections};
use kiln_domain::{
    Address, BulkQuote, Channel, Customer, Date, Decimal, Order, OrderId, QuoteId, ShipPolicy,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{Error, FieldError, Result};
use crate::flow::PricedLine;
use crate::orders::{CustomerInput, Proof, Who, check_party};
use crate::runtime::BrandRuntime;
use crate::{App, time};

/// How long a quote holds.
pub const VALID_HOURS: i64 = 72;

/// What a buyer sends to accept a quote: who orders, and where the lines
/// without a recipient of their own go. For a `business_customer`, the
/// customer must be one of its buyers (by email).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    pub customer: CustomerInput,
    pub ship_to: Address,
    /// Ship everything together when made (`complete`, the default), or
    /// each line as it is ready (`as_ready`).
    #[serde(default)]
    pub shipping: ShipPolicy,
    /// The brand's business customer the order is for
    /// (`POST .../business-customers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub business_customer: Option<kiln_domain::BusinessCustomerId>,
}

impl Acceptance {
    /// The checks that need no store: who and where, each at its field.
    pub fn check(&self) -> Vec<FieldError> {
        check_party(&self.customer, &self.ship_to)
    }
}

/// A line whose promise moved between the quote and its acceptance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MovedLine {
    pub row: u64,
    pub line_no: i64,
    #[schema(value_type = String, format = Date)]
    pub quoted: Date,
    #[schema(value_type = String, format = Date)]
    pub promised: Date,
    pub reason: String,
}

/// An accepted quote: its order, and the lines whose promise moved.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub order_id: OrderId,
    pub quote_id: QuoteId,
    #[schema(value_type = String, format = Date)]
    pub promised_date: Date,
    #[schema(value_type = String, format = Date)]
    pub quoted_promised_date: Date,
    /// Empty when every line keeps the quote's promise.
    pub moved: Vec<MovedLine>,
    /// Shipping as quoted (lines without a recipient estimated to the
    /// factory's home country) and as charged to the addresses accepted.
    #[schema(value_type = String)]
    pub quoted_shipping: Decimal,
    #[schema(value_type = String)]
    pub shipping: Decimal,
    pub order: Order,
}

/// An accepted quote as it is placed.
pub(crate) struct BulkPlacing<'q> {
    pub quote: &'q BulkQuote,
    pub customer: Customer,
    pub ship_to: Address,
    pub ship_policy: ShipPolicy,
    /// Whether the acceptance speaks for the buyer (see [`Proof`]).
    pub proof: Proof,
}

impl BulkPlacing<'_> {
    /// The quote's lines configured again on the brand's catalog: the same
    /// version, so the same SKUs and prices, or the acceptance is refused.
    pub(crate) fn priced<'a>(&self, rt: &'a BrandRuntime) -> Result<Vec<PricedLine<'a>>> {
        let q = self.quote;
        if rt.catalog.version != q.catalog_version {
            return Err(Error::Conflict(format!(
                "the catalog changed since this quote (version {}, now {}): upload the file again for a new quote",
                q.catalog_version, rt.catalog.version
            )));
        }
        let mut seen: HashMap<(&str, &Selections), Outcome> = HashMap::new();
        let mut lines = Vec::with_capacity(q.lines.len());
        for l in &q.lines {
            let configurator = rt.product(&l.product)?;
            let outcome = match seen.get(&(l.product.as_str(), &l.selections)) {
                Some(o) => o.clone(),
                None => {
                    let o = configurator
                        .configure_unexplained(&l.selections)
                        .map_err(|e| changed(l.row, &e.to_string()))?;
                    let o = rows::lean(o);
                    seen.insert((l.product.as_str(), &l.selections), o.clone());
                    o
                }
            };
            lines.push(PricedLine {
                configurator,
                outcome,
                quantity: l.quantity,
                recipient: l.recipient.clone(),
            });
        }
        crate::flow::price_volumes(&mut lines);
        for (line, l) in lines.iter().zip(&q.lines) {
            if line.sku() != l.sku || line.unit_price() != l.unit_price {
                return Err(changed(l.row, "its SKU or price is not the quote's"));
            }
        }
        Ok(lines)
    }

    pub(crate) fn who(&self) -> Who {
        Who {
            customer: self.customer.clone(),
            channel: Channel::B2b,
            store_id: None,
            ship_to: self.ship_to.clone(),
            first: format!(
                "accepted bulk quote {} ({} lines, {} units)",
                self.quote.id,
                self.quote.lines.len(),
                self.quote.units
            ),
            proven: self.proof == Proof::Proven,
            ship_policy: self.ship_policy,
        }
    }
}

fn changed(row: u64, why: &str) -> Error {
    Error::Conflict(format!(
        "row {row} of the quote no longer configures as quoted ({why}): upload the file again for a new quote"
    ))
}

impl App {
    /// Quotes an uploaded CSV (see [`rows`]): the good rows priced, batched
    /// by SKU and promised together, every bad row listed. No good row at
    /// all is a 422 whose errors point at `/rows/{line}/{column}`.
    pub async fn quote_bulk(&self, slug: &str, csv: Vec<u8>) -> Result<BulkQuote> {
        let rt = self.brand(slug).await?;
        let work = rt.clone();
        let quote = tokio::task::spawn_blocking(move || {
            quote::quote_on(&work, &csv, time::today(), time::now())
        })
        .await
        .map_err(|e| Error::internal(format!("quoting stopped: {e}")))??;
        self.store.put_bulk_quote(&rt.brand.id, &quote).await?;
        Ok(quote)
    }

    /// A CSV to start from for `product`: its columns and a row of defaults.
    pub async fn bulk_template(&self, slug: &str, product: &str) -> Result<String> {
        let rt = self.brand(slug).await?;
        Ok(rows::template(rt.product(product)?))
    }

    pub async fn bulk_quote(&self, slug: &str, id: &QuoteId) -> Result<BulkQuote> {
        let brand = self.brand_record(slug).await?;
        self.store
            .bulk_quote(&brand.id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no bulk quote `{id}`")))
    }

    /// Accepts a quote: one order of its lines at its prices. The same
    /// `key` again returns the same order; another key, once the quote is
    /// accepted (or while it is), is refused. An acceptance from the
    /// storefront's business page is [`Proof::Unproven`], as a public
    /// checkout is: it never joins or renames a customer the brand knows.
    pub async fn accept_bulk_quote(
        &self,
        slug: &str,
        id: &QuoteId,
        key: String,
        acceptance: Acceptance,
        proof: Proof,
    ) -> Result<Accepted> {
        let errors = acceptance.check();
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        // A retry sent while the first is being accepted waits for it, from
        // the quote's claim to its order or its release, then finds its
        // order by the key (`in_flight`).
        let _held = self
            .bulk_in_flight
            .hold(format!("{slug}\n{id}\n{key}"))
            .await;
        let rt = self.brand(slug).await?;
        // For a business customer, one of its buyers orders.
        if let Some(b) = &acceptance.business_customer {
            let record = self
                .store
                .business_customer(&rt.brand.id, b)
                .await?
                .ok_or_else(|| {
                    Error::invalid("/business_customer", format!("no business customer `{b}`"))
                })?;
            business::check_buyer(&record, &acceptance.customer.email)?;
        }
        let quote = self.bulk_quote(slug, id).await?;
        if !self.store.claim_bulk_quote(&rt.brand.id, id, &key).await? {
            let order = quote
                .order_id
                .as_ref()
                .map(|o| format!(" as order {o}"))
                .unwrap_or_default();
            return Err(Error::Conflict(format!(
                "this quote was accepted{order} with another Idempotency-Key; a quote makes one order"
            )));
        }
        if quote.order_id.is_none() && quote.valid_until < time::now() {
            self.store
                .release_bulk_quote(&rt.brand.id, id, &key)
                .await?;
            return Err(Error::Conflict(format!(
                "this quote expired at {}: upload the file again for a new quote",
                quote.valid_until
            )));
        }
        let request_hash = hex::encode(Sha256::digest(
            serde_json::to_vec(&(&quote.id, &acceptance)).unwrap_or_default(),
        ));
        let placing = BulkPlacing {
            quote: &quote,
            customer: acceptance.customer.customer(),
            ship_to: acceptance.ship_to,
            ship_policy: acceptance.shipping,
            proof,
        };
        let placed = self
            .place_bulk(slug, format!("bulk:{id}:{key}"), request_hash, &placing)
            .await;
        let order = match placed {
            Ok(order) => order,
            Err(e) => {
                if quote.order_id.is_none() {
                    self.store
                        .release_bulk_quote(&rt.brand.id, id, &key)
                        .await?;
                }
                return Err(e);
            }
        };
        self.store
            .set_bulk_quote_order(&rt.brand.id, id, &order.id)
            .await?;
        // A line without its own recipient was quoted to the factory's home
        // country: going elsewhere, the carrier is why its date moved.
        let home = crate::logistics::Destination::home(&rt.catalog.factory);
        let elsewhere = crate::logistics::by_carrier(&rt.catalog.factory)
            && home.is_some_and(|h| !h.country.eq_ignore_ascii_case(order.ship_to.country.trim()));
        let moved = quote
            .lines
            .iter()
            .zip(&order.lines)
            .filter_map(|(q, l)| {
                let promised = l.promised_date?;
                (promised != q.promised_date).then(|| MovedLine {
                    row: q.row,
                    line_no: l.line_no,
                    quoted: q.promised_date,
                    promised,
                    reason: if elsewhere && q.recipient.is_none() {
                        format!(
                            "delivered to {}: the quote was estimated for the factory's own country",
                            order.ship_to.country
                        )
                    } else if promised > q.promised_date {
                        "the factory's schedule filled up since the quote".into()
                    } else {
                        "capacity freed up since the quote".into()
                    },
                })
            })
            .collect();
        Ok(Accepted {
            order_id: order.id.clone(),
            quote_id: quote.id.clone(),
            promised_date: order.promised_date,
            quoted_promised_date: quote.promised_date,
            moved,
            quoted_shipping: quote.shipping,
            shipping: order.shipping,
            order,
        })
    }
}
