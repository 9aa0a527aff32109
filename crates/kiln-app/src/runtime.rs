//! What the server keeps in memory per brand: the compiled catalog, and the
//! planning state (capacity ledger, material positions, planned work orders)
//! that every order placement reads and extends. It is rebuilt from the store
//! at first use, so a restarted server carries on where it stopped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kiln_configure::Configurator;
use kiln_model::Factory;
use kiln_plan::WorkCenterCalendar;
use kiln_plan::live::Schedule;
use kiln_store::{Brand, Store};
use rust_decimal::Decimal;
use tokio::sync::{Mutex, RwLock};

use crate::error::{ApiError, ApiResult};
use crate::live::Clock;

/// A brand's products, compiled once.
pub struct Catalog {
    pub products: Vec<Configurator>,
    pub factory: Factory,
    pub calendars: Vec<WorkCenterCalendar>,
}

impl Catalog {
    pub fn product(&self, id: &str) -> Option<&Configurator> {
        self.products.iter().find(|c| c.product().id == id)
    }

    /// Parses the brand's model files; a catalog with errors is refused
    /// whole, so the shop never sells from half a model.
    pub fn load(files: &[(String, String)]) -> Result<Catalog, String> {
        let report = kiln_model::check(files);
        if !report.diagnostics.is_empty() {
            let lines: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
            return Err(lines.join("\n"));
        }
        let calendars = report.factory.work_centers.iter().map(calendar).collect();
        Ok(Catalog {
            products: report.products.iter().map(Configurator::new).collect(),
            factory: report.factory,
            calendars,
        })
    }
}

fn calendar(w: &kiln_model::WorkCenter) -> WorkCenterCalendar {
    WorkCenterCalendar {
        id: w.id.clone(),
        machines: w.machines,
        minutes_per_day: w.minutes_per_day,
        weekdays: w.weekdays.clone(),
        down: Vec::new(),
    }
}

/// Stock position of one material, as MRP nets against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub on_hand: Decimal,
    pub allocated: Decimal,
    pub on_order: Decimal,
}

/// The live plan of one brand's factory.
#[derive(Clone)]
pub struct PlanState {
    /// The catalog's day calendars minus recorded downtime: what the
    /// schedule views show as capacity per day.
    pub calendars: Vec<WorkCenterCalendar>,
    /// Every open order line's operations on the machines.
    pub schedule: Schedule,
    pub clock: Clock,
    pub materials: BTreeMap<String, Position>,
    /// SKU -> the planned (not yet started) work order new lines batch into.
    pub planned: HashMap<String, String>,
}

impl Position {
    const ZERO: Position = Position {
        on_hand: Decimal::ZERO,
        allocated: Decimal::ZERO,
        on_order: Decimal::ZERO,
    };

    /// What is left for new orders; negative means short.
    pub fn available(&self) -> Decimal {
        self.on_hand + self.on_order - self.allocated
    }
}

impl PlanState {
    /// Every material of the factory with its position, zero if untouched.
    pub fn positions<'a>(
        &'a self,
        factory: &'a Factory,
    ) -> impl Iterator<Item = (&'a kiln_model::Material, &'a Position)> + 'a {
        factory
            .materials
            .iter()
            .map(|m| (m, self.materials.get(&m.id).unwrap_or(&Position::ZERO)))
    }

    /// Moves the schedule's clock to now: nothing new is placed in the past.
    pub fn tick(&mut self) {
        let now = self.clock.now();
        if now > self.schedule.now() {
            // Only fails when going back, which `now > ...` excludes.
            let _ = self.schedule.set_now(now);
        }
    }

    pub fn position(&mut self, material: &str) -> &mut Position {
        self.materials
            .entry(material.to_string())
            .or_insert(Position {
                on_hand: Decimal::ZERO,
                allocated: Decimal::ZERO,
                on_order: Decimal::ZERO,
            })
    }
}

pub struct BrandRuntime {
    pub brand: Brand,
    pub catalog: Catalog,
    /// Order placements of one brand run one at a time: each reads the plan
    /// the previous one left.
    pub plan: Mutex<PlanState>,
}

impl BrandRuntime {
    pub fn product(&self, id: &str) -> ApiResult<&Configurator> {
        self.catalog
            .product(id)
            .ok_or_else(|| ApiError::NotFound(format!("no product `{id}` in this brand")))
    }

