//! What a passport says: the payload signed for each unit (what it is, made
//! of and made by, its warranty; no personal data), and reading it back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::ToSpan as _;
use kiln_domain::{OperationStatus, Unit, WorkOrder};
use serde_json::{Value, json};

use super::PassportView;
use crate::runtime::BrandRuntime;
use crate::time;

/// What one unit is, made of and made by: the passport's payload.
pub(super) fn payload(
    rt: &BrandRuntime,
    wo: &WorkOrder,
    line: &kiln_domain::OrderLine,
    machines: &[Option<String>],
    serial: &str,
    made_at: jiff::Timestamp,
) -> Value {
    let product = rt.catalog.product(&line.product_id);
    let materials: Vec<Value> = product
        .and_then(|c| c.configure_unexplained(&line.selections).ok())
        .map(|o| {
            o.bom
                .iter()
                .map(|m| {
                    let spec = rt.catalog.factory.material(&m.material);
                    json!({
                        "material": m.material,
                        "name": spec.map_or(m.material.as_str(), |s| s.name.as_str()),
                        "unit": spec.map_or("", |s| s.unit.as_str()),
                        "quantity": m.qty.normalize().to_string(),
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
