//! Purchases to place, as a buyer places them: the open purchase suggestions
//! grouped by supplier and by the day they are to arrive, each material's
//! quantities of a group together and priced at the supplier's price breaks
//! for that quantity. A material without a supplier forms its own group.

use std::collections::BTreeMap;

use kiln_domain::{Date, Decimal, PurchaseSuggestion};
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;
use crate::error::Result;

/// One purchase order to place: a supplier's materials arriving one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseGroup {
    /// The supplier's id; none for materials without one.
    pub supplier: Option<String>,
    pub supplier_name: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub arrives: Date,
    /// The latest day to order so that every line arrives by its need.
    #[schema(value_type = String, format = Date)]
    pub order_by: Date,
    pub lines: Vec<PurchaseLine>,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// One material of a purchase group: every suggestion for it together.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseLine {
    pub material: String,
    pub unit: String,
    #[schema(value_type = String)]
    pub qty: Decimal,
    /// At the price break `qty` reaches.
    #[schema(value_type = String)]
    pub unit_cost: Decimal,
    #[schema(value_type = String)]
    pub cost: Decimal,
    /// The suggestions it covers.
    pub suggestions: Vec<String>,
}

impl App {
    /// Open purchase suggestions grouped by supplier and arrival day.
    pub async fn purchases_by_supplier(&self, slug: &str) -> Result<Vec<PurchaseGroup>> {
        let rt = self.brand(slug).await?;
        let open = self.store.suggestions(&rt.brand.id).await?;
        Ok(group(&rt.catalog.factory, &open))
    }
}

/// Groups `open` by (supplier, arrives), in that order; lines by material.
pub fn group(f: &kiln_model::Factory, open: &[PurchaseSuggestion]) -> Vec<PurchaseGroup> {
    // (supplier or material-alone key, arrives) -> material -> suggestions
    type Key = (Option<String>, Date);
    let mut groups: BTreeMap<Key, BTreeMap<String, Vec<&PurchaseSuggestion>>> = BTreeMap::new();
    for s in open {
        let supplier = f.material(&s.material).and_then(|m| m.supplier.clone());
        groups
            .entry((supplier, s.arrives))
            .or_default()
            .entry(s.material.clone())
            .or_default()
            .push(s);
    }
    let mut out = Vec::new();
    for ((supplier, arrives), materials) in groups {
        let mut lines = Vec::new();
        let mut order_by = arrives;
        for (material, suggestions) in materials {
            let spec = f.material(&material);
            let qty: Decimal = suggestions.iter().map(|s| s.qty).sum();
            let unit_cost = spec.map_or(Decimal::ZERO, |m| m.unit_cost_for(qty));
            order_by = suggestions
                .iter()
                .map(|s| s.order_by)
                .fold(order_by, Date::min);
            lines.push(PurchaseLine {
                unit: spec.map(|m| m.unit.clone()).unwrap_or_default(),
                cost: (qty * unit_cost).round_dp(2),
                qty: qty.normalize(),
                unit_cost,
                suggestions: suggestions.iter().map(|s| s.id.to_string()).collect(),
                material,
            });
        }
        if supplier.is_none() {
            // Materials without a supplier: one group each.
            for line in lines {
                out.push(PurchaseGroup {
                    supplier: None,
                    supplier_name: None,
                    arrives,
                    order_by,
                    total: line.cost,
                    lines: vec![line],
                });
            }
            continue;
        }
        out.push(PurchaseGroup {
            supplier_name: supplier
                .as_deref()
                .and_then(|s| f.supplier(s))
                .map(|s| s.name.clone()),
            supplier,
            arrives,
            order_by,
            total: lines.iter().map(|l| l.cost).sum(),
            lines,
        });
    }
    out
}
