//! After-sales from the passport: a return or warranty claim opens from a
//! unit's serial (inside or outside its warranty, from the passport), and
//! its decision makes a repair work order (the product's declared repair
//! routing), a remake (the same SKU through its production routing), a
//! refund, or a rejection with its reason. Each step goes on the order's
//! timeline and out as a `claim.opened` or `claim.decided` event.
//!
//! `after_sales` places a repair or remake as an order; `report` counts
//! claims by product, option value, material, work centre and machine.

pub(crate) mod after_sales;
pub mod report;

use jiff::Timestamp;
use kiln_domain::{
    Claim, ClaimId, ClaimKind, ClaimStatus, OrderStatus, TimelineEntry, TimelineEntryId,
    TimelineStatus, Unit,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{Error, FieldError, Found, Result};
use crate::orders::Placing;
use crate::runtime::BrandRuntime;
use crate::{App, time};
use after_sales::{AfterSalesJob, Job};

/// A claim as a customer, clerk or partner opens it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// `warranty` (repair what is wrong) or `return`.
    pub kind: ClaimKind,
    /// What is wrong, in the customer's words (1 to 1,000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    /// The parts concerned, e.g. `["handle"]` (at most 10, each up to 80 characters).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub parts: Vec<String>,
}

/// A claim in a unit's history.
#[derive(Debug, Clone)]
pub struct UnitClaim {
    pub claim: Claim,
    /// The status of the after-sales order carrying its repair or remake.
    pub after_sales: Option<OrderStatus>,
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
        let brand = self.brand_record(slug).await?;
        self.store
            .claim(&brand.id, id)
            .await
            .found(|| format!("no claim `{id}`"))
    }

    /// A unit's history after it was made: each claim, and where the
    /// repair or remake it decided stands.
    pub async fn unit_history(&self, slug: &str, serial: &str) -> Result<Vec<UnitClaim>> {
        let brand = self.brand_record(slug).await?;
        let mut out = Vec::new();
        for claim in self.store.claims_of_unit(&brand.id, serial).await? {
            let after_sales = match &claim.after_sales_order_id {
                Some(id) => self.store.order(&brand.id, id).await?.map(|o| o.status),
                None => None,
            };
            out.push(UnitClaim { claim, after_sales });
        }
        Ok(out)
    }

    /// Claims on one unit, oldest first.
    pub async fn claims_of_unit(&self, slug: &str, serial: &str) -> Result<Vec<Claim>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.claims_of_unit(&brand.id, serial).await?)
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

/// The configuration the unit's passport records.
pub(crate) fn configuration_of(unit: &Unit) -> kiln_configure::Selections {
    serde_json::from_value(crate::passport::payload_of(unit)["configuration"].clone())
        .unwrap_or_default()
}
