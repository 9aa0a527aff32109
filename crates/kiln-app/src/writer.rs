//! Group commit for orders: placements queue here in the order they were
//! planned, and one task writes whatever has queued up in one transaction.
//! Under load many orders share a commit; alone, an order is written at once.
//! After a commit that wrote events, the webhook worker is woken.
//!
//! A bulk order's lines, bookings and new work orders come ahead of it as chunks
//! ([`OrderWriter::stage`]), each written in its own transaction in its place
//! in the queue, so orders placed meanwhile are written between them instead
//! of waiting for one long transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kiln_domain::{BookingRow, BrandId, OrderId, OrderLine, Timestamp, WorkOrderWrite};
use kiln_store::{NewOrder, Placed, Store, StoreError};
use tokio::sync::{Notify, mpsc, oneshot};

/// Why an order was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The writer task is gone (it panicked, or the runtime is shutting down).
    #[error("the order writer has stopped")]
    Stopped,
}

type Ack = oneshot::Sender<Result<Placed, WriteError>>;

/// Some of an order's lines and bookings, and the new work orders they
/// are the first lines of, written ahead of it.
pub struct Chunk {
    pub brand: BrandId,
    pub order: OrderId,
    pub lines: Vec<OrderLine>,
    pub bookings: Vec<BookingRow>,
    pub work_orders: Vec<WorkOrderWrite>,
    /// The order's: its work orders are created with it.
    pub created_at: Timestamp,
}

/// A write of its own between the orders queued before and after it.
enum Side {
    /// Some of a bulk order's rows, written ahead of it.
    Stage(Box<Chunk>),
    /// Booked operations moved in place: their setups changed when an
    /// order was taken back out of the plan, or an operation started or
    /// was completed before its slot.
    Rebook(BrandId, Vec<BookingRow>),
}

type SideAck = oneshot::Sender<Result<(), WriteError>>;

enum Job {
    Order(Box<NewOrder>, Ack),
    Side(Side, SideAck),
    /// Answered once every order queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// Most orders written in one transaction.
const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub struct OrderWriter {
    queue: mpsc::UnboundedSender<Job>,
    /// Orders written so far (or failed): how a bulk order writing ahead
    /// sees that single orders are coming in, and makes room for them.
    written: Arc<AtomicU64>,
}

impl OrderWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Arc<dyn Store>, outbox: Arc<Notify>) -> OrderWriter {
        let (queue, mut rx) = mpsc::unbounded_channel::<Job>();
        let written = Arc::new(AtomicU64::new(0));
        let count = written.clone();
        tokio::spawn(async move {
            let mut orders = Vec::new();
            let mut acks = Vec::new();
            let mut flushed = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut next = Some(first);
                let mut side = None;
                while let Some(job) = next.take() {
                    match job {
                        Job::Order(order, ack) => {
                            orders.push(*order);
                            acks.push(ack);
                        }
                        Job::Flush(done) => flushed.push(done),
                        // Written after the orders queued before it, and
                        // before any queued after it.
                        Job::Side(write, ack) => {
                            side = Some((write, ack));
                            break;
                        }
                    }
                    if orders.len() < MAX_BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !orders.is_empty() {
                    let started = std::time::Instant::now();
                    let results = store.place_orders(&orders).await;
                    metrics::histogram!("kiln_order_batch_orders").record(orders.len() as f64);
                    metrics::histogram!("kiln_order_batch_seconds")
                        .record(started.elapsed().as_secs_f64());
                    count.fetch_add(orders.len() as u64, Ordering::Relaxed);
                    // Every order written reports itself: wake the deliveries.
                    outbox.notify_one();
                    orders.clear();
                    for (ack, result) in acks.drain(..).zip(results) {
                        // The request may have gone away; the order stands anyway.
                        let _ = ack.send(result.map_err(WriteError::from));
                    }
                }
                if let Some((write, ack)) = side {
                    let written = match write {
                        Side::Stage(c) => {
                            store
                                .stage_order_rows(
                                    &c.brand,
                                    &c.order,
                                    &c.lines,
                                    &c.bookings,
                                    &c.work_orders,
                                    c.created_at,
                                )
                                .await
                        }
                        Side::Rebook(brand, rows) => store.rebook(&brand, &rows).await,
                    };
                    let _ = ack.send(written.map_err(WriteError::from));
                }
                // Flushes queued after orders of this batch are answered
                // after its commit, so they never overtake an order.
                for done in flushed.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        OrderWriter { queue, written }
    }

    /// How many orders the writer has written (or failed) so far.
    pub fn orders_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Queues an order. Synchronous, so a caller holding the brand's plan
    /// lock queues orders in exactly the order it planned them.
    pub fn enqueue(&self, order: NewOrder) -> oneshot::Receiver<Result<Placed, WriteError>> {
        let (ack, done) = oneshot::channel();
        if let Err(mpsc::error::SendError(Job::Order(_, ack))) =
            self.queue.send(Job::Order(Box::new(order), ack))
        {
            let _ = ack.send(Err(WriteError::Stopped));
        }
        done
    }

    /// Queues some of an order's rows, to be written ahead of it.
    /// Synchronous, like [`OrderWriter::enqueue`]: its place in the queue
    /// is where the caller planned it.
    pub fn stage(&self, chunk: Chunk) -> impl Future<Output = Result<(), WriteError>> + use<> {
        self.side(Side::Stage(Box::new(chunk)))
    }

    /// Queues booked operations to move in place. Synchronous, like
    /// [`OrderWriter::enqueue`]: called under the plan lock, the rows land
    /// after the orders planned before and before those planned after.
    pub fn rebook(
        &self,
        brand: BrandId,
        rows: Vec<BookingRow>,
    ) -> impl Future<Output = Result<(), WriteError>> + use<> {
        self.side(Side::Rebook(brand, rows))
    }

    /// Queues `write` now; the future answers once it is written.
    fn side(&self, write: Side) -> impl Future<Output = Result<(), WriteError>> + use<> {
        let (ack, done) = oneshot::channel();
        if let Err(mpsc::error::SendError(Job::Side(_, ack))) =
            self.queue.send(Job::Side(write, ack))
        {
            let _ = ack.send(Err(WriteError::Stopped));
        }
        async move { done.await.unwrap_or(Err(WriteError::Stopped)) }
    }

    /// Waits until every order queued so far is written (or has failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Job::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}
