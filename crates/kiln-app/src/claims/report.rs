//! Which choices and which machines cause returns: claims counted by the
//! product, option values, materials, work centres and machines their units'
//! passports record, each beside how many units were made with it, so a
//! rate says more than a count.
//!
//! [`tally`] is pure; [`App::claims_report`] reads the units and claims.

use std::collections::{BTreeMap, HashMap, HashSet};

use kiln_domain::{Claim, ClaimStatus};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::App;
use crate::error::Result;

/// Claims by what the claimed units are and were made by.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClaimsReport {
    /// Units made.
    pub units: usize,
    /// Claims counted: every claim but the rejected ones (not the unit's fault).
    pub claims: usize,
    /// Claims waiting for a decision.
    pub open: usize,
    /// Those claims, oldest first.
    pub waiting: Vec<Claim>,
    /// Claims per 100 units over all units: the baseline for each rate below.
    pub per_hundred: f64,
    pub by_product: Vec<Tally>,
    pub by_option_value: Vec<Tally>,
    pub by_material: Vec<Tally>,
    pub by_work_center: Vec<Tally>,
    /// Machines as `work centre #n`.
    pub by_machine: Vec<Tally>,
}

/// One product, option value, material, work centre or machine: the claims
/// on units made with it, of how many units. Only those with a claim are
/// listed, most claims first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Tally {
    /// The product, material or work centre id; `product/option=value`;
    /// `centre #n`.
    pub key: String,
    /// For an option value: the product's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// For an option value: the option's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// For an option value: the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub claims: usize,
    pub units: usize,
    /// Claims per 100 units made with it, to one decimal.
    pub per_hundred: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Facet {
    Product,
    OptionValue,
    Material,
    WorkCentre,
    Machine,
}

/// One thing a unit is or was made by: the facet and its id (for an option
/// value: product, option, value).
type Key = (Facet, Vec<String>);

/// What a passport's payload says the unit is and was made by, once each.
fn facets(payload: &Value) -> HashSet<Key> {
    let mut out = HashSet::new();
    let one = |facet, id: &str| (facet, vec![id.to_string()]);
    let product = payload["product"]["id"].as_str().unwrap_or_default();
    out.insert(one(Facet::Product, product));
    if let Some(config) = payload["configuration"].as_object() {
        for (option, value) in config {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            out.insert((
                Facet::OptionValue,
                vec![product.to_string(), option.clone(), value],
            ));
        }
    }
    for m in payload["materials"].as_array().into_iter().flatten() {
        if let Some(id) = m["material"].as_str() {
            out.insert(one(Facet::Material, id));
        }
    }
    for op in payload["operations"].as_array().into_iter().flatten() {
        if let Some(wc) = op["work_center"].as_str() {
            out.insert(one(Facet::WorkCentre, wc));
        }
        if let Some(machine) = op["machine"].as_str() {
            out.insert(one(Facet::Machine, machine));
        }
    }
    out
}

fn rate(claims: usize, units: usize) -> f64 {
    if units == 0 {
        return 0.0;
    }
    (claims as f64 * 1000.0 / units as f64).round() / 10.0
}

