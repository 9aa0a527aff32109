//! What the platform keeps in memory per brand: the compiled catalog of its
//! latest version, and the live plan (schedule, material positions, open
//! batches) that every order placement reads and extends. It is rebuilt from
//! the store at first use, so a restarted server carries on where it stopped,
//! and rebuilt again when the brand publishes a new catalog version.

mod made_on;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::live::Schedule;
use kiln_configure::Configurator;
use kiln_domain::{Brand, LineRef, WorkOrderId};
use kiln_model::Factory;
use kiln_plan::WorkCenterCalendar;
use kiln_store::Store;
use rust_decimal::Decimal;
use tokio::sync::{Mutex, OnceCell, RwLock};

pub use made_on::MadeOn;

use crate::error::{Error, Result};
use crate::live::Clock;

/// A brand's products of one catalog version, compiled once.
pub struct Catalog {
    /// The catalog version; 0 for a brand that has published none.
    pub version: i64,
    pub products: Vec<Configurator>,
    pub factory: Factory,
    pub calendars: Vec<WorkCenterCalendar>,
}

impl Catalog {
    pub fn product(&self, id: &str) -> Option<&Configurator> {
        self.products.iter().find(|c| c.product().id == id)
    }

    /// Compiles checked model files. CPU work (a large product compiles for
    /// a second): call it off the async workers.
    pub fn compile(version: i64, report: kiln_model::CheckReport) -> Catalog {
        let calendars = report.factory.work_centers.iter().map(calendar).collect();
        Catalog {
            version,
            products: report.products.iter().map(Configurator::new).collect(),
            factory: report.factory,
            calendars,
        }
    }

    /// A catalog from files [`kiln_configure::check_catalog`] passed: its
    /// products are compiled already.
    pub fn checked(version: i64, checked: kiln_configure::CheckedCatalog) -> Catalog {
        let factory = checked.report.factory;
        Catalog {
            version,
            products: checked.products,
            calendars: factory.work_centers.iter().map(calendar).collect(),
            factory,
        }
    }

    /// The models again, as checked, for comparing versions.
    pub fn report(&self) -> kiln_model::CheckReport {
        kiln_model::CheckReport {
            products: self.products.iter().map(|c| c.product().clone()).collect(),
            factory: self.factory.clone(),
            diagnostics: Vec::new(),
        }
    }

    /// A brand before its first publish: no products, no factory.
    pub fn empty() -> Catalog {
        Catalog {
            version: 0,
            products: Vec::new(),
            factory: Factory::default(),
            calendars: Vec::new(),
        }
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
    pub planned: HashMap<String, OpenBatch>,
    /// The multi-level material plan, kept current by net change.
    pub mrp: crate::planning::live_mrp::LiveMrp,
    /// Set when a newer runtime replaced this one (a catalog was published):
    /// whoever waited for this plan's lock must fetch the brand again.
    pub retired: bool,
    /// Set while a bulk order is plotted in steps, the lock let go between
    /// them: its lines are on the schedule but not in the store yet, so
    /// nothing that rewrites other orders' promises may run (see
    /// [`BrandRuntime::plan_settled`]).
    pub bulk_in_steps: bool,
    /// Shipped lines waiting to leave the schedule (see [`PlanState::ship`]).
    pub shipped: Vec<LineRef>,
    /// How many of them stayed at the last retirement.
    pub shipped_staying: usize,
    /// The machines of operations done ahead of plan, which left their
    /// machines (`Schedule::complete_operation_at`), by line, for the
    /// passports issued when the work order is done. Stored with their
    /// bookings ([`PlanState::rows_of`]), so a rebuilt plan has them too;
    /// forgotten when the line ships.
    pub made_on: HashMap<LineRef, Vec<MadeOn>>,
}

/// A planned work order that new lines of its SKU join, with the units it
/// holds, so that a factory's `max_batch_units` can close it when full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenBatch {
    pub id: WorkOrderId,
    pub units: i64,
}

/// Whether a batch of `units` is within the factory's `max_batch_units`
/// (always, without one).
pub fn within_batch_limit(units: i64, limit: Option<u32>) -> bool {
    limit.is_none_or(|limit| units <= i64::from(limit))
}

