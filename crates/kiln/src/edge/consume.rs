//! `kiln serve --nats URL`: every server reads the floor's stream through one
//! shared durable consumer (each message goes to one server), keeps each
//! event in the brand's inbox and only then acknowledges it (a double ack:
//! the server confirms), so a server killed mid-batch loses nothing: what it
//! had not acknowledged is delivered again, and the inbox drops what it had
//! kept already. A message that can never be applied (not JSON, a bad
//! field, an unknown brand) is terminated with the reason logged; one that
//! failed for now (the database is down) is redelivered after a pause.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use futures_util::StreamExt;
use std::sync::Arc;

use kiln_app::App;
use kiln_app::error::Error;
use kiln_domain::MachineEvent;

use super::Floor;

/// Messages taken at a time.
const BATCH: usize = 500;
/// How long a message may stay unacknowledged before another server gets it.
const ACK_WAIT: Duration = Duration::from_secs(30);

/// Starts reading the floor in the background; reconnects on its own.
pub fn start(app: Arc<App>, url: String, floor: Floor) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run(&app, &url, &floor).await {
                tracing::warn!("machine events from NATS at {url}: {e:#}; retrying in 2 s");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}

async fn run(app: &App, url: &str, floor: &Floor) -> anyhow::Result<()> {
    let client = async_nats::connect(url).await?;
    let js = jetstream::new(client);
    let stream = floor.stream(&js).await?;
    let name = floor.consumer_name();
    let consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(
            &name,
            consumer::pull::Config {
                durable_name: Some(name.clone()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                max_ack_pending: 20_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("the {name} consumer: {e}"))?;
    tracing::info!("reading machine events from NATS at {url}");
    // Messages as they come, in chunks of whatever is ready (at most BATCH):
    // one event waits for no other.
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(BATCH)
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("reading: {e}"))?
        .ready_chunks(BATCH);
    while let Some(chunk) = messages.next().await {
        // Each brand's events in the order they came.
        let mut by_brand: BTreeMap<String, Vec<(jetstream::Message, MachineEvent)>> =
            BTreeMap::new();
        for message in chunk {
            let message = message.map_err(|e| anyhow::anyhow!("receiving: {e}"))?;
            let Some(brand) = floor.brand_of(&message.subject).map(str::to_string) else {
                refuse(message, "its subject names no brand").await;
                continue;
            };
            match serde_json::from_slice::<MachineEvent>(&message.payload) {
                Ok(event) => match kiln_app::floor::check_events(std::slice::from_ref(&event)) {
                    Ok(()) => by_brand.entry(brand).or_default().push((message, event)),
                    Err(e) => refuse(message, &e.to_string()).await,
                },
                Err(e) => refuse(message, &format!("not a machine event: {e}")).await,
            }
        }
        for (brand, messages) in by_brand {
            let events: Vec<MachineEvent> = messages.iter().map(|(_, e)| e.clone()).collect();
            match app.keep_machine_events(&brand, &events).await {
                Ok(_) => {
                    for (message, _) in messages {
                        if let Err(e) = message.double_ack().await {
                            // Kept already: a redelivery is a duplicate.
                            tracing::warn!("acknowledging a machine event: {e}");
                        }
                    }
                    // Kept and acknowledged: now applied (here, if this server
                    // plans the brand, else by its holder).
                    app.apply_machine_events(&brand).await;
                }
                Err(e @ (Error::NotFound(_) | Error::Invalid { .. })) => {
                    for (message, _) in messages {
                        refuse(message, &e.to_string()).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e.chain(), "{brand}: machine events not kept; redelivered later");
                    for (message, _) in messages {
                        let _ = message
                            .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                            .await;
                    }
                }
            }
        }
    }
    anyhow::bail!("the consumer's message stream ended")
}

/// Terminates a message that can never be applied, saying why.
async fn refuse(message: jetstream::Message, why: &str) {
    tracing::warn!(subject = %message.subject, "machine event refused: {why}");
    if let Err(e) = message.ack_with(AckKind::Term).await {
        tracing::warn!("terminating a machine event: {e}");
    }
}
