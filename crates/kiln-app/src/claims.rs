//! After-sales from the passport: a return or warranty claim opens from a
//! unit's serial (inside or outside its warranty, from the passport), and
//! its decision makes a repair work order (the product's declared repair
//! routing), a remake (the same SKU through its production routing), a
//! refund, or a rejection with its reason. Each step goes on the order's
//! timeline and out as a `claim.opened` or `claim.decided` event.

use jiff::Timestamp;
use kiln_configure::RoutingStep;
use kiln_domain::{
    Claim, ClaimId, ClaimKind, ClaimStatus, OperationStatus, TimelineEntry, TimelineEntryId,
    TimelineStatus, Unit, WorkOrder, WorkOrderId, WorkOrderOperation, WorkOrderStatus,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{Error, FieldError, Found, Result};
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

    /// Decides an open claim. A repair or remake makes its work order, which
    /// the factory's queues show like any other.
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
        let now = time::now();
        let work_order = match decision {
            Decision::Repair => Some(repair_work_order(&rt, &unit, now)?),
            Decision::Remake => Some(remake_work_order(&rt, &unit, now)?),
            Decision::Refund | Decision::Reject => None,
        };
        claim.status = match decision {
            Decision::Repair => ClaimStatus::Repair,
            Decision::Remake => ClaimStatus::Remake,
            Decision::Refund => ClaimStatus::Refund,
            Decision::Reject => ClaimStatus::Rejected,
        };
        claim.note = note.to_string();
        claim.work_order_id = work_order.as_ref().map(|w| w.id.clone());
        claim.decided_at = Some(now);
        let said = match &claim.work_order_id {
            Some(wo) => format!("Claim {id} decided: {} (work order {wo})", claim.status),
            None => format!("Claim {id} decided: {}", claim.status),
        };
        self.store
            .decide_claim(&rt.brand.id, &claim, work_order.as_ref(), &entry(now, said))
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

/// A work order of one unit through `routing`.
fn one_unit(sku: String, product: &str, routing: &[RoutingStep], now: Timestamp) -> WorkOrder {
    WorkOrder {
        id: WorkOrderId::new(),
        sku,
        product_id: product.to_string(),
        quantity: 1,
        status: WorkOrderStatus::Planned,
        created_at: now,
        operations: routing
            .iter()
            .enumerate()
            .map(|(i, step)| WorkOrderOperation {
                seq: i as i64 + 1,
                operation: step.operation.clone(),
                name: step.name.clone(),
                work_center: step.work_center.clone(),
                setup_minutes: step.setup_minutes,
                run_minutes: step.minutes,
                status: OperationStatus::Pending,
                started_at: None,
                completed_at: None,
                scrap: 0,
            })
            .collect(),
        order_ids: Vec::new(),
    }
}

/// The product's `[[repair_operation]]` routing for this unit.
fn repair_work_order(rt: &BrandRuntime, unit: &Unit, now: Timestamp) -> Result<WorkOrder> {
    let c = rt.product(&unit.product_id)?;
    let routing = c.repair_routing(&configuration_of(unit));
    if routing.is_empty() {
        return Err(Error::Conflict(format!(
            "{} declares no repair routing ([[repair_operation]]); remake, refund or reject",
            c.product().name
        )));
    }
    Ok(one_unit(
        format!("REPAIR-{}", unit.sku),
        &unit.product_id,
        &routing,
        now,
    ))
}

/// The unit made again: its SKU through the product's routing.
fn remake_work_order(rt: &BrandRuntime, unit: &Unit, now: Timestamp) -> Result<WorkOrder> {
    let c = rt.product(&unit.product_id)?;
    let outcome = c
        .configure_unexplained(&configuration_of(unit))
        .map_err(|e| Error::Conflict(format!("the unit's configuration no longer holds: {e}")))?;
    Ok(one_unit(
        unit.sku.clone(),
        &unit.product_id,
        &outcome.routing,
        now,
    ))
}

/// The configuration the unit's passport records.
fn configuration_of(unit: &Unit) -> kiln_configure::Selections {
    serde_json::from_value(crate::passport::payload_of(unit)["configuration"].clone())
        .unwrap_or_default()
}
