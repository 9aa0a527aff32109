//! Placing an accepted bulk quote as one order, without holding up the
//! single orders placed meanwhile.
//!
//! An order of ten thousand lines takes about a second to plot and half a
//! second to write. Under one hold of the brand's plan lock, or in one
//! transaction of the store's single writer, every order placed meanwhile
//! would wait that long. So the bulk order is plotted in steps of
//! [`PLOT_STEP`] lines, letting go of the lock between them (the lock is fair: orders
//! that queued for it go first), and written ahead in chunks:
//!
//! 1. the first step, taken only when no replan is running
//!    ([`BrandRuntime::plan_settled`]), takes the material of every line and
//!    marks the plan `bulk_in_steps`, so no replan, re-sequencing or publish
//!    starts until the order is queued for the store;
//! 2. each step places the next lines on the machines; the work orders
//!    they open stay the order's own (an order placed meanwhile must not
//!    join a batch the store does not have yet);
//! 3. the lines are then written ahead in chunks of [`CHUNK`], each queued
//!    for the writer with its bookings as the schedule then stands (an
//!    order placed meanwhile may have moved a setup: its own write, queued
//!    after the chunk, updates the row) and the new work orders its lines
//!    are the first of, and waited for before the next, so orders placed
//!    meanwhile are written between the chunks; while single orders come
//!    in, the next chunk also waits as long as the last one took
//!    ([`YIELD`]), so the bulk order takes at most about half of the
//!    store's one writer; the lines are also written as JSON for the
//!    order's event, off the writer;
//! 4. the last step reads the neighbours' rows, gives the order's batches
//!    to the plan, queues the order (whose transaction checks every chunk
//!    is there and makes the rows its own) and settles the plan.
//!
//! So the order's own transaction writes little more than a single order's
//! (its head, its material requirements, its event). With a SKU per row,
//! 10,000 lines open about as many work orders: written in that
//! transaction with their operations and the event's 4 MB serialized there,
//! it took 250 to 280 ms, and single orders at a steady 1,000/s kept 0.91x
//! to 0.92x of their rate through the acceptance (p99 190 to 270 ms); with
//! both written ahead it takes about 46 ms, and they keep 0.97x to 0.99x
//! (p99 56 to 66 ms; `kiln bench bulk --rows 10000 --rate 1000`).
//!
//! If a step or a chunk fails, or the request goes away part-way, the lines
//! placed so far are taken back out, the rows written ahead are deleted
//! ([`Steps`]' drop) and the plan settles. Rows of a server stopped
//! part-way are swept before the brand's plan is next rebuilt.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_domain::{
    BookingRow, LineRef, NewOrder, Order, OrderId, OrderLine, Staged, WorkOrderId, WorkOrderWrite,
};

use super::BulkPlacing;
use crate::error::Result;
use crate::flow::{PlanChange, Plotting};
use crate::logistics::ShipTo;
use crate::orders::{new_order, replay};
use crate::runtime::{BrandRuntime, PlanState};
use crate::writer::{Chunk, OrderWriter};
use crate::{App, time};

/// Lines written ahead per transaction (about 250 bookings, 2 to 3 ms of
/// the writer). With 8 clients placing single orders through a 10,000-line
/// acceptance, chunks of 200 kept them to 0.46–0.60x of their rate alone
/// (p99 110–130 ms), chunks of 50 to 0.60–0.82x (p99 40–60 ms); chunks of 20
/// and 10 gave no more than 0.84–0.87x while they were written, and made the
/// acceptance take 3.9 and over 5 s.
pub const CHUNK: usize = 50;

/// Lines plotted per hold of the plan lock: about 0.3 ms of work, the
/// longest a single order waits for a bulk order there. So short a step
/// runs on the async worker itself: handing the worker's other tasks to a
/// new one first (`cpu::work`) costs more than the step. Steps of 50 lines
/// through `cpu::work` (3 to 4 ms each) let single orders place ~1,890/s
/// while the order was plotted, these ~2,190/s (8 clients, 2,750–3,000/s
/// alone; three runs each, alternated).
pub const PLOT_STEP: usize = 4;

