//! After-sales from the passport: a return or warranty claim opens from a
//! unit's serial (inside or outside its warranty, from the passport), and
//! its decision makes a repair work order (the product's declared repair
//! routing), a remake (the same SKU through its production routing), a
//! refund, or a rejection with its reason. Each step goes on the order's
//! timeline and out as a `claim.opened` or `claim.decided` event.

use jiff::Timestamp;
use kiln_domain::{
    Channel, Claim, ClaimId, ClaimKind, ClaimStatus, Customer, CustomerId, Order, TimelineEntry,
    TimelineEntryId, TimelineStatus, Unit,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{Error, FieldError, Found, Result};
use crate::flow::PricedLine;
use crate::orders::{Placing, Who};
use crate::runtime::BrandRuntime;
use crate::{App, time};

/// A claim as a customer, clerk or partner opens it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// `warranty` (repair what is wrong) or `return`.
    pub kind: ClaimKind,
    /// What is wrong, in the customer's words (1 to 1,000 characters).
    pub reason: String,
    /// The parts concerned, e.g. `["handle"]` (at most 10, each up to 80 characters).
    #[serde(default)]
    pub parts: Vec<String>,
}

/// What is done about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// A repair work order through the product's repair routing.
    Repair,
    /// A new unit: a work order for the same SKU through its routing.
    Remake,
    Refund,
    /// Refused; the note says why.
    Reject,
}