    async fn load(store: &dyn Store, brand: Brand) -> ApiResult<BrandRuntime> {
        let files: Vec<(String, String)> = store
            .catalog_files(&brand.id)
            .await?
            .into_iter()
            .map(|f| (f.name, f.source))
            .collect();
        let catalog = Catalog::load(&files)
            .map_err(|e| ApiError::Internal(format!("catalog of {}: {e}", brand.slug)))?;
        let mut calendars = catalog.calendars.clone();
        let mut down = Vec::new();
        for d in store.downtimes(&brand.id).await? {
            let from: jiff::civil::Date = d
                .from_day
                .parse()
                .map_err(|_| corrupt("downtime day", &d.from_day))?;
            let to: jiff::civil::Date = d
                .to_day
                .parse()
                .map_err(|_| corrupt("downtime day", &d.to_day))?;
            if let Some(c) = calendars.iter_mut().find(|c| c.id == d.work_center) {
                c.down.push(kiln_plan::Downtime { from, to });
            }
            down.push((d.work_center, from, to));
        }
        let rows = store.scheduled_bookings(&brand.id).await?;
        let (schedule, clock, unplaced) =
            crate::live::rebuild(&catalog, &down, &rows, crate::ids::today())
                .map_err(|e| ApiError::Internal(format!("schedule of {}: {e}", brand.slug)))?;
        let mut plan = PlanState {
            calendars,
            schedule,
            clock,
            materials: BTreeMap::new(),
            planned: HashMap::new(),
        };
        if !unplaced.is_empty() {
            replace_unplaced(store, &brand, &mut plan, &rows, unplaced).await?;
        }
        for m in store.materials(&brand.id).await? {
            let position = Position {
                on_hand: decimal(&m.on_hand)?,
                allocated: Decimal::ZERO,
                on_order: Decimal::ZERO,
            };
            plan.materials.insert(m.id, position);
        }
        for (material, qty) in store.stock_moves(&brand.id).await? {
            plan.position(&material).on_hand += decimal(&qty)?;
        }
        for r in store.requirements(&brand.id).await? {
            plan.position(&r.material).allocated += decimal(&r.gross)?;
        }
        for s in store.suggestions(&brand.id).await? {
            plan.position(&s.material).on_order += decimal(&s.qty)?;
        }
        for (sku, work_order) in store.planned_work_orders(&brand.id).await? {
            plan.planned.insert(sku, work_order);
        }
        Ok(BrandRuntime {
            brand,
            catalog,
            plan: Mutex::new(plan),
        })
    }
}

/// Places lines the rebuilt schedule could not take back as stored (day
/// bookings from before the live schedule) and writes their new bookings;
/// their orders keep the date they were promised.
async fn replace_unplaced(
    store: &dyn Store,
    brand: &Brand,
    plan: &mut PlanState,
    rows: &[kiln_store::ScheduledBooking],
    unplaced: Vec<crate::live::Unplaced>,
) -> ApiResult<()> {
    plan.tick();
    let mut orders: Vec<String> = Vec::new();
    for u in unplaced {
        match plan.schedule.place(&u.order) {
            Ok(_) => {
                if !orders.contains(&u.order_id) {
                    orders.push(u.order_id);
                }
            }
            Err(e) => tracing::warn!(
                "{}: order {} line {} cannot be placed again: {e}",
                brand.slug,
                u.order_id,
                u.line_no
            ),
        }
    }
    let mut repromises = Vec::new();
    for order_id in orders {
        let mut lines: Vec<i64> = rows
            .iter()
            .filter(|r| r.booking.order_id == order_id)
            .map(|r| r.booking.line_no)
            .collect();
        lines.dedup();
        let bookings = lines
            .iter()
            .filter_map(|&l| plan.schedule.order(&crate::live::line_id(&order_id, l)))
            .flat_map(|p| crate::live::booking_rows(&plan.clock, &p))
            .collect();
        if let Some(order) = store.order(&brand.id, &order_id).await? {
            repromises.push(kiln_store::Repromise {
                order_id,
                promised_date: order.promised_date,
                bookings,
                event: None,
            });
        }
    }
    tracing::info!(
        "{}: {} orders re-placed on the live schedule",
        brand.slug,
        repromises.len()
    );
    store.record_replan(&brand.id, None, &repromises).await?;
    Ok(())
}

fn corrupt(what: &str, value: &str) -> ApiError {
    ApiError::Internal(format!("stored {what} `{value}` does not parse"))
}

pub fn decimal(s: &str) -> ApiResult<Decimal> {
    s.parse().map_err(|_| corrupt("decimal", s))
}

/// Brand runtimes by slug, loaded on first use.
#[derive(Default)]
pub struct Runtimes {
    by_slug: RwLock<HashMap<String, Arc<BrandRuntime>>>,
}

impl Runtimes {
    pub async fn get(&self, store: &dyn Store, slug: &str) -> ApiResult<Arc<BrandRuntime>> {
        if let Some(rt) = self.by_slug.read().await.get(slug) {
            return Ok(rt.clone());
        }
        let mut map = self.by_slug.write().await;
        if let Some(rt) = map.get(slug) {
            return Ok(rt.clone());
        }
        let brand = store
            .brand_by_slug(slug)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no brand `{slug}`")))?;
        let rt = Arc::new(BrandRuntime::load(store, brand).await?);
        map.insert(slug.to_string(), rt.clone());
        Ok(rt)
    }
}