/// While single orders come in, a bulk order writing ahead waits this many
/// times as long as its last chunk took before it queues the next: the
/// store has one writer, and the bulk order takes at most about half of it
/// (`1 / (1 + YIELD)`), stretching its acceptance instead of the single
/// orders' waits.
const YIELD: f64 = 1.0;

/// The longest a bulk order waits between two chunks, and in all: its
/// acceptance is given at most this much longer for the single orders.
const MAX_PAUSE: Duration = Duration::from_millis(25);
const PAUSES: Duration = Duration::from_millis(1000);

/// A bulk order part-way plotted. Dropped before [`Steps::done`] (a step
/// failed, or the request went away), it takes its lines back out of the
/// plan, deletes what was written ahead of it and settles the plan.
struct Steps {
    rt: Arc<BrandRuntime>,
    store: Arc<dyn kiln_store::Store>,
    writer: OrderWriter,
    change: Option<PlanChange>,
    /// Set once rows may have been written ahead of the order.
    staged: Option<OrderId>,
    /// The order is queued, or the caller took back what was done: the
    /// drop has nothing to do. Until then it at least settles the plan,
    /// even with the change out of its hands (a panic mid-step).
    finished: bool,
}

impl Steps {
    /// The order is queued for the store, or the caller took back what
    /// was done: nothing left to do.
    fn done(mut self) -> Option<PlanChange> {
        self.finished = true;
        self.change.take()
    }

    /// The work done so far goes into the guard's hands while the plan
    /// lock is let go...
    fn keep(&mut self, plotting: &mut Plotting) {
        self.change = Some(std::mem::take(&mut plotting.change));
    }

    /// ...and back once it is taken again.
    fn hand_back(&mut self, plotting: &mut Plotting) {
        plotting.change = self.change.take().unwrap_or_default();
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let change = self.change.take();
        let staged = self.staged.take();
        let (rt, store, writer) = (self.rt.clone(), self.store.clone(), self.writer.clone());
        // Drop cannot wait for the lock: a task takes the lines back out.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let mut plan = rt.plan.lock().await;
            let moved = match change {
                // A plan rebuilt meanwhile has none of it, and its stored
                // rows are the store's: nothing to take back.
                Some(change) if !plan.retired => change.undo(&mut plan),
                _ => Vec::new(),
            };
            rt.settle(&mut plan);
            let rebooked = crate::orders::queue_rebook(
                &writer,
                &rt,
                moved,
                "setups after an order taken back out",
            );
            drop(plan);
            rebooked.await;
            if let Some(order) = staged {
                discard(store.as_ref(), &writer, &rt, &order).await;
            }
        });
    }
}

/// The brand's plan was rebuilt from the store part-way (a write that
/// failed elsewhere): this one is stale, and the order is not placed.
fn rebuilt() -> crate::Error {
    crate::Error::Unavailable {
        what: "the brand's plan (it was rebuilt while the order was placed)",
        source: None,
    }
}

/// Deletes the rows written ahead of an order that will not be written,
/// once the chunks still queued are written. If that fails they stay until
/// the brand's plan is next rebuilt, unseen meanwhile.
async fn discard(
    store: &dyn kiln_store::Store,
    writer: &OrderWriter,
    rt: &BrandRuntime,
    order: &OrderId,
) {
    writer.flush().await;
    if let Err(e) = store.discard_staged(&rt.brand.id, Some(order)).await {
        tracing::warn!(error = %crate::Error::from(e).chain(), "{}: rows written ahead of order {order} left for the next rebuild", rt.brand.slug);
    }
}

/// The current rows of `lines` of `order` on the schedule.
fn current_rows(plan: &PlanState, order: &OrderId, lines: &[OrderLine]) -> Vec<BookingRow> {
    lines
        .iter()
        .filter_map(|l| plan.schedule.order(&LineRef::new(order.clone(), l.line_no)))
        .flat_map(|placed| plan.rows_of(&placed))
        .collect()
}