impl App {
    /// Opens a claim on the unit `serial`.
    pub async fn open_claim(&self, slug: &str, serial: &str, req: ClaimRequest) -> Result<Claim> {
        let rt = self.brand(slug).await?;
        let unit = self.unit_of(&rt, serial).await?;
        let mut errors = Vec::new();
        let reason = req.reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > 1_000 {
            errors.push(FieldError::new(
                "/reason",
                "say what is wrong, in 1 to 1,000 characters",
            ));
        } else if let Err(bad) = kiln_model::text::check_text(&reason, None) {
            errors.push(FieldError::new("/reason", format!("cannot hold {bad}")));
        }
        if req.parts.len() > 10 {
            errors.push(FieldError::new("/parts", "at most 10 parts"));
        }
        for (i, part) in req.parts.iter().enumerate() {
            let n = part.trim().chars().count();
            if n == 0 || n > 80 || kiln_model::text::check_text(part, None).is_err() {
                errors.push(FieldError::new(
                    format!("/parts/{i}"),
                    "a part is 1 to 80 visible characters",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        let now = time::now();
        let claim = Claim {
            id: ClaimId::new(),
            serial: unit.serial.clone(),
            order_id: unit.order_id.clone(),
            kind: req.kind,
            reason,
            parts: req.parts.iter().map(|p| p.trim().to_string()).collect(),
            in_warranty: in_warranty(&unit, now),
            status: ClaimStatus::Open,
            note: String::new(),
            work_order_id: None,
            after_sales_order_id: None,
            promised_date: None,
            created_at: now,
            decided_at: None,
        };
        let what = match claim.kind {
            ClaimKind::Warranty => "Warranty claim",
            ClaimKind::Return => "Return",
        };
        let entry = entry(
            now,
            format!(
                "{what} {} opened for unit {}{}",
                claim.id,
                claim.serial,
                if claim.in_warranty {
                    ", under warranty"
                } else {
                    ", out of warranty"
                }
            ),
        );
        self.store.add_claim(&rt.brand.id, &claim, &entry).await?;
        self.outbox.notify_one();
        Ok(claim)
    }

    pub async fn claim(&self, slug: &str, id: &ClaimId) -> Result<Claim> {
        let rt = self.brand(slug).await?;
        self.store
            .claim(&rt.brand.id, id)
            .await
            .found(|| format!("no claim `{id}`"))
    }

    /// Claims on one unit, oldest first.
    pub async fn claims_of_unit(&self, slug: &str, serial: &str) -> Result<Vec<Claim>> {
        let rt = self.brand(slug).await?;
        Ok(self.store.claims_of_unit(&rt.brand.id, serial).await?)
    }

    /// Decides an open claim. A repair or remake is placed as an
    /// after-sales order (free of charge, the original customer and
    /// address) planned on the live schedule: its work order joins the
    /// factory's queues and the claim carries the date it promises.
    pub async fn decide_claim(
        &self,
        slug: &str,
        id: &ClaimId,
        decision: Decision,
        note: &str,
    ) -> Result<Claim> {
        let rt = self.brand(slug).await?;
        let mut claim = self
            .store
            .claim(&rt.brand.id, id)
            .await
            .found(|| format!("no claim `{id}`"))?;
        if claim.status != ClaimStatus::Open {
            return Err(Error::Conflict(format!(
                "claim {id} was decided already ({})",
                claim.status
            )));
        }
        let note = note.trim();
        if note.chars().count() > 1_000 {
            return Err(Error::invalid("/note", "at most 1,000 characters"));
        }
        if decision == Decision::Reject && note.is_empty() {
            return Err(Error::invalid("/note", "say why the claim is rejected"));
        }
        let unit = self.unit_of(&rt, &claim.serial).await?;
        if let Some(kind) = match decision {
            Decision::Repair => Some(Job::Repair),
            Decision::Remake => Some(Job::Remake),
            Decision::Refund | Decision::Reject => None,
        } {
            let original = self
                .store
                .order(&rt.brand.id, &unit.order_id)
                .await
                .found(|| format!("no order `{}`", unit.order_id))?;
            let job = AfterSalesJob {
                claim: claim.id.clone(),
                kind,
                unit,
                original,
            };
            // Keyed by the claim: a retry after a failure below finds the
            // order placed, never places a second one.
            let request_hash = hex::encode(Sha256::digest(format!("{id}:{kind:?}")));
            let order = self
                .place(
                    slug,
                    Some(format!("claim:{id}")),
                    request_hash,
                    Placing::AfterSales(&job),
                )
                .await?;
            claim.work_order_id = order.lines.first().map(|l| l.work_order_id.clone());
            claim.after_sales_order_id = Some(order.id.clone());
            claim.promised_date = Some(order.promised_date);
        }
        let now = time::now();
        claim.status = match decision {
            Decision::Repair => ClaimStatus::Repair,
            Decision::Remake => ClaimStatus::Remake,
            Decision::Refund => ClaimStatus::Refund,
            Decision::Reject => ClaimStatus::Rejected,
        };
        claim.note = note.to_string();
        claim.decided_at = Some(now);
        let said = match (&claim.after_sales_order_id, claim.promised_date) {
            (Some(order), Some(promised)) => format!(
                "Claim {id} decided: {} (order {order}, work order {}), promised for {promised}",
                claim.status,
                claim.work_order_id.as_ref().map_or("–", |w| w.as_str())
            ),
            _ => format!("Claim {id} decided: {}", claim.status),
        };
        self.store
            .decide_claim(&rt.brand.id, &claim, &entry(now, said))
            .await?;
        self.outbox.notify_one();
        Ok(claim)
    }

    async fn unit_of(&self, rt: &BrandRuntime, serial: &str) -> Result<Unit> {
        self.store
            .unit(&rt.brand.id, serial)
            .await
            .found(|| format!("no unit with serial `{serial}`"))
    }
}

fn entry(at: Timestamp, note: String) -> TimelineEntry {
    TimelineEntry {
        id: TimelineEntryId::new(),
        status: TimelineStatus::AfterSales,
        note,
        at,
    }
}

/// Whether the passport's warranty still runs on `now`'s day.
fn in_warranty(unit: &Unit, now: Timestamp) -> bool {
    crate::passport::payload_of(unit)["warranty_until"]
        .as_str()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .is_some_and(|until| time::day_of(now) <= until)
}

/// What a decided claim sends back through the factory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    /// The unit through the product's `[[repair_operation]]` routing.
    Repair,
    /// A new unit: the same SKU through its production routing.
    Remake,
}

/// A repair or remake, placed as an after-sales order: one unit, free of
/// charge, for the original order's customer and address, planned on the
/// live schedule like any other order so its date is a real promise.
pub(crate) struct AfterSalesJob {
    pub claim: ClaimId,
    pub kind: Job,
    pub unit: Unit,
    pub original: Order,
}

impl AfterSalesJob {
    /// The one line to plan: the unit's configuration, configured again
    /// against the current catalog (its SKU must not have changed), with the
    /// repair routing and no material for a repair.
    pub(crate) fn priced<'a>(&self, rt: &'a BrandRuntime) -> Result<Vec<PricedLine<'a>>> {
        let c = rt.product(&self.unit.product_id)?;
        let configuration = configuration_of(&self.unit);
        let mut outcome = c
            .configure_unexplained(&configuration)
            .ok()
            .filter(|o| o.valid && o.complete)
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "unit {}'s configuration no longer holds in the current catalog; refund or reject",
                    self.unit.serial
                ))
            })?;
        if outcome.sku.as_deref() != Some(self.unit.sku.as_str()) {
            return Err(Error::Conflict(format!(
                "the current catalog makes unit {}'s configuration another SKU ({}); refund or reject",
                self.unit.serial,
                outcome.sku.as_deref().unwrap_or("none")
            )));
        }
        if self.kind == Job::Repair {
            let routing = c.repair_routing(&configuration);
            if routing.is_empty() {
                return Err(Error::Conflict(format!(
                    "{} declares no repair routing ([[repair_operation]]); remake, refund or reject",
                    c.product().name
                )));
            }
            outcome.routing = routing;
            outcome.bom.clear();
            outcome.sku = Some(format!("REPAIR-{}", self.unit.sku));
        }
        // Free of charge.
        outcome.price = None;
        Ok(vec![PricedLine {
            configurator: c,
            outcome,
            quantity: 1,
        }])
    }

    /// The original order's customer, address and store.
    pub(crate) fn who(&self) -> Who {
        let o = &self.original;
        let what = match self.kind {
            Job::Repair => "repair",
            Job::Remake => "remake",
        };
        Who {
            customer: Customer {
                id: CustomerId::new(),
                ..o.customer.clone()
            },
            channel: Channel::AfterSales,
            store_id: o.store_id.clone(),
            ship_to: o.ship_to.clone(),
            first: format!(
                "{what} of unit {} (order {}) under claim {}",
                self.unit.serial, o.id, self.claim
            ),
        }
    }
}

/// The configuration the unit's passport records.
fn configuration_of(unit: &Unit) -> kiln_configure::Selections {
    serde_json::from_value(crate::passport::payload_of(unit)["configuration"].clone())
        .unwrap_or_default()
}
