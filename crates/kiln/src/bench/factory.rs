//! The factory's side of a soak (`kiln bench orders --make-after S`): each
//! acknowledged order, once `S` seconds old, has its work orders made (every
//! operation started and completed) and is shipped, as a factory keeping pace
//! with its orders would. Open work then stays bounded, so the server's
//! memory shows whether it follows the open work or grows with all it made.
//!
//! The factory keeps pace by holding the clients back ([`Pace`]): before
//! each order a client waits in proportion to how late the factory is
//! beyond [`BEHIND`]. Without that, clients placing as fast as the server
//! answers outran a factory that makes each order with more requests than
//! placing it took, the open work grew by hundreds of orders a second, and
//! the demo's book filled in two minutes: the soak then measured a full
//! book, not a steady shop. Waiting in proportion, rather than stopping
//! every client while the factory is late and starting them all together
//! when it has caught up, holds the clients near the rate the factory
//! keeps instead of swinging between bursts and pauses.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell, Semaphore, mpsc};

/// Requests the factory has in flight at once, for making work orders and,
/// apart, for shipping orders: a work order's steps, one after another,
/// never queue behind the shipments of the orders waiting for it.
const AT_ONCE: usize = 8;

/// How late the factory may fall behind its orders before clients wait.
const BEHIND: Duration = Duration::from_secs(1);

/// How long a client waits before each order for every second the factory
/// is late beyond [`BEHIND`]. Small, so the clients settle at the
/// factory's rate a few seconds late rather than overshoot: orders placed
/// now reach the factory only `--make-after` seconds later.
const WAIT_PER_SECOND_LATE: f64 = 0.01;

/// The longest a client waits before one order, however late the factory.
const LONGEST_WAIT: Duration = Duration::from_secs(1);

/// How late the factory is: clients wait on it before each order.
#[derive(Default)]
pub struct Pace {
    /// When each order due and not yet shipped (or failed) came due, by
    /// the order it came due in: the first is the oldest.
    making: std::sync::Mutex<std::collections::BTreeMap<u64, Instant>>,
    /// The most the oldest order in the making was late when a client
    /// looked, in milliseconds.
    most_late_ms: AtomicU64,
}

impl Pace {
    /// Waits in proportion to how long ago beyond [`BEHIND`] the oldest
    /// order in the making came due, at most until `deadline`.
    pub async fn keep(&self, deadline: Instant) {
        let wait = Self::wait(self.late());
        if !wait.is_zero() {
            tokio::time::sleep_until((Instant::now() + wait).min(deadline).into()).await;
        }
    }

    /// How long a client waits before an order when the factory is `late`.
    fn wait(late: Duration) -> Duration {
        late.saturating_sub(BEHIND)
            .mul_f64(WAIT_PER_SECOND_LATE)
            .min(LONGEST_WAIT)
    }

    /// How late the oldest order in the making is (none: not late).
    fn late(&self) -> Duration {
        let late = self
            .making()
            .values()
            .next()
            .map_or(Duration::ZERO, |due| due.elapsed());
        self.most_late_ms
            .fetch_max(late.as_millis() as u64, Ordering::Relaxed);
        late
    }

