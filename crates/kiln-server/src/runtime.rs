//! What the server keeps in memory per brand: the compiled catalog, and the
//! planning state (capacity ledger, material positions, planned work orders)
//! that every order placement reads and extends. It is rebuilt from the store
//! at first use, so a restarted server carries on where it stopped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kiln_configure::Configurator;
use kiln_model::Factory;
use kiln_plan::{CapacityLedger, WorkCenterCalendar};
use kiln_store::{Brand, Store};
use rust_decimal::Decimal;
use tokio::sync::{Mutex, RwLock};

use crate::error::{ApiError, ApiResult};

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
#[derive(Clone, Default)]
pub struct PlanState {
    /// The catalog's calendars minus recorded downtime: what promises use.
    pub calendars: Vec<WorkCenterCalendar>,
    /// Bumped when a replan rebuilds the ledger, so an order placed on the
    /// old ledger knows not to take its bookings back out of the new one.
    pub generation: u64,
    pub ledger: CapacityLedger,
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
        let mut plan = PlanState {
            calendars: catalog.calendars.clone(),
            ..PlanState::default()
        };
        for d in store.downtimes(&brand.id).await? {
            let down = kiln_plan::Downtime {
                from: d
                    .from_day
                    .parse()
                    .map_err(|_| corrupt("downtime day", &d.from_day))?,
                to: d
                    .to_day
                    .parse()
                    .map_err(|_| corrupt("downtime day", &d.to_day))?,
            };
            if let Some(c) = plan.calendars.iter_mut().find(|c| c.id == d.work_center) {
                c.down.push(down);
            }
        }
        for b in store.bookings(&brand.id).await? {
            let day = b.day.parse().map_err(|_| corrupt("booking day", &b.day))?;
            plan.ledger
                .book(&b.work_center, day, b.minutes.max(0) as u64);
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
