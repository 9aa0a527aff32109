//! The factory's side of a soak (`kiln bench orders --make-after S`): each
//! acknowledged order, once `S` seconds old, has its work orders made (every
//! operation started and completed) and is shipped, as a factory keeping pace
//! with its orders would. Open work then stays bounded, so the server's
//! memory shows whether it follows the open work or grows with all it made.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell, Semaphore, mpsc};

/// Orders and work orders in the making at once.
const AT_ONCE: usize = 8;

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
}

/// Starts the factory: it takes orders from the returned sender until it is
/// dropped or `deadline` passes.
pub fn start(
    http: reqwest::Client,
    brand_url: String,
    key: String,
    after: Duration,
    deadline: Instant,
) -> (mpsc::UnboundedSender<Placed>, tokio::task::JoinHandle<Made>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Placed>();
    let shop = Arc::new(Shop {
        http,
        brand: brand_url,
        key,
        making: Mutex::new(HashMap::new()),
        made: Mutex::new(Made::default()),
    });
    let task = tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(AT_ONCE));
        let mut jobs = tokio::task::JoinSet::new();
        while let Some(p) = rx.recv().await {
            let due = p.at + after;
            if due >= deadline {
                continue;
            }
            tokio::time::sleep_until(due.into()).await;
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let shop = shop.clone();
            jobs.spawn(async move {
                let result = shop.make_and_ship(&p).await;
                let mut made = shop.made.lock().await;
                match result {
                    Ok(()) => made.shipped += 1,
                    Err(e) => {
                        made.failed += 1;
                        made.first_failure.get_or_insert(format!("{e:#}"));
                    }
                }
                drop(slot);
            });
            while jobs.try_join_next().is_some() {}
        }
        while jobs.join_next().await.is_some() {}
        std::mem::take(&mut *shop.made.lock().await)
    });
    (tx, task)
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
            &format!("/orders/{}/shipments", p.order),
            &json!({ "carrier": "soak", "tracking_number": tracking }),
        )
        .await
        .with_context(|| format!("shipping {}", p.order))?;
        Ok(())
    }

    /// Starts and completes every operation of a work order.
    async fn make(&self, wo: &str) -> anyhow::Result<()> {
        let w: Value = self
            .http
            .get(format!("{}/work-orders/{wo}", self.brand))
            .bearer_auth(&self.key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let ops = w["operations"].as_array().context("no operations")?;
        for op in ops {
            let seq = op["seq"].as_i64().context("an operation without seq")?;
            for act in ["start", "complete"] {
                self.post(
                    &format!("/work-orders/{wo}/operations/{seq}/{act}"),
                    &json!({}),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<()> {
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
