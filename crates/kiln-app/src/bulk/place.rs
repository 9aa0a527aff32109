//! Placing an accepted bulk quote as one order, without holding up the
//! single orders placed meanwhile.
//!
//! An order of ten thousand lines takes about a second to plot. Under one
//! hold of the brand's plan lock, every order placed meanwhile would wait
//! that long. So the bulk order is plotted in steps of [`STEP`] lines,
//! letting go of the lock between them (the lock is fair: orders that
//! queued for it go first):
//!
//! 1. the first step, taken only when no replan is running
//!    ([`BrandRuntime::plan_settled`]), takes the material of every line and
//!    marks the plan `bulk_in_steps`, so no replan, re-sequencing or publish
//!    starts until the order is queued for the store;
//! 2. each step places the next lines on the machines; the work orders
//!    they open stay the order's own (an order placed meanwhile must not
//!    join a batch the store does not have yet);
//! 3. the last step reads the order's bookings, and its neighbours', from
//!    the schedule as it then stands (an order placed between steps may
//!    have changed a setup), queues the order for the writer and settles
//!    the plan.
//!
//! If a step fails, or the request goes away part-way, the lines placed so
//! far are taken back out ([`Steps`]' drop) and the plan settles.

use std::sync::Arc;

use kiln_domain::{Order, OrderId};

use super::BulkPlacing;
use crate::error::Result;
use crate::flow::{PlanChange, Plotting};
use crate::logistics::ShipTo;
use crate::orders::{new_order, replay};
use crate::runtime::{BrandRuntime, PlanState};
use crate::{App, time};

/// Lines plotted per hold of the plan lock: about 15 ms of work, the
/// longest a single order waits for a bulk order.
pub const STEP: usize = 200;

/// A bulk order part-way plotted. Dropped before [`Steps::done`] (a step
/// failed, or the request went away), it takes its lines back out of the
/// plan and settles it.
struct Steps {
    rt: Arc<BrandRuntime>,
    store: Arc<dyn kiln_store::Store>,
    writer: crate::writer::OrderWriter,
    change: Option<PlanChange>,
}

impl Steps {
    /// The order is queued for the store: nothing to take back.
    fn done(mut self) -> Option<PlanChange> {
        self.change.take()
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        let Some(change) = self.change.take() else {
            return;
        };
        let (rt, store, writer) = (self.rt.clone(), self.store.clone(), self.writer.clone());
        // Drop cannot wait for the lock: a task takes the lines back out.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let mut plan = rt.plan.lock().await;
            let moved = change.undo(&mut plan);
            rt.settle(&mut plan);
            drop(plan);
            crate::orders::rebook_around(store.as_ref(), &writer, &rt, &moved).await;
        });
    }
}

impl App {
    /// Places an accepted quote's lines as one order at the quote's prices,
    /// plotted in steps (see the module's doc); or returns the order this
    /// idempotency key placed before.
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
            let lines = placing.priced(&rt)?;
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
            };
            let started = Plotting::start(&rt, &mut plan, &order_id, 1, &lines, today, true);
            let mut plotting = match started {
                Ok(p) => p,
                Err(e) => {
                    // Nothing was taken: the plan settles as it was.
                    rt.settle(&mut plan);
                    steps.change = None;
                    return Err(e);
                }
            };
            let ship_to = ShipTo::Address(&who.ship_to);
            for (i, chunk) in lines.chunks(STEP).enumerate() {
                if i > 0 {
                    // The step's work is in `plotting.change`, which the
                    // guard takes back out if the request goes away here.
                    steps.change = Some(std::mem::take(&mut plotting.change));
                    drop(plan);
                    tokio::task::yield_now().await;
                    plan = rt.plan.lock().await;
                    plotting.change = steps.change.take().unwrap_or_default();
                }
                if let Err(e) = plotting.place(&rt, &mut plan, chunk, ship_to) {
                    return Err(self.give_up(&rt, plan, steps, plotting, e).await);
                }
            }
            let plotted = match plotting.finish(&rt, &mut plan) {
                Ok(p) => p,
                Err(e) => return Err(self.give_up(&rt, plan, steps, plotting, e).await),
            };
            let order = new_order(
                &rt,
                who,
                order_id,
                (Some(key.clone()), request_hash.clone()),
                currency,
                created_at,
                plotted,
            );
            let written = self.orders.enqueue(order.clone());
            // Queued: a replan waiting for the plan flushes the writer first.
            rt.settle(&mut plan);
            let _ = steps.done();
            drop(plan);
            return self
                .committed(
                    &rt,
                    written,
                    order,
                    plotting.change,
                    Some(&key),
                    &request_hash,
                )
                .await;
        }
        Err(crate::Error::Unavailable {
            what: "the brand's plan (its catalog was being published)",
            source: None,
        })
    }

    /// A step failed: the lines placed so far come back out, the plan
    /// settles, and `e` is the answer.
    async fn give_up(
        &self,
        rt: &BrandRuntime,
        mut plan: tokio::sync::MutexGuard<'_, PlanState>,
        steps: Steps,
        mut plotting: Plotting,
        e: crate::Error,
    ) -> crate::Error {
        let _ = steps.done();
        rt.settle(&mut plan);
        let change = std::mem::take(&mut plotting.change);
        self.take_back(rt, plan, change).await;
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
        let mut plan = rt.plan.lock().await;
        let bulk_lines = vec![line(), line()];
        let bulk = OrderId::new();
        let mut plotting =
            Plotting::start(&rt, &mut plan, &bulk, 1, &bulk_lines, today, true).unwrap();
        plotting
            .place(&rt, &mut plan, &bulk_lines[..1], ShipTo::Estimate)
            .unwrap();
        // Between the steps.
        let (single, _) = flow::plan_order(
            &rt,
            &mut plan,
            &OrderId::new(),
            &[line()],
            ShipTo::Estimate,
            today,
        )
        .unwrap();
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
        let (later, _) = flow::plan_order(
            &rt,
            &mut plan,
            &OrderId::new(),
            &[line()],
            ShipTo::Estimate,
            today,
        )
        .unwrap();
        assert!(
            matches!(later.work_orders[..], [WorkOrderWrite::AddQuantity { .. }]),
            "later orders join a batch again"
        );
    }
}