    /// The orders in the making (a panic elsewhere leaves them usable).
    fn making(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<u64, Instant>> {
        self.making.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An order the server acknowledged.
pub struct Placed {
    pub at: Instant,
    pub order: String,
    pub work_orders: Vec<String>,
}

impl Placed {
    /// Reads an acknowledged order's id and its lines' work orders.
    pub fn of(at: Instant, order: &Value) -> Option<Placed> {
        let mut work_orders: Vec<String> = Vec::new();
        for line in order["lines"].as_array()? {
            let wo = line["work_order_id"].as_str()?.to_string();
            if !work_orders.contains(&wo) {
                work_orders.push(wo);
            }
        }
        Some(Placed {
            at,
            order: order["id"].as_str()?.to_string(),
            work_orders,
        })
    }
}

/// What the factory did in a run.
#[derive(Debug, Default)]
pub struct Made {
    pub shipped: u64,
    pub work_orders: u64,
    pub failed: u64,
    pub first_failure: Option<String>,
    /// Orders not due before the run's end, left unmade.
    pub not_due: u64,
    /// The most the factory was late when a client looked.
    pub most_late: Duration,
}

impl Made {
    /// Of `acknowledged` orders, those the factory should have made and did
    /// not (neither shipped, nor failed, nor due after the end).
    pub fn open(&self, acknowledged: u64) -> u64 {
        acknowledged.saturating_sub(self.shipped + self.failed + self.not_due)
    }
}

/// A work order being made, once: its outcome, shared by the orders on it.
type Making = Arc<OnceCell<Result<(), String>>>;

struct Shop {
    http: reqwest::Client,
    brand: String,
    key: String,
    /// Each work order is made once, however many orders wait for it.
    making: Mutex<HashMap<String, Making>>,
    made: Mutex<Made>,
    /// Requests in flight: an order waiting for its work order holds none.
    making_requests: Semaphore,
    shipping_requests: Semaphore,
}

/// Starts the factory: it takes orders from the returned sender until it is
/// dropped or `deadline` passes; clients keep to its [`Pace`].
pub fn start(
    http: reqwest::Client,
    brand_url: String,
    key: String,
    after: Duration,
    deadline: Instant,
) -> (
    mpsc::UnboundedSender<Placed>,
    Arc<Pace>,
    tokio::task::JoinHandle<Made>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Placed>();
    let shop = Arc::new(Shop {
        http,
        brand: brand_url,
        key,
        making: Mutex::new(HashMap::new()),
        made: Mutex::new(Made::default()),
        making_requests: Semaphore::new(AT_ONCE),
        shipping_requests: Semaphore::new(AT_ONCE),
    });
    let pace = Arc::new(Pace::default());
    let task = {
        let pace = pace.clone();
        tokio::spawn(async move {
            let mut jobs = tokio::task::JoinSet::new();
            let mut n = 0u64;
            while let Some(p) = rx.recv().await {
                let due = p.at + after;
                if due >= deadline {
                    shop.made.lock().await.not_due += 1;
                    continue;
                }
                tokio::time::sleep_until(due.into()).await;
                n += 1;
                pace.making().insert(n, due);
                let (shop, pace) = (shop.clone(), pace.clone());
                jobs.spawn(async move {
                    let result = shop.make_and_ship(&p).await;
                    pace.making().remove(&n);
                    let mut made = shop.made.lock().await;
                    match result {
                        Ok(()) => made.shipped += 1,
                        Err(e) => {
                            made.failed += 1;
                            made.first_failure.get_or_insert(format!("{e:#}"));
                        }
                    }
                });
                while jobs.try_join_next().is_some() {}
            }
            while jobs.join_next().await.is_some() {}
            let mut made = std::mem::take(&mut *shop.made.lock().await);
            made.most_late = Duration::from_millis(pace.most_late_ms.load(Ordering::Relaxed));
            made
        })
    };
    (tx, pace, task)
}

impl Shop {
    async fn make_and_ship(&self, p: &Placed) -> anyhow::Result<()> {
        for wo in &p.work_orders {
            let cell = self
                .making
                .lock()
                .await
                .entry(wo.clone())
                .or_default()
                .clone();
            cell.get_or_init(|| async {
                let made = self.make(wo).await.map_err(|e| format!("{e:#}"));
                if made.is_ok() {
                    self.made.lock().await.work_orders += 1;
                }
                made
            })
            .await
            .clone()
            .map_err(|e| anyhow::anyhow!("work order {wo}: {e}"))?;
        }
        let tracking = format!("SOAK{}", p.order.trim_start_matches("ord_"));
        self.post(
            &self.shipping_requests,
            &format!("/orders/{}/shipments", p.order),
            &json!({ "carrier": "soak", "tracking_number": tracking }),
        )
        .await
        .with_context(|| format!("shipping {}", p.order))?;
        Ok(())
    }

    /// Starts and completes every operation of a work order.
    async fn make(&self, wo: &str) -> anyhow::Result<()> {
        let slot = self.making_requests.acquire().await?;
        let w: Value = self
            .http
            .get(format!("{}/work-orders/{wo}", self.brand))
            .bearer_auth(&self.key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        drop(slot);
        let ops = w["operations"].as_array().context("no operations")?;
        for op in ops {
            let seq = op["seq"].as_i64().context("an operation without seq")?;
            for act in ["start", "complete"] {
                self.post(
                    &self.making_requests,
                    &format!("/work-orders/{wo}/operations/{seq}/{act}"),
                    &json!({}),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn post(&self, slots: &Semaphore, path: &str, body: &Value) -> anyhow::Result<()> {
        let _slot = slots.acquire().await?;
        let r = self
            .http
            .post(format!("{}{path}", self.brand))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await?;
        let status = r.status();
        if !status.is_success() {
            let text = r.text().await.unwrap_or_default();
            anyhow::bail!("POST {path}: {status}: {text}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_wait_in_proportion_to_how_late_the_factory_is() {
        assert_eq!(Pace::wait(Duration::ZERO), Duration::ZERO);
        assert_eq!(Pace::wait(BEHIND), Duration::ZERO, "a second late: no wait");
        assert_eq!(
            Pace::wait(Duration::from_secs(11)),
            Duration::from_millis(100)
        );
        assert_eq!(Pace::wait(Duration::from_secs(3600)), LONGEST_WAIT);
    }
}