impl PlanState {
    /// A line of `units` joins the open batch of `sku` if the factory's
    /// `max_batch_units` allows it (or there is none): its work order.
    pub fn join_batch(&mut self, sku: &str, units: i64, limit: Option<u32>) -> Option<WorkOrderId> {
        let batch = self
            .planned
            .get_mut(sku)
            .filter(|b| within_batch_limit(b.units + units, limit))?;
        batch.units += units;
        Some(batch.id.clone())
    }

    /// The open batch that is `work_order`, if it is one.
    pub fn open_batch_mut(&mut self, work_order: &WorkOrderId) -> Option<&mut OpenBatch> {
        self.planned.values_mut().find(|b| &b.id == work_order)
    }

    /// The work order no longer takes new lines (it started, or emptied).
    pub fn close_batch(&mut self, work_order: &WorkOrderId) {
        self.planned.retain(|_, b| &b.id != work_order);
    }

    /// A work order holds `left` units after a line left it or changed: an
    /// open batch follows, and closes once empty.
    pub fn batch_left(&mut self, work_order: &WorkOrderId, left: i64) {
        if left <= 0 {
            self.close_batch(work_order);
        } else if let Some(b) = self.open_batch_mut(work_order) {
            b.units = left;
        }
    }

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

    /// Takes shipped lines off the schedule, as a restart would not restore
    /// them, so that a server's memory holds its open work and not all it
    /// ever made. In batches: each retirement makes a pass over the whole
    /// schedule. A line whose bar planned work after it is set up from
    /// stays until that work starts ([`Schedule::retire`]).
    pub fn ship(&mut self, lines: impl IntoIterator<Item = LineRef>) {
        let start = self.shipped.len();
        self.shipped.extend(lines);
        for line in &self.shipped[start..] {
            self.made_on.remove(line);
        }
        let batch = (self.schedule.order_count() / 16).max(64);
        if self.shipped.len() >= self.shipped_staying + batch {
            self.shipped = self.schedule.retire(&self.shipped);
            self.shipped_staying = self.shipped.len();
        }
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
            .or_insert(Position::ZERO)
    }
}

pub struct BrandRuntime {
    pub brand: Brand,
    pub catalog: Catalog,
    /// Order placements of one brand run one at a time: each reads the plan
    /// the previous one left.
    pub plan: Mutex<PlanState>,
    /// The factory floor's machines as last reported, for the one applier
    /// of the brand's machine events at a time (`crate::floor`).
    pub floor: Mutex<crate::floor::FloorState>,
    /// Woken when a bulk order plotted in steps is queued to be written.
    settled: tokio::sync::Notify,
}

