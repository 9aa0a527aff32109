//! The brand's time-phased material plan: MRP (`kiln_plan::mrp::MrpPlan`)
//! over every open material requirement, each needed on the day its order's
//! first operation is scheduled to start on the live schedule, netted against
//! stock and the purchases on order by the day they arrive. Regenerated on
//! request (it reads the store); what it suggests beyond the purchases already
//! on order is what the plan still lacks.

use std::collections::HashMap;

use jiff::civil::Date;
use kiln_plan::mrp::{DemandLine, Item, MrpInput, MrpPlan, OpenPurchaseOrder, Source};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;
use crate::error::{Error, Result};
use crate::live::day_of;
use crate::runtime::BrandRuntime;
use kiln_domain::OrderId;

/// One day of a material's record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaterialDay {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// Needed by orders whose production starts that day.
    #[schema(value_type = String)]
    pub gross: Decimal,
    /// Purchases on order arriving that day.
    #[schema(value_type = String)]
    pub receipts: Decimal,
    /// Purchases the plan suggests arriving that day.
    #[schema(value_type = String)]
    pub planned_receipts: Decimal,
    /// Stock at the end of the day.
    #[schema(value_type = String)]
    pub projected: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaterialRecord {
    pub material: String,
    pub name: String,
    pub unit: String,
    /// Days with something needed or arriving, in date order.
    pub days: Vec<MaterialDay>,
}

/// A purchase the plan needs beyond those on order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlannedPurchase {
    pub material: String,
    #[schema(value_type = String)]
    pub qty: Decimal,
    #[schema(value_type = String, format = Date)]
    pub order_by: Date,
    #[schema(value_type = String, format = Date)]
    pub need_by: Date,
    /// Even ordered today it arrives after it is needed.
    pub late: bool,
}

/// Material an order needs that neither stock nor purchases cover in time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderShortage {
    pub order_id: OrderId,
    pub material: String,
    #[schema(value_type = String)]
    pub qty: Decimal,
    #[schema(value_type = String, format = Date)]
    pub need_by: Date,
    /// When a purchase placed today arrives.
    #[schema(value_type = String, format = Date)]
    pub earliest: Date,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaterialPlan {
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    pub materials: Vec<MaterialRecord>,
    pub purchases: Vec<PlannedPurchase>,
    pub shortages: Vec<OrderShortage>,
}

pub async fn material_plan(app: &App, rt: &BrandRuntime) -> Result<MaterialPlan> {
    let b = &rt.brand.id;
    let open = app.store.open_requirements(b).await?;
    let on_order = app.store.suggestions(b).await?;
    let today = crate::time::today();
    let plan = rt.plan.lock().await;
    // The day each order's production starts: its earliest operation.
    let mut starts: HashMap<OrderId, Date> = HashMap::new();
    for id in plan.schedule.order_ids() {
        let Some(placed) = plan.schedule.order(id) else {
            continue;
        };
        if let Some(first) = placed
            .bookings
            .iter()
            .flatten()
            .map(|b| b.setup_start)
            .min()
        {
            let day = day_of(&plan.clock, first).max(today);
            starts
                .entry(id.order.clone())
                .and_modify(|d| *d = (*d).min(day))
                .or_insert(day);
        }
    }
    let factory = &rt.catalog.factory;
    let items = plan
        .positions(factory)
        .map(|(m, p)| Item {
            id: m.id.clone(),
            source: Source::Buy,
            lead_days: m.lead_days,
            moq: m.moq,
            lot_size: Decimal::ZERO,
            on_hand: p.on_hand.max(Decimal::ZERO),
            reserved: Decimal::ZERO,
        })
        .collect();
    let mut purchase_orders = Vec::new();
    for s in &on_order {
        purchase_orders.push(OpenPurchaseOrder {
            item: s.material.clone(),
            qty: s.qty,
            due: s.arrives,
        });
    }
    let mut demand = Vec::new();
    let mut owners = Vec::new();
    for (order_id, r) in &open {
        if factory.material(&r.material).is_none() {
            continue;
        }
        demand.push(DemandLine {
            id: demand.len() as u64,
            item: r.material.clone(),
            qty: r.gross,
            need_by: starts.get(order_id).copied().unwrap_or(today),
        });
        owners.push(order_id.clone());
    }
    drop(plan);
    let input = MrpInput {
        today,
        items,
        bom: Vec::new(),
        purchase_orders,
        demand,
    };
    let mrp = MrpPlan::new(&input).map_err(|e| Error::internal_from("the material plan", e))?;

    let mut materials = Vec::new();
    for m in &factory.materials {
        let days: Vec<MaterialDay> = mrp
            .time_phased(&m.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|d| {
                !(d.gross.is_zero()
                    && d.scheduled_receipts.is_zero()
                    && d.planned_receipts.is_zero())
            })
            .map(|d| MaterialDay {
                date: d.date,
                gross: d.gross,
                receipts: d.scheduled_receipts,
                planned_receipts: d.planned_receipts,
                projected: d.projected,
            })
            .collect();
        if !days.is_empty() {
            materials.push(MaterialRecord {
                material: m.id.clone(),
                name: m.name.clone(),
                unit: m.unit.clone(),
                days,
            });
        }
    }
    let purchases = mrp
        .purchase_suggestions()
        .into_iter()
        .map(|p| PlannedPurchase {
            material: p.item,
            qty: p.qty,
            order_by: p.order_by,
            need_by: p.need_by,
            late: p.late,
        })
        .collect();
    let mut shortages = Vec::new();
    for (id, order_id) in owners.iter().enumerate() {
        for s in mrp.demand_shortages(id as u64).unwrap_or_default() {
            shortages.push(OrderShortage {
                order_id: order_id.clone(),
                material: s.item,
                qty: s.qty,
                need_by: s.need_by,
                earliest: s.earliest,
            });
        }
    }
    Ok(MaterialPlan {
        as_of: today,
        materials,
        purchases,
        shortages,
    })
}
