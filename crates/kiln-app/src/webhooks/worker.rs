//! The delivery worker: sends the outbox's deliveries as they fall due, and
//! records every attempt.
//!
//! A commit that wrote events wakes it at once (so a delivery leaves within
//! milliseconds of its order's commit); otherwise it looks for retries due
//! every second. Up to [`MAX_IN_FLIGHT`] deliveries are sent at a time, at
//! most [`PER_ENDPOINT`] to one endpoint, so a slow or dead receiver only
//! delays its own deliveries, never order placement or other receivers.
//! A 2xx marks a delivery delivered (never sent again, unless replayed) and
//! brings the endpoint's waiting retries forward: it is back. A failure is
//! retried with exponential backoff and jitter for more than three days; a
//! 410 turns the endpoint off. Attempts are recorded in batches, one
//! transaction each. A crash between a 2xx and its record sends the event
//! again: delivery is at least once, and `webhook-id` lets receivers
//! deduplicate. Several servers on one database each run a worker: a
//! delivery is claimed before it is sent (`claim_deliveries`), so one of
//! them sends it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_domain::{
    AttemptOutcome, DeliveryAttempt, DeliveryId, DeliveryState, DueDelivery, Timestamp, WebhookId,
};
use kiln_webhooks::{Secret, Sender, retry};
use tokio::task::JoinSet;

use crate::{App, time};

/// Most deliveries on their way at once.
pub const MAX_IN_FLIGHT: usize = 64;
/// Most deliveries on their way to one endpoint at once.
pub const PER_ENDPOINT: usize = 16;
/// How often waiting retries are looked for when nothing wakes the worker.
const POLL: Duration = Duration::from_secs(1);
/// How long the worker waits after a commit wakes it, so that one read
/// finds the events of several commits (a few dozen reads a second at most).
const GATHER: Duration = Duration::from_millis(25);
/// Most attempts recorded in one transaction.
const RECORD_BATCH: usize = 64;
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed delivery is this worker's: if its attempt is never
/// recorded (the server died), it falls due again after this.
const CLAIM: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

pub fn spawn(app: Arc<App>) {
    tokio::spawn(async move {
        let sender = match Sender::new(app.config.webhook_policy, TIMEOUT) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, "webhooks cannot be sent: no HTTP client");
                return;
            }
        };
        run(app, sender).await;
    });
}

