//! Price breakdown, BOM and routing of a configuration. Conditions are the
//! model's own expressions evaluated on the concrete configuration.

use kiln_model::{Expr, Operation, Product, Quantity};
use rust_decimal::Decimal;

use crate::{BomRequirement, PriceBreakdown, PriceLine, RoutingStep, Selections};

fn holds(e: &Expr, config: &Selections) -> bool {
    e.holds(config)
}

pub(crate) fn price(product: &Product, config: &Selections) -> PriceBreakdown {
    let mut lines = Vec::new();
    for p in &product.prices {
        if !holds(&p.condition, config) {
            continue;
        }
        let amount = match &p.per_char_of {
            Some(o) => {
                let chars = config.get(o).map_or(0, |t| t.chars().count());
                p.add * Decimal::from(chars)
            }
            None => p.add,
        };
        lines.push(PriceLine {
            label: p.label.clone(),
            amount,
        });
    }
    let total = lines.iter().fold(product.base_price, |t, l| t + l.amount);
    PriceBreakdown {
        currency: product.currency.clone(),
        base: product.base_price,
        lines,
        total,
    }
}

/// `None` when the quantity depends on an option value it has no entry for.
fn quantity(q: &Quantity, config: &Selections) -> Option<Decimal> {
    match q {
        Quantity::Fixed(d) => Some(*d),
        Quantity::ByValue { option, by_value } => {
            let v = config.get(option)?;
            by_value.iter().find(|(k, _)| k == v).map(|(_, d)| *d)
        }
    }
}

/// Per unit; lines for the same material are summed, in first-mention order.
pub(crate) fn bom(product: &Product, config: &Selections) -> Vec<BomRequirement> {
    let mut out: Vec<BomRequirement> = Vec::new();
    for line in &product.bom {
        if !holds(&line.condition, config) {
            continue;
        }
        let Some(qty) = quantity(&line.qty, config) else {
            continue;
        };
        match out.iter_mut().find(|r| r.material == line.material) {
            Some(r) => r.qty += qty,
            None => out.push(BomRequirement {
                material: line.material.clone(),
                qty,
            }),
        }
    }
    out
}

/// The steps of `operations` (a product's routing, or its repair routing)
/// that hold for `config`, each with its run minutes.
pub(crate) fn routing(operations: &[Operation], config: &Selections) -> Vec<RoutingStep> {
    operations
        .iter()
        .filter(|op| holds(&op.condition, config))
        .filter_map(|op| {
            Some(RoutingStep {
                operation: op.id.clone(),
                name: op.name.clone(),
                work_center: op.work_center.clone(),
                minutes: quantity(&op.minutes, config)?,
                setup_minutes: op.setup_minutes,
            })
        })
        .collect()
}