impl BrandRuntime {
    /// The plan's lock, once no bulk order is part-way plotted on it. What
    /// moves other orders' operations and promises (a replan, a
    /// re-sequencing, a publish) takes the plan this way: a bulk order's
    /// lines must be queued for the store before their promises can move.
    /// Placing an order, or reading the plan, takes `plan.lock()` as it is.
    pub async fn plan_settled(&self) -> tokio::sync::MutexGuard<'_, PlanState> {
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            // Registered before the look, so a wake between the two is kept.
            settled.as_mut().enable();
            let plan = self.plan.lock().await;
            if !plan.bulk_in_steps {
                return plan;
            }
            drop(plan);
            settled.await;
        }
    }

    /// Ends a bulk order's steps (queued for the store, or taken back out):
    /// whoever waits in [`BrandRuntime::plan_settled`] goes on.
    pub fn settle(&self, plan: &mut PlanState) {
        plan.bulk_in_steps = false;
        self.settled.notify_waiters();
    }

    pub fn product(&self, id: &str) -> Result<&Configurator> {
        self.catalog
            .product(id)
            .ok_or_else(|| Error::NotFound(format!("no product `{id}` in this brand")))
    }

    /// Loads a brand's latest catalog and rebuilds its plan from the store.
    pub async fn load(store: &dyn Store, brand: Brand) -> Result<BrandRuntime> {
        let catalog = match store.catalog(&brand.id, None).await? {
            None => Catalog::empty(),
            Some((version, files)) => {
                let files: Vec<(String, String)> =
                    files.into_iter().map(|f| (f.name, f.source)).collect();
                let slug = brand.slug.clone();
                compile_off_thread(version.version, files)
                    .await?
                    .map_err(|errors| {
                        let errors: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
                        Error::internal(format!(
                            "stored catalog version {} of {slug} does not check: {}",
                            version.version,
                            errors.join("; ")
                        ))
                    })?
            }
        };
        BrandRuntime::with_catalog(store, brand, catalog).await
    }

    /// The brand's plan rebuilt from the store around `catalog`.
    pub async fn with_catalog(
        store: &dyn Store,
        brand: Brand,
        catalog: Catalog,
    ) -> Result<BrandRuntime> {
        let mut calendars = catalog.calendars.clone();
        let mut down = Vec::new();
        for d in store.downtimes(&brand.id).await? {
            if let Some(c) = calendars.iter_mut().find(|c| c.id == d.work_center) {
                c.down.push(kiln_plan::Downtime {
                    from: d.from_day,
                    to: d.to_day,
                });
            }
            down.push((d.work_center, d.from_day, d.to_day));
        }
        // Rows written ahead of a bulk order never written (the server
        // stopped part-way): unseen, but swept so they never count.
        match store.discard_staged(&brand.id, None).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                "{}: swept the rows written ahead of {n} bulk orders never written",
                brand.slug
            ),
            Err(e) => {
                tracing::warn!(error = %Error::from(e).chain(), "{}: rows written ahead of bulk orders never written not swept yet", brand.slug)
            }
        }
        let rows = store.scheduled_bookings(&brand.id).await?;
        // Machines' own downtime not over yet (a day back covers any clock skew).
        let since = crate::time::now() - jiff::SignedDuration::from_hours(24);
        let broken = store.machine_downtimes(&brand.id, since).await?;
        let (schedule, clock, unplaced) =
            crate::live::rebuild(&catalog, &down, &broken, &rows, crate::time::today()).map_err(
                |e| {
                    Error::internal(format!(
                        "the schedule of {} does not rebuild: {e}",
                        brand.slug
                    ))
                },
            )?;
        let mut plan = PlanState {
            calendars,
            schedule,
            clock,
            materials: BTreeMap::new(),
            planned: HashMap::new(),
            mrp: crate::planning::live_mrp::LiveMrp::empty(crate::time::today()),
            retired: false,
            bulk_in_steps: false,
            shipped: Vec::new(),
            shipped_staying: 0,
            made_on: PlanState::made_on_from(&rows),
        };
        if !unplaced.is_empty() {
            replace_unplaced(store, &brand, &mut plan, &rows, unplaced).await?;
        }
        for m in store.materials(&brand.id).await? {
            let position = Position {
                on_hand: m.on_hand,
                allocated: Decimal::ZERO,
                on_order: Decimal::ZERO,
            };
            plan.materials.insert(m.id, position);
        }
        for (material, qty) in store.stock_moves(&brand.id).await? {
            plan.position(&material).on_hand += qty;
        }
        for r in store.requirements(&brand.id).await? {
            plan.position(&r.material).allocated += r.gross;
        }
        for s in store.suggestions(&brand.id).await? {
            plan.position(&s.material).on_order += s.qty;
        }
        for (sku, id, units) in store
            .planned_work_orders(&brand.id, catalog.version)
            .await?
        {
            // Lines join the batch with the most room (the newest of equals).
            if plan.planned.get(&sku).is_none_or(|b| units <= b.units) {
                plan.planned.insert(sku, OpenBatch { id, units });
            }
        }
        plan.mrp = crate::planning::live_mrp::rebuild(
            store,
            &brand.id,
            &catalog,
            &plan,
            crate::time::today(),
        )
        .await?;
        Ok(BrandRuntime {
            brand,
            catalog,
            plan: Mutex::new(plan),
            floor: Mutex::new(crate::floor::FloorState::default()),
            settled: tokio::sync::Notify::new(),
        })
    }
}

/// Checks and compiles model files on a blocking thread: `Err` lists every
/// model error.
pub async fn compile_off_thread(
    version: i64,
    files: Vec<(String, String)>,
) -> Result<Result<Catalog, Vec<kiln_model::Diagnostic>>> {
    tokio::task::spawn_blocking(move || {
        let report = kiln_model::check(&files);
        if report.diagnostics.is_empty() {
            Ok(Catalog::compile(version, report))
        } else {
            Err(report.diagnostics)
        }
    })
    .await
    .map_err(|e| Error::internal_from("compiling a catalog", e))
}