/// Counts `claims` against the units (serial and passport payload) they
/// are on.
pub fn tally(units: &[(String, Value)], claims: &[Claim]) -> ClaimsReport {
    let mut on_unit: HashMap<&str, usize> = HashMap::new();
    let mut counted = 0;
    for c in claims.iter().filter(|c| c.status != ClaimStatus::Rejected) {
        *on_unit.entry(c.serial.as_str()).or_default() += 1;
        counted += 1;
    }
    // (units, claims) per facet key.
    let mut seen: BTreeMap<Key, (usize, usize)> = BTreeMap::new();
    for (serial, payload) in units {
        let n = on_unit.get(serial.as_str()).copied().unwrap_or(0);
        for key in facets(payload) {
            let e = seen.entry(key).or_default();
            e.0 += 1;
            e.1 += n;
        }
    }
    let list = |facet: Facet| {
        let mut out: Vec<Tally> = seen
            .iter()
            .filter(|((f, _), (_, c))| *f == facet && *c > 0)
            .map(|((_, key), &(units, claims))| {
                let (key, product, option, value) = match &key[..] {
                    [product, option, value] => (
                        format!("{product}/{option}={value}"),
                        Some(product.clone()),
                        Some(option.clone()),
                        Some(value.clone()),
                    ),
                    parts => (parts.concat(), None, None, None),
                };
                Tally {
                    key,
                    product,
                    option,
                    value,
                    claims,
                    units,
                    per_hundred: rate(claims, units),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.claims
                .cmp(&a.claims)
                .then(b.per_hundred.total_cmp(&a.per_hundred))
                .then_with(|| a.key.cmp(&b.key))
        });
        out
    };
    ClaimsReport {
        units: units.len(),
        claims: counted,
        open: claims
            .iter()
            .filter(|c| c.status == ClaimStatus::Open)
            .count(),
        waiting: claims
            .iter()
            .filter(|c| c.status == ClaimStatus::Open)
            .cloned()
            .collect(),
        per_hundred: rate(counted, units.len()),
        by_product: list(Facet::Product),
        by_option_value: list(Facet::OptionValue),
        by_material: list(Facet::Material),
        by_work_center: list(Facet::WorkCentre),
        by_machine: list(Facet::Machine),
    }
}

impl App {
    /// The brand's claims counted by what their units are and were made by.
    pub async fn claims_report(&self, slug: &str) -> Result<ClaimsReport> {
        let brand = self.brand_record(slug).await?;
        let units = self.store.units(&brand.id).await?;
        let claims = self.store.claims(&brand.id).await?;
        let units: Vec<(String, Value)> = units
            .into_iter()
            .map(|u| {
                let payload = crate::passport::payload_of(&u);
                (u.serial, payload)
            })
            .collect();
        Ok(tally(&units, &claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_domain::{ClaimId, ClaimKind, OrderId};
    use serde_json::json;

    fn unit(serial: &str, glaze: &str, machine: &str) -> (String, Value) {
        (
            serial.to_string(),
            json!({
                "product": { "id": "mug" },
                "configuration": { "glaze": glaze, "size": "L" },
                "materials": [{ "material": "clay" }, { "material": "glaze" }],
                "operations": [
                    { "work_center": "kiln", "machine": machine },
                    { "work_center": "glazing", "machine": "glazing #1" },
                ],
            }),
        )
    }

    fn claim(serial: &str, status: ClaimStatus) -> Claim {
        Claim {
            id: ClaimId::new(),
            serial: serial.into(),
            order_id: OrderId::from("ord_1"),
            kind: ClaimKind::Warranty,
            reason: "cracked".into(),
            parts: vec![],
            in_warranty: true,
            status,
            note: String::new(),
            work_order_id: None,
            after_sales_order_id: None,
            promised_date: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            decided_at: None,
        }
    }

    #[test]
    fn the_machine_and_the_value_behind_the_claims_come_first() {
        let units = [
            unit("A", "navy", "kiln #2"),
            unit("B", "navy", "kiln #2"),
            unit("C", "cream", "kiln #1"),
            unit("D", "cream", "kiln #1"),
        ];
        let claims = [
            claim("A", ClaimStatus::Repair),
            claim("B", ClaimStatus::Open),
            claim("C", ClaimStatus::Rejected),
        ];
        let r = tally(&units, &claims);
        assert_eq!((r.units, r.claims, r.open), (4, 2, 1));
        assert_eq!(r.per_hundred, 50.0);
        assert_eq!(
            r.by_machine.len(),
            2,
            "kiln #2 and glazing #1: {:?}",
            r.by_machine
        );
        assert_eq!(r.by_machine[0].key, "kiln #2");
        assert_eq!((r.by_machine[0].claims, r.by_machine[0].units), (2, 2));
        assert_eq!(r.by_machine[0].per_hundred, 100.0);
        let navy = &r.by_option_value[0];
        assert_eq!(
            (navy.option.as_deref(), navy.value.as_deref()),
            (Some("glaze"), Some("navy"))
        );
        assert_eq!(navy.per_hundred, 100.0);
        assert!(
            r.by_option_value
                .iter()
                .all(|t| t.value.as_deref() != Some("cream")),
            "a rejected claim is not counted"
        );
        assert_eq!(r.by_product[0].per_hundred, 50.0);
    }
}