async fn run(app: Arc<App>, sender: Arc<Sender>) {
    let mut in_flight: HashMap<DeliveryId, WebhookId> = HashMap::new();
    let mut tasks: JoinSet<AttemptOutcome> = JoinSet::new();
    let mut done: Vec<AttemptOutcome> = Vec::new();
    let mut first_done: Option<Instant> = None;
    loop {
        while let Some(finished) = tasks.try_join_next() {
            match finished {
                Ok(outcome) => {
                    first_done.get_or_insert_with(Instant::now);
                    done.push(outcome);
                }
                Err(e) => tracing::error!(error = %e, "a webhook attempt panicked"),
            }
        }
        // Attempts are recorded in batches: one transaction for many, but
        // never later than GATHER after the oldest, and at once when the
        // worker would otherwise wait with nothing in flight.
        let due_to_record = !done.is_empty()
            && (done.len() >= RECORD_BATCH
                || first_done.is_some_and(|t: Instant| t.elapsed() >= GATHER)
                || tasks.is_empty());
        if due_to_record {
            match app.store.record_attempts(&done).await {
                Ok(()) => {
                    first_done = None;
                    for o in done.drain(..) {
                        in_flight.remove(&o.delivery);
                    }
                }
                Err(e) => {
                    // Kept and written again: the deliveries stay in flight
                    // meanwhile, so none is sent twice for this.
                    tracing::warn!(error = %crate::Error::from(e).chain(), "webhook attempts not recorded");
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            }
        }
        let room = MAX_IN_FLIGHT.saturating_sub(in_flight.len());
        if room > 0 {
            let skip: Vec<DeliveryId> = in_flight.keys().cloned().collect();
            match app
                .store
                .due_deliveries(time::now(), (room * 4) as i64, &skip)
                .await
            {
                Ok(due) => {
                    let mut per_endpoint: HashMap<WebhookId, usize> = HashMap::new();
                    for e in in_flight.values() {
                        *per_endpoint.entry(e.clone()).or_default() += 1;
                    }
                    let mut start = Vec::new();
                    for d in due {
                        let n = per_endpoint.entry(d.endpoint_id.clone()).or_default();
                        if *n >= PER_ENDPOINT || start.len() >= room {
                            continue;
                        }
                        *n += 1;
                        start.push(d);
                    }
                    // Claimed first: several servers' workers read the same
                    // outbox, and each delivery leaves from one of them.
                    let ids: Vec<DeliveryId> = start.iter().map(|d| d.id.clone()).collect();
                    let now = time::now();
                    let claimed = match app.store.claim_deliveries(&ids, now, now + CLAIM).await {
                        Ok(claimed) => claimed,
                        Err(e) => {
                            tracing::warn!(error = %crate::Error::from(e).chain(), "due webhooks not claimed");
                            Vec::new()
                        }
                    };
                    for d in start.into_iter().filter(|d| claimed.contains(&d.id)) {
                        in_flight.insert(d.id.clone(), d.endpoint_id.clone());
                        tasks.spawn(attempt(sender.clone(), d));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %crate::Error::from(e).chain(), "due webhooks not read")
                }
            }
        }
        tokio::select! {
            Some(finished) = tasks.join_next(), if !tasks.is_empty() => match finished {
                Ok(outcome) => {
                    first_done.get_or_insert_with(Instant::now);
                    done.push(outcome);
                }
                Err(e) => tracing::error!(error = %e, "a webhook attempt panicked"),
            },
            _ = tokio::time::sleep(GATHER), if !done.is_empty() => {}
            _ = app.outbox.notified() => {
                // Commits come in bursts: gather a few before reading what is due.
                tokio::time::sleep(GATHER).await;
            }
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// The signatures a delivery carries: its secret's, and during a rotation the
/// previous secret's too, space-separated as Standard Webhooks allows.
fn signature(d: &DueDelivery, now: Timestamp, timestamp: i64) -> Result<String, String> {
    let mut secrets = vec![d.secret.as_str()];
    if let Some((previous, until)) = &d.previous_secret
        && now < *until
    {
        secrets.push(previous.as_str());
    }
    let mut out = Vec::new();
    for s in secrets {
        let secret = Secret::parse(s).map_err(|e| format!("the stored secret is unusable: {e}"))?;
        out.push(secret.sign(d.event_id.as_str(), timestamp, d.payload.as_bytes()));
    }
    Ok(out.join(" "))
}

/// Random in [0, 1) for jitter.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

async fn attempt(sender: Arc<Sender>, d: DueDelivery) -> AttemptOutcome {
    let now = time::now();
    let number = d.attempts + 1;
    let sent = match (
        signature(&d, now, now.as_second()),
        reqwest::Url::parse(&d.url),
    ) {
        (Ok(sig), Ok(url)) => {
            sender
                .send_signed(
                    &url,
                    d.event_id.as_str(),
                    now.as_second(),
                    d.payload.as_bytes(),
                    &sig,
                )
                .await
        }
        (Err(e), _) => kiln_webhooks::Attempt::failed(e),
        (_, Err(e)) => kiln_webhooks::Attempt::failed(format!("the URL does not parse: {e}")),
    };
    let (state, next) = if sent.succeeded() {
        (DeliveryState::Delivered, None)
    } else if sent.gone() {
        (DeliveryState::Failed, None)
    } else {
        match retry::delay_after(number as u32, jitter()) {
            Some(delay) => (
                DeliveryState::Pending,
                now.checked_add(jiff::SignedDuration::try_from(delay).unwrap_or_default())
                    .ok(),
            ),
            None => (DeliveryState::Failed, None),
        }
    };
    AttemptOutcome {
        gone: sent.gone(),
        delivery: d.id,
        brand_id: d.brand_id,
        endpoint_id: d.endpoint_id,
        attempt: DeliveryAttempt {
            attempt: number,
            at: now,
            status: sent.status.map(i64::from),
            duration_ms: sent.duration_ms as i64,
            response: sent.response_snippet,
            error: sent.error,
        },
        state,
        next_attempt_at: next,
    }
}