impl App {
    /// Places an accepted quote's lines as one order at the quote's prices,
    /// plotted in steps and written ahead in chunks (see the module's doc);
    /// or returns the order this idempotency key placed before.
    pub(crate) async fn place_bulk(
        &self,
        slug: &str,
        key: String,
        request_hash: String,
        placing: &BulkPlacing<'_>,
    ) -> Result<Order> {
        for _ in 0..3 {
            let rt = self.brand(slug).await?;
            if let Some(existing) = self
                .store
                .order_by_idempotency_key(&rt.brand.id, &key)
                .await?
            {
                return replay(existing, &request_hash);
            }
            let lines = crate::cpu::work(|| placing.priced(&rt))?;
            let who = placing.who();
            let currency = lines[0].configurator.product().currency.clone();
            let order_id = OrderId::new();
            let created_at = time::now();
            let today = time::today();
            let mut plan = rt.plan_settled().await;
            if plan.retired {
                continue;
            }
            plan.bulk_in_steps = true;
            let mut steps = Steps {
                rt: rt.clone(),
                store: self.store.clone(),
                writer: self.orders.clone(),
                change: Some(PlanChange::default()),
                staged: None,
                finished: false,
            };
            let started = Plotting::start(&rt, &mut plan, &order_id, 1, &lines, today, true);
            let mut plotting = match started {
                Ok(p) => p,
                Err(e) => {
                    // Nothing was taken: the plan settles as it was.
                    rt.settle(&mut plan);
                    let _ = steps.done();
                    return Err(e);
                }
            };
            let ship_to = ShipTo::Address(&who.ship_to);
            for (i, chunk) in lines.chunks(PLOT_STEP).enumerate() {
                if i > 0 {
                    // The guard takes the work back out if the request
                    // goes away here.
                    steps.keep(&mut plotting);
                    drop(plan);
                    tokio::task::yield_now().await;
                    plan = rt.plan.lock().await;
                    steps.hand_back(&mut plotting);
                    if plan.retired {
                        return Err(self.give_up(&rt, plan, steps, plotting, rebuilt()).await);
                    }
                }
                if let Err(e) = plotting.place(&rt, &mut plan, chunk, ship_to) {
                    // The line that failed is the next after those placed.
                    let row = placing.quote.lines.get(plotting.placed()).map(|l| l.row);
                    let e = match (e, row) {
                        (crate::Error::Conflict(m), Some(row)) => crate::Error::Conflict(format!(
                            "row {row} of the quote: {m}; the factory's schedule filled up since \
                             the quote: upload the file again for a new quote"
                        )),
                        (e, _) => e,
                    };
                    return Err(self.give_up(&rt, plan, steps, plotting, e).await);
                }
            }
            let mut plotted = match crate::cpu::work(|| plotting.finish(&rt, &mut plan)) {
                Ok(p) => p,
                Err(e) => return Err(self.give_up(&rt, plan, steps, plotting, e).await),
            };
            steps.keep(&mut plotting);
            drop(plan);
            // The carriers' charge needs no plan: worked out off the lock.
            match crate::cpu::work(|| plotting.charge(&rt)) {
                Ok(charge) => plotted.carrier_shipping = charge,
                Err(e) => {
                    let plan = rt.plan.lock().await;
                    steps.hand_back(&mut plotting);
                    return Err(self.give_up(&rt, plan, steps, plotting, e).await);
                }
            }
            let mut order = new_order(
                &rt,
                who,
                order_id.clone(),
                (Some(key.clone()), request_hash.clone()),
                currency,
                created_at,
                plotted,
            );
            steps.staged = Some(order_id.clone());
            // The copy for the writer is made off the lock (tens of
            // milliseconds for 10,000 lines); the work orders written ahead
            // leave it.
            let mut queued = order.clone();
            let written_ahead = self.write_ahead(&rt, &mut queued).await;
            let mut plan = rt.plan.lock().await;
            steps.hand_back(&mut plotting);
            let staged = match written_ahead {
                Ok(staged) if !plan.retired => staged,
                Ok(_) => return Err(self.give_up(&rt, plan, steps, plotting, rebuilt()).await),
                Err(e) => return Err(self.give_up(&rt, plan, steps, plotting, e).await),
            };
            queued.rebooked = plotting.claim(&mut plan);
            queued.staged = Some(staged.clone());
            let rebooked = queued.rebooked.clone();
            let written = self.orders.enqueue(queued);
            // Queued: a replan waiting for the plan flushes the writer first.
            rt.settle(&mut plan);
            let _ = steps.done();
            drop(plan);
            order.rebooked = rebooked;
            order.staged = Some(staged);
            let placed = self
                .committed(
                    &rt,
                    written,
                    order,
                    plotting.change,
                    Some(&key),
                    &request_hash,
                )
                .await;
            // Not written (another request with the key may have won):
            // what was written ahead of it goes.
            if !placed.as_ref().is_ok_and(|o| o.id == order_id) {
                discard(self.store.as_ref(), &self.orders, &rt, &order_id).await;
            }
            return placed;
        }
        Err(crate::Error::Unavailable {
            what: "the brand's plan (its catalog was being published)",
            source: None,
        })
    }

