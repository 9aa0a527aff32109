//! Group commit for orders: placements queue here in the order they were
//! planned, and one task writes whatever has queued up in one transaction.
//! Under load many orders share a commit; alone, an order is written at once.
//! After a commit that wrote events, the webhook worker is woken.

use std::sync::Arc;

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

enum Job {
    Order(Box<NewOrder>, Ack),
    /// Answered once every order queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// Most orders written in one transaction.
const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub struct OrderWriter {
    queue: mpsc::UnboundedSender<Job>,
}

impl OrderWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Arc<dyn Store>, outbox: Arc<Notify>) -> OrderWriter {
        let (queue, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            let mut orders = Vec::new();
            let mut acks = Vec::new();
            let mut flushed = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut next = Some(first);
                while let Some(job) = next.take() {
                    match job {
                        Job::Order(order, ack) => {
                            orders.push(*order);
                            acks.push(ack);
                        }
                        Job::Flush(done) => flushed.push(done),
                    }
                    if orders.len() < MAX_BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !orders.is_empty() {
                    let results = store.place_orders(&orders).await;
                    // Every order written reports itself: wake the deliveries.
                    outbox.notify_one();
                    orders.clear();
                    for (ack, result) in acks.drain(..).zip(results) {
                        // The request may have gone away; the order stands anyway.
                        let _ = ack.send(result.map_err(WriteError::from));
                    }
                }
                // Flushes queued after orders of this batch are answered
                // after its commit, so they never overtake an order.
                for done in flushed.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        OrderWriter { queue }
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

    /// Waits until every order queued so far is written (or has failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Job::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}