/// Checks model files as a new catalog version (off the async workers):
/// every error `kiln model check` reports refuses it, including a product
/// whose rules together leave no valid configuration. A stored version is
/// loaded with [`compile_off_thread`], which does not ask the latter again.
pub async fn check_off_thread(
    version: i64,
    files: Vec<(String, String)>,
) -> Result<Result<Catalog, Vec<kiln_model::Diagnostic>>> {
    tokio::task::spawn_blocking(move || {
        let checked = kiln_configure::check_catalog(&files);
        if checked.is_ok() {
            Ok(Catalog::checked(version, checked))
        } else {
            Err(checked.report.diagnostics)
        }
    })
    .await
    .map_err(|e| Error::internal_from("checking a catalog", e))
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
) -> Result<()> {
    plan.tick();
    let mut orders: Vec<kiln_domain::OrderId> = Vec::new();
    for u in unplaced {
        match plan.schedule.place(&u.order) {
            Ok(_) => {
                if !orders.contains(&u.line.order) {
                    orders.push(u.line.order);
                }
            }
            Err(e) => tracing::warn!("{}: {} cannot be placed again: {e}", brand.slug, u.line),
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
            .filter_map(|&l| {
                plan.schedule
                    .order(&kiln_domain::LineRef::new(order_id.clone(), l))
            })
            .flat_map(|p| plan.rows_of(&p))
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

/// Brand runtimes by slug, each loaded once on first use. Loading one brand
/// never holds up another: the map's lock is held only to find or add a
/// brand's cell, never while a catalog compiles or a plan rebuilds.
#[derive(Default)]
pub struct Runtimes {
    by_slug: RwLock<HashMap<String, Arc<OnceCell<Arc<BrandRuntime>>>>>,
}

impl Runtimes {
    pub async fn get(&self, store: &dyn Store, slug: &str) -> Result<Arc<BrandRuntime>> {
        let cell = {
            let read = self.by_slug.read().await;
            read.get(slug).cloned()
        };
        let cell = match cell {
            Some(cell) => cell,
            None => self
                .by_slug
                .write()
                .await
                .entry(slug.to_string())
                .or_default()
                .clone(),
        };
        let rt = cell
            .get_or_try_init(|| async {
                let brand = store
                    .brand_by_slug(slug)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("no brand `{slug}`")))?;
                Ok::<_, Error>(Arc::new(BrandRuntime::load(store, brand).await?))
            })
            .await;
        match rt {
            Ok(rt) => Ok(rt.clone()),
            Err(e) => {
                // A brand that does not exist must not stay in the map.
                if matches!(e, Error::NotFound(_)) {
                    self.by_slug.write().await.remove(slug);
                }
                Err(e)
            }
        }
    }

    /// The brand's runtime if it is loaded, without loading it.
    pub async fn peek(&self, slug: &str) -> Option<Arc<BrandRuntime>> {
        let read = self.by_slug.read().await;
        read.get(slug).and_then(|cell| cell.get().cloned())
    }

    /// Every brand runtime loaded now.
    pub async fn loaded(&self) -> Vec<Arc<BrandRuntime>> {
        let read = self.by_slug.read().await;
        read.values()
            .filter_map(|cell| cell.get().cloned())
            .collect()
    }

    /// Forgets the brands' runtimes (another server took their leases):
    /// whoever waits for one of their plans finds it retired and asks again.
    pub async fn retire(&self, brands: &[kiln_domain::BrandId]) {
        let mut gone = Vec::new();
        {
            let mut map = self.by_slug.write().await;
            map.retain(|_, cell| match cell.get() {
                Some(rt) if brands.contains(&rt.brand.id) => {
                    gone.push(rt.clone());
                    false
                }
                _ => true,
            });
        }
        for rt in gone {
            rt.plan_settled().await.retired = true;
        }
    }

    /// Puts a rebuilt runtime in place of the brand's current one.
    pub async fn replace(&self, slug: &str, rt: Arc<BrandRuntime>) {
        let cell = Arc::new(OnceCell::new_with(Some(rt)));
        self.by_slug.write().await.insert(slug.to_string(), cell);
    }
}
