//! What a passport says: the payload signed for each unit (what it is, made
//! of and made by, its warranty; no personal data), and reading it back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::ToSpan as _;
use kiln_domain::{OperationStatus, Unit, WorkOrder};
use serde_json::{Value, json};

use std::collections::HashMap;

use super::PassportView;
use super::lots::{Lot, LotSource};
use crate::runtime::{BrandRuntime, Catalog};
use crate::time;

/// Where a work order's units come from: the brand, the catalog version
/// their line was ordered from, and when the work order was done.
pub(super) struct Source<'a> {
    pub rt: &'a BrandRuntime,
    pub catalog: &'a Catalog,
    pub wo: &'a WorkOrder,
    pub made_at: jiff::Timestamp,
}

/// The lots an order drew, per material.
pub(super) type LotsOf = HashMap<String, Vec<Lot>>;

fn lot(l: &Lot) -> Value {
    let qty = l.qty.normalize().to_string();
    match &l.source {
        LotSource::OpeningStock => json!({ "source": "opening_stock", "quantity": qty }),
        LotSource::Purchase { id, received_at } => json!({
            "source": "purchase",
            "purchase": id,
            "received_at": received_at.to_string(),
            "quantity": qty,
        }),
        LotSource::NotReceived => json!({ "source": "not_received", "quantity": qty }),
    }
}

/// What one unit is, made of and made by: the passport's payload. Each
/// material lists the lots its order drew (`lots`: the purchases, first in
/// first out, with the quantity the whole order took from each).
pub(super) fn payload(
    src: &Source<'_>,
    line: &kiln_domain::OrderLine,
    machines: &[Option<String>],
    lots: &LotsOf,
    serial: &str,
) -> Value {
    let Source {
        rt,
        catalog,
        wo,
        made_at,
    } = *src;
    let product = catalog.product(&line.product_id);
    let materials: Vec<Value> = product
        .and_then(|c| c.configure_unexplained(&line.selections).ok())
        .map(|o| {
            o.bom
                .iter()
                .map(|m| {
                    let spec = catalog.factory.material(&m.material);
                    json!({
                        "material": m.material,
                        "name": spec.map_or(m.material.as_str(), |s| s.name.as_str()),
                        "unit": spec.map_or("", |s| s.unit.as_str()),
                        "quantity": m.qty.normalize().to_string(),
                        "lots": lots.get(&m.material).map(|ls| ls.iter().map(lot).collect::<Vec<_>>()).unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let operations: Vec<Value> = wo
        .operations
        .iter()
        .enumerate()
        .map(|(k, op)| {
            json!({
                "seq": op.seq,
                "operation": op.operation,
                "name": op.name,
                "work_center": op.work_center,
                "machine": machines.get(k).cloned().flatten(),
                "started_at": op.started_at.map(|t| t.to_string()),
                "completed_at": op.completed_at.map(|t| t.to_string()),
                "done": op.status == OperationStatus::Done,
            })
        })
        .collect();
    let months = product.map_or(0, |c| c.product().warranty_months);
    let warranty_until = (months > 0)
        .then(|| {
            time::day_of(made_at)
                .checked_add(i64::from(months).months())
                .ok()
        })
        .flatten()
        .map(|d| d.to_string());
    json!({
        "type": "kiln.passport",
        "version": 1,
        "serial": serial,
        "brand": rt.brand.slug.as_str(),
        "factory": rt.brand.name,
        "product": {
            "id": line.product_id,
            "name": product.map_or(line.product_id.as_str(), |c| c.product().name.as_str()),
            "gtin": product.and_then(|c| c.product().gtin.as_deref()),
        },
        "sku": line.sku,
        "configuration": line.selections,
        "catalog_version": line.catalog_version,
        "materials": materials,
        "operations": operations,
        "work_order": wo.id.as_str(),
        "made_at": made_at.to_string(),
        "warranty_until": warranty_until,
        "issued_at": time::now().to_string(),
    })
}

/// The payload of a unit's stored passport (the server's own signature).
pub(crate) fn payload_of(unit: &Unit) -> Value {
    unit.passport
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|p| serde_json::from_slice(&p).ok())
        .unwrap_or(Value::Null)
}

/// A unit as the API shows its passport.
pub(super) fn view(unit: Unit) -> PassportView {
    let payload = payload_of(&unit);
    PassportView {
        serial: unit.serial,
        kid: unit.kid,
        passport: unit.passport,
        payload,
    }
}
