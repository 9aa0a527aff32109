//! One acceptance at a time per Idempotency-Key.
//!
//! Accepting a 10,000-line quote takes seconds, long enough for a client to
//! time out and send the same request again. Both would plot the whole
//! order and write it ahead, and the second would lose at the order's own
//! write and throw its work away. So a request finds the key's lock here
//! first: a retry waits for the first request to finish, then finds its
//! order by the key and answers with it. If the first failed (or went
//! away), the retry places the order itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

type KeyLock = Arc<tokio::sync::Mutex<()>>;

/// The keys being placed right now, each with its lock.
#[derive(Default)]
pub(crate) struct InFlight {
    keys: Mutex<HashMap<String, KeyLock>>,
}

/// Held while one request places its key's order; the key's entry goes
/// when no one else waits for it.
pub(crate) struct Held<'a> {
    in_flight: &'a InFlight,
    key: String,
    lock: Option<KeyLock>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl InFlight {
    /// Waits until no other request holds `key`, then holds it.
    pub(crate) async fn hold(&self, key: String) -> Held<'_> {
        let lock = {
            let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            // Entries of requests that went away while waiting.
            keys.retain(|_, l| Arc::strong_count(l) > 1);
            keys.entry(key.clone()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        Held {
            in_flight: self,
            key,
            lock: Some(lock),
            guard: Some(guard),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut keys = self
            .in_flight
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Under the map's lock, where every waiter took its clone: the
        // map's own is the last one only if no one waits.
        drop(self.lock.take());
        if keys
            .get(&self.key)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            keys.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A second request for key `k`, waiting in a task of its own.
    fn retry(in_flight: &Arc<InFlight>) -> tokio::task::JoinHandle<()> {
        let in_flight = in_flight.clone();
        tokio::spawn(async move {
            let _second = in_flight.hold("k".into()).await;
        })
    }

    #[tokio::test]
    async fn a_second_request_with_the_key_waits_for_the_first() {
        let in_flight = Arc::new(InFlight::default());
        let first = in_flight.hold("k".into()).await;
        let waiting = retry(&in_flight);
        // Another key does not wait.
        drop(in_flight.hold("other".into()).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "the retry waits for the first");
        drop(first);
        waiting.await.unwrap();
        assert_eq!(in_flight.len(), 0, "no key is left behind");
    }

    #[tokio::test]
    async fn a_request_gone_while_waiting_leaves_no_key_behind() {
        let in_flight = Arc::new(InFlight::default());
        let first = in_flight.hold("k".into()).await;
        let waiting = retry(&in_flight);
        tokio::time::sleep(Duration::from_millis(20)).await;
        waiting.abort();
        let _ = waiting.await;
        drop(first);
        let _other = in_flight.hold("other".into()).await;
        assert_eq!(in_flight.len(), 1, "only the key held now");
    }
}
