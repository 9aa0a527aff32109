//! Price breakdown, BOM and routing of a configuration. Conditions are the
//! model's own expressions evaluated on the concrete configuration.

use kiln_model::{Expr, Operation, PriceRule, Product, Quantity, QuantityOf};
use rust_decimal::Decimal;

use crate::{BomRequirement, PriceBreakdown, PriceLine, RoutingStep, Selections};

fn holds(e: &Expr, config: &Selections) -> bool {
    e.holds(config)
}

/// The units a line's price depends on: its own quantity, and the units of
/// its product in the whole order (quantity breaks, `min_quantity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    pub line: u32,
    pub order: u32,
}

impl Units {
    /// One unit alone: no quantity break beyond 1 holds.
    pub const ONE: Units = Units { line: 1, order: 1 };
}

/// The price of one unit of `config` bought as `units`. A quantity break
/// holds from its `min_quantity` on; of the breaks with one label (a tier
/// table), only the highest reached applies.
pub(crate) fn price(product: &Product, config: &Selections, units: Units) -> PriceBreakdown {
    let counted = |p: &PriceRule| match p.quantity_of {
        QuantityOf::Line => units.line,
        QuantityOf::Order => units.order,
    };
    let reached = |p: &PriceRule| p.min_quantity <= counted(p) && holds(&p.condition, config);
    let mut lines = Vec::new();
    for p in &product.prices {
        if !reached(p) {
            continue;
        }
        if p.min_quantity > 1
            && product.prices.iter().any(|q| {
                q.min_quantity > p.min_quantity
                    && q.label == p.label
                    && q.quantity_of == p.quantity_of
                    && reached(q)
            })
        {
            // A higher tier of the same break holds.
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
            from_units: (p.min_quantity > 1).then_some(p.min_quantity),
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

/// One unit's weight in grams and its sides in millimetres, from the
/// product's `[parcel]`; `None` without one (or without an entry for a value).
pub(crate) fn parcel(product: &Product, config: &Selections) -> Option<(Decimal, [Decimal; 3])> {
    let p = product.parcel.as_ref()?;
    let side = |i: usize| quantity(&p.size_mm[i], config);
    Some((
        quantity(&p.weight_g, config)?,
        [side(0)?, side(1)?, side(2)?],
    ))
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

/// Per unit: the sub-assemblies the product's BOM lines name (before the
/// catalog check expanded them into materials and operations), summed per
/// assembly in first-mention order. Their materials are already in
/// [`bom`]; this says what is made on the way.
pub(crate) fn assemblies(product: &Product, config: &Selections) -> Vec<(String, Decimal)> {
    let mut out: Vec<(String, Decimal)> = Vec::new();
    for u in &product.assemblies {
        if !holds(&u.condition, config) {
            continue;
        }
        let Some(qty) = quantity(&u.qty, config) else {
            continue;
        };
        match out.iter_mut().find(|(a, _)| *a == u.assembly) {
            Some((_, sum)) => *sum = sum.checked_add(qty).unwrap_or(*sum),
            None => out.push((u.assembly.clone(), qty)),
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
