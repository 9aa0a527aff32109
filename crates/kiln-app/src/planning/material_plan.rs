//! The brand's time-phased material plan as the API shows it: the live MRP
//! plan ([`crate::planning::live_mrp`]) over every open material requirement,
//! each needed on the day its order's first operation is scheduled to start,
//! and the forecast orders have not consumed, netted against stock and the
//! purchases on order by the day they arrive. What it suggests beyond the
//! purchases already on order is what the plan still lacks.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;
use crate::error::Result;
use crate::planning::live_mrp;
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
    /// Forecast weeks not consumed by orders (part of `days`' gross).
    pub forecast: Vec<ForecastLeft>,
}

/// One day of a sub-assembly's record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssemblyDay {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// Needed by orders whose production starts that day.
    #[schema(value_type = String)]
    pub gross: Decimal,
    /// Made that day, in the orders' jobs.
    #[schema(value_type = String)]
    pub planned: Decimal,
}

/// A sub-assembly (`[assembly.*]` of the factory file): made in the jobs of
/// the orders that use it, a level above the materials it is made from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssemblyRecord {
    pub assembly: String,
    pub name: String,
    pub unit: String,
    /// Days with something needed, in date order.
    pub days: Vec<AssemblyDay>,
}

/// Sub-assemblies the plan makes: their materials are needed on `start`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlannedMaking {
    pub assembly: String,
    #[schema(value_type = String)]
    pub qty: Decimal,
    #[schema(value_type = String, format = Date)]
    pub start: Date,
    #[schema(value_type = String, format = Date)]
    pub need_by: Date,
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
    /// The level above the materials: sub-assemblies made for the orders.
    pub assemblies: Vec<AssemblyRecord>,
    /// What the plan makes of them, by day.
    pub making: Vec<PlannedMaking>,
    pub purchases: Vec<PlannedPurchase>,
    pub shortages: Vec<OrderShortage>,
    pub net_change: NetChangeStats,
}

/// How the live plan's net changes for orders have gone since it was built.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NetChangeStats {
    /// Orders (placements, cancellations) netted since the plan was built.
    pub changes: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// The forecast a material's plan still carries for a week: what orders
/// needing it that week have not consumed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastLeft {
    #[schema(value_type = String, format = Date)]
    pub week: Date,
    #[schema(value_type = String)]
    pub qty: Decimal,
}

/// The brand's live material plan as it stands: kept current by net change
/// ([`crate::planning::live_mrp`]), rebuilt from the store on a new day or
/// after a failed change.
pub async fn material_plan(app: &App, rt: &BrandRuntime) -> Result<MaterialPlan> {
    let today = crate::time::today();
    let mut plan = rt.plan.lock().await;
    if plan.mrp.stale || plan.mrp.today() != today {
        let (weeks, forecast) = plan.mrp.forecast_input();
        let mut fresh =
            live_mrp::rebuild(app.store.as_ref(), &rt.brand.id, &rt.catalog, &plan, today).await?;
        fresh.set_forecast(weeks, &forecast);
        plan.mrp = fresh;
    }
    let live = &plan.mrp;
    let mrp = live.plan();
    let factory = &rt.catalog.factory;
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
        let forecast: Vec<ForecastLeft> = live
            .forecast_left(&m.id)
            .into_iter()
            .map(|(week, qty)| ForecastLeft { week, qty })
            .collect();
        if !days.is_empty() || !forecast.is_empty() {
            materials.push(MaterialRecord {
                material: m.id.clone(),
                name: m.name.clone(),
                unit: m.unit.clone(),
                days,
                forecast,
            });
        }
    }
    let mut assemblies = Vec::new();
    for a in &factory.assemblies {
        let days: Vec<AssemblyDay> = mrp
            .time_phased(&a.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|d| !(d.gross.is_zero() && d.planned_receipts.is_zero()))
            .map(|d| AssemblyDay {
                date: d.date,
                gross: d.gross,
                planned: d.planned_receipts,
            })
            .collect();
        if !days.is_empty() {
            assemblies.push(AssemblyRecord {
                assembly: a.id.clone(),
                name: a.name.clone(),
                unit: a.unit.clone(),
                days,
            });
        }
    }
    let making = mrp
        .manufacturing_orders()
        .into_iter()
        .map(|m| PlannedMaking {
            assembly: m.item,
            qty: m.qty,
            start: m.order_by,
            need_by: m.need_by,
        })
        .collect();
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
    for (order_id, line) in live.order_lines() {
        for s in mrp.demand_shortages(line).unwrap_or_default() {
            shortages.push(OrderShortage {
                order_id: order_id.clone(),
                material: s.item,
                qty: s.qty,
                need_by: s.need_by,
                earliest: s.earliest,
            });
        }
    }
    shortages.sort_by(|a, b| {
        (a.need_by, a.order_id.as_str(), &a.material).cmp(&(
            b.need_by,
            b.order_id.as_str(),
            &b.material,
        ))
    });
    let mut times: Vec<u64> = live
        .net_change_times()
        .iter()
        .map(|d| d.as_micros() as u64)
        .collect();
    times.sort_unstable();
    let at = |q: f64| -> u64 {
        if times.is_empty() {
            0
        } else {
            times[((times.len() - 1) as f64 * q).round() as usize]
        }
    };
    let net_change = NetChangeStats {
        changes: times.len(),
        p50_us: at(0.5),
        p99_us: at(0.99),
        max_us: times.last().copied().unwrap_or(0),
    };
    Ok(MaterialPlan {
        as_of: today,
        materials,
        assemblies,
        making,
        purchases,
        shortages,
        net_change,
    })
}
