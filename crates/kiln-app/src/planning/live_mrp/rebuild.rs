//! The live plan made again from the store, and kept following the live
//! schedule.

use std::collections::HashMap;

use jiff::civil::Date;
use kiln_configure::{Configurator, Selections};
use kiln_domain::{OrderId, OrderLine};
use rust_decimal::Decimal;

use super::{LiveMrp, Start};
use crate::runtime::Catalog;

/// The sub-assemblies an order line makes, (assembly, units), for the live
/// plan's level above the materials. A line configured against an earlier
/// catalog than `catalog` counts its materials only: the sub-assemblies it
/// was made with are not the ones this catalog knows.
pub fn line_assemblies(catalog: &Catalog, line: &OrderLine) -> Vec<(String, Decimal)> {
    if line.catalog_version != catalog.version || line.cancelled_at.is_some() {
        return Vec::new();
    }
    let Some(product) = catalog.product(&line.product_id) else {
        return Vec::new();
    };
    sub_assemblies(
        product,
        &line.selections,
        Decimal::from(line.quantity.max(0)),
    )
}

/// The sub-assemblies `quantity` units of `config` make, (assembly, units).
pub fn sub_assemblies(
    product: &Configurator,
    config: &Selections,
    quantity: Decimal,
) -> Vec<(String, Decimal)> {
    product
        .assemblies(config)
        .into_iter()
        .filter_map(|(a, per)| Some((a, per.checked_mul(quantity)?)))
        .collect()
}

/// After a replan moved operations (a work centre or machine down or up,
/// a re-sequencing): each order's materials are needed when its production
/// now starts. Only the orders whose day changed are moved.
pub fn follow_schedule(plan: &mut crate::runtime::PlanState, today: Date) {
    let starts = production_starts(plan, today);
    plan.mrp.follow(&starts);
}

/// The day each order's production starts on the live schedule: when its
/// first operation runs (its machine may be set up before the material is
/// there), never before today.
pub fn production_starts(plan: &crate::runtime::PlanState, today: Date) -> HashMap<OrderId, Date> {
    let mut starts: HashMap<OrderId, Date> = HashMap::new();
    for id in plan.schedule.order_ids() {
        let Some(placed) = plan.schedule.order(id) else {
            continue;
        };
        if let Some(first) = placed.first_run() {
            let day = crate::live::day_of(&plan.clock, first).max(today);
            starts
                .entry(id.order.clone())
                .and_modify(|d| *d = (*d).min(day))
                .or_insert(day);
        }
    }
    starts
}

/// The live plan made again from the store and the live schedule: at a
/// brand's first use, on a new day, or after a failed net change.
pub async fn rebuild(
    store: &dyn kiln_store::Store,
    brand: &kiln_domain::BrandId,
    catalog: &Catalog,
    plan: &crate::runtime::PlanState,
    today: Date,
) -> crate::error::Result<LiveMrp> {
    let open = store.open_requirements(brand).await?;
    let mut assemblies = Vec::new();
    for (order, line) in store.open_lines(brand).await? {
        for (assembly, units) in line_assemblies(catalog, &line) {
            assemblies.push((order.clone(), assembly, units));
        }
    }
    let on_order = store.suggestions(brand).await?;
    let starts = production_starts(plan, today);
    let demand = open
        .into_iter()
        .map(|(order, r)| {
            let day = starts.get(&order).copied().unwrap_or(today);
            (order, r.material, r.gross, day)
        })
        .collect();
    let on_hand = plan
        .materials
        .iter()
        .map(|(m, p)| (m.clone(), p.on_hand))
        .collect();
    LiveMrp::build(Start {
        today,
        factory: &catalog.factory,
        on_hand,
        on_order: &on_order,
        demand,
        assemblies,
    })
    .map_err(|e| crate::error::Error::internal_from("the material plan", e))
}
