//! Group commit for orders: placements queue here in the order they were
//! planned, and one task writes whatever has queued up in one transaction.
//! Under load many orders share a commit; alone, an order is written at once.

use std::sync::Arc;

use kiln_store::{NewOrder, Placed, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

type Ack = oneshot::Sender<Result<Placed, StoreError>>;

/// Most orders written in one transaction.
const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub struct OrderWriter {
    queue: mpsc::UnboundedSender<(NewOrder, Ack)>,
}

impl OrderWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Arc<dyn Store>) -> OrderWriter {
        let (queue, mut rx) = mpsc::unbounded_channel::<(NewOrder, Ack)>();
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (orders, acks): (Vec<NewOrder>, Vec<Ack>) = batch.drain(..).unzip();
                let results = store.place_orders(&orders).await;
                for (ack, result) in acks.into_iter().zip(results) {
                    // The request may have gone away; the order stands anyway.
                    let _ = ack.send(result);
                }
            }
        });
        OrderWriter { queue }
    }

    /// Queues an order. Synchronous, so a caller holding the brand's plan
    /// lock queues orders in exactly the order it planned them.
    pub fn enqueue(&self, order: NewOrder) -> oneshot::Receiver<Result<Placed, StoreError>> {
        let (ack, done) = oneshot::channel();
        if let Err(mpsc::error::SendError((_, ack))) = self.queue.send((order, ack)) {
            let _ = ack.send(Err(StoreError::Conflict(
                "the order writer has stopped".into(),
            )));
        }
        done
    }
}