    /// Writes `order`'s lines ahead, [`CHUNK`] at a time, each chunk with
    /// its bookings as the schedule stands when it is queued and the new
    /// work orders its lines are the first of (taken out of `order`),
    /// waiting for each before the next. Returns how many rows were
    /// written.
    async fn write_ahead(&self, rt: &BrandRuntime, order: &mut NewOrder) -> Result<Staged> {
        let mut staged = Staged {
            lines: 0,
            bookings: 0,
            work_orders: 0,
            // Not written yet, but the lines are what the order's event
            // carries: written as JSON here rather than by the writer,
            // which every order waits for. Should that fail, the writer
            // writes them.
            lines_json: crate::cpu::work(|| {
                serde_json::value::to_raw_value(&order.lines)
                    .ok()
                    .map(Arc::from)
            }),
        };
        // The new work orders by id; the rest stay for the order's write.
        let mut created: HashMap<WorkOrderId, WorkOrderWrite> = HashMap::new();
        let mut rest = Vec::new();
        for w in std::mem::take(&mut order.work_orders) {
            match w {
                WorkOrderWrite::Create { ref id, .. } => {
                    created.insert(id.clone(), w);
                }
                WorkOrderWrite::AddQuantity { .. } => rest.push(w),
            }
        }
        let mut paused = Duration::ZERO;
        let chunks = order.lines.len().div_ceil(CHUNK);
        for (i, chunk) in order.lines.chunks(CHUNK).enumerate() {
            let queued = Instant::now();
            let orders_before = self.orders.orders_written();
            let plan = rt.plan.lock().await;
            if plan.retired {
                return Err(rebuilt());
            }
            let bookings = current_rows(&plan, &order.id, chunk);
            let work_orders: Vec<WorkOrderWrite> = chunk
                .iter()
                .filter_map(|l| created.remove(&l.work_order_id))
                .collect();
            staged.lines += chunk.len() as u64;
            staged.bookings += bookings.len() as u64;
            staged.work_orders += work_orders.len() as u64;
            let written = self.orders.stage(Chunk {
                brand: rt.brand.id.clone(),
                order: order.id.clone(),
                lines: chunk.to_vec(),
                bookings,
                work_orders,
                created_at: order.created_at,
            });
            drop(plan);
            written.await?;
            // Single orders came in meanwhile: they share the one writer,
            // so the next chunk waits as long as this one took, and their
            // batches go first (see `YIELD`).
            let last = i + 1 == chunks;
            if !last && self.orders.orders_written() != orders_before && paused < PAUSES {
                let pause = queued
                    .elapsed()
                    .mul_f64(YIELD)
                    .min(MAX_PAUSE)
                    .min(PAUSES - paused);
                paused += pause;
                tokio::time::sleep(pause).await;
            }
        }
        // A work order none of the lines is in (there is none) is written
        // with the order, as before.
        rest.extend(created.into_values());
        order.work_orders = rest;
        Ok(staged)
    }

    /// A step failed: the lines placed so far come back out, the rows
    /// written ahead are deleted, the plan settles, and `e` is the answer.
    async fn give_up(
        &self,
        rt: &BrandRuntime,
        mut plan: tokio::sync::MutexGuard<'_, PlanState>,
        mut steps: Steps,
        mut plotting: Plotting,
        e: crate::Error,
    ) -> crate::Error {
        let staged = steps.staged.take();
        let _ = steps.done();
        rt.settle(&mut plan);
        let change = std::mem::take(&mut plotting.change);
        if plan.retired {
            // Rebuilt from the store, which never had the order.
            drop(plan);
        } else {
            self.take_back(rt, plan, change).await;
        }
        if let Some(order) = staged {
            discard(self.store.as_ref(), &self.orders, rt, &order).await;
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use kiln_configure::Selections;
    use kiln_domain::{OrderId, WorkOrderWrite};

    use crate::flow::{self, Plotting, PricedLine};
    use crate::logistics::ShipTo;

    /// A single order placed between two steps of a bulk order never joins
    /// a batch the bulk order opened (not stored yet); once the bulk order
    /// is finished, later orders do.
    #[tokio::test]
    async fn an_order_between_steps_opens_its_own_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            std::sync::Arc::new(kiln_store::SqliteStore::open_dir(dir.path()).await.unwrap());
        let app = crate::App::new(store, crate::Config::default());
        app.seed_demo().await.unwrap();
        let rt = app.brand("demo").await.unwrap();
        let shirt = rt.product("shirt").unwrap();
        let mut m = Selections::new();
        m.insert("size".into(), "M".into());
        let line = || PricedLine {
            configurator: shirt,
            outcome: shirt.configure_unexplained(&m).unwrap(),
            quantity: 1,
            recipient: None,
        };
        let today = crate::time::today();
        // A single order of one shirt, planned at once.
        let single_order = |plan: &mut crate::runtime::PlanState| {
            let (plotted, _) = flow::plan_order(
                &rt,
                plan,
                &OrderId::new(),
                &[line()],
                ShipTo::Estimate,
                today,
            )
            .unwrap();
            plotted
        };
        let mut plan = rt.plan.lock().await;
        let bulk_lines = vec![line(), line()];
        let bulk = OrderId::new();
        let mut plotting =
            Plotting::start(&rt, &mut plan, &bulk, 1, &bulk_lines, today, true).unwrap();
        plotting
            .place(&rt, &mut plan, &bulk_lines[..1], ShipTo::Estimate)
            .unwrap();
        // Between the steps.
        let single = single_order(&mut plan);
        assert!(
            matches!(single.work_orders[..], [WorkOrderWrite::Create { .. }]),
            "the single order opens its own batch"
        );
        plotting
            .place(&rt, &mut plan, &bulk_lines[1..], ShipTo::Estimate)
            .unwrap();
        let plotted = plotting.finish(&rt, &mut plan).unwrap();
        assert!(
            matches!(
                plotted.work_orders[..],
                [WorkOrderWrite::Create { quantity: 2, .. }]
            ),
            "the bulk order's lines share one batch of its own"
        );
        // An order placed after its last step, while it is written ahead,
        // still opens its own.
        let meanwhile = single_order(&mut plan);
        let WorkOrderWrite::Create { id: bulk_batch, .. } = &plotted.work_orders[0] else {
            unreachable!("checked above")
        };
        let joined = |w: &WorkOrderWrite| match w {
            WorkOrderWrite::Create { id, .. } | WorkOrderWrite::AddQuantity { id, .. } => {
                id == bulk_batch
            }
        };
        assert!(
            !meanwhile.work_orders.iter().any(joined),
            "an order placed while the bulk order is written ahead never joins its batch"
        );
        plotting.claim(&mut plan);
        let later = single_order(&mut plan);
        assert!(
            matches!(later.work_orders[..], [WorkOrderWrite::AddQuantity { .. }]),
            "later orders join a batch again"
        );
    }
}
