//! Events in: a batch of tracking calls resolved to profiles and written in
//! one transaction, under the brand's profile lock so two batches never
//! resolve the same person at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kiln_domain::{BrandId, CallType, Identity, IdentityKind, Order, ResolutionRules, Timestamp};
use kiln_store::{BrandWork, NewTrackedEvent, Store};
use sha2::{Digest, Sha256};

use super::resolve::Resolver;
use super::store_sales;
use super::tracking::Call;
use crate::error::{Error, Result};
use crate::time;

/// What one request's calls came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Ingested {
    /// Kept, on a profile.
    pub kept: usize,
    /// Sent before under the same `messageId`: kept once.
    pub duplicates: usize,
    /// Carrying an erased person's identity: dropped.
    pub suppressed: usize,
    /// With no identity that counts (only blocked values): dropped.
    pub unresolved: usize,
}

/// The hash an erased identity is suppressed under.
pub fn suppression_hash(identity: &Identity) -> String {
    let mut h = Sha256::new();
    h.update(identity.kind.as_str().as_bytes());
    h.update(b":");
    h.update(identity.value.as_bytes());
    hex::encode(h.finalize())
}

/// The brand's profile lock, in this process and across servers.
pub(crate) struct Held {
    // Given back first (its connection unlocks on its way back to the pool).
    _servers: kiln_store::BrandLock,
    _local: tokio::sync::OwnedMutexGuard<()>,
}

/// How long a group of Kiln's own calls waits for more to join it (see
/// [`Profiles::ingest_within`]).
const LINGER: std::time::Duration = std::time::Duration::from_millis(50);

/// How long a lingering call waits for the group it joined to be written
/// before it writes what is pending itself.
const FOLLOW: std::time::Duration = std::time::Duration::from_secs(5);

/// A request's calls waiting to be written, and where its answer goes.
type Waiting = (Vec<Call>, tokio::sync::oneshot::Sender<Result<Ingested>>);

/// One brand's lock over resolution, and the requests waiting for it.
#[derive(Default)]
pub(crate) struct Queue {
    lock: Arc<tokio::sync::Mutex<()>>,
    pending: Mutex<Vec<Waiting>>,
}

/// The profile side of the platform: one lock per brand.
pub(crate) struct Profiles {
    pub(crate) store: Arc<dyn Store>,
    queues: Mutex<HashMap<BrandId, Arc<Queue>>>,
    /// Wakes the webhook worker when segment events were written.
    outbox: Arc<tokio::sync::Notify>,
    /// Wakes the mail worker when segment mail was written.
    pub(crate) mail: Arc<tokio::sync::Notify>,
}

impl Profiles {
    pub(crate) fn new(store: Arc<dyn Store>, outbox: Arc<tokio::sync::Notify>) -> Profiles {
        Profiles {
            outbox,
            mail: Arc::new(tokio::sync::Notify::new()),
            store,
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps Kiln's own `call` off the request's path: nothing waits for
    /// it, and a failure is logged (with `what` it was about), never shown.
    pub(crate) fn ingest_later(
        self: &Arc<Profiles>,
        brand: &kiln_domain::Brand,
        call: Call,
        what: String,
    ) {
        let (profiles, brand) = (self.clone(), brand.clone());
        tokio::spawn(async move {
            // A passing failure (the database, another server busy with the
            // brand's profiles) is tried again twice, 1 s and 2 s later.
            for wait in [1, 2, 0] {
                match profiles
                    .ingest_within(&brand.id, vec![call.clone()], LINGER)
                    .await
                {
                    Ok(_) => return,
                    Err(Error::Unavailable { .. }) if wait > 0 => {
                        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e.chain(), "{}: {what} was not kept", brand.slug);
                        return;
                    }
                }
            }
        });
    }

    pub(crate) fn notify_outbox(&self) {
        self.outbox.notify_one();
    }

    pub(crate) fn notify_mail(&self) {
        self.mail.notify_one();
    }

    /// Re-checks, for each of the brand's segments, only the profiles a
    /// batch touched in a way that can change it: an event its rules name,
    /// traits set when it has a trait rule, or a merge.
    async fn refresh_touched(
        &self,
        brand: &BrandId,
        changes: &kiln_store::ProfileChanges,
    ) -> Result<()> {
        let segments = self.store.segments(brand).await?;
        if segments.is_empty() {
            return Ok(());
        }
        let merged: Vec<kiln_domain::ProfileId> =
            changes.merges.iter().map(|m| m.survivor.clone()).collect();
        let with_traits: std::collections::HashSet<&kiln_domain::ProfileId> =
            changes.traits.iter().map(|(p, _)| p).collect();
        for segment in &segments {
            let names: std::collections::HashSet<&str> = segment
                .rules
                .iter()
                .filter_map(|r| match r {
                    kiln_domain::SegmentRule::Did { event, .. }
                    | kiln_domain::SegmentRule::DidNot { event, .. } => Some(event.as_str()),
                    kiln_domain::SegmentRule::Trait { .. } => None,
                })
                .collect();
            let traits = segment
                .rules
                .iter()
                .any(|r| matches!(r, kiln_domain::SegmentRule::Trait { .. }));
            let mut profiles: Vec<kiln_domain::ProfileId> = changes
                .events
                .iter()
                .filter(|e| e.name.as_deref().is_some_and(|n| names.contains(n)))
                .map(|e| e.profile_id.clone())
                .chain(merged.iter().cloned())
                .collect();
            if traits {
                profiles.extend(with_traits.iter().map(|p| (*p).clone()));
            }
            profiles.sort();
            profiles.dedup();
            self.refresh_segments(brand, &profiles, Some(std::slice::from_ref(segment)))
                .await?;
        }
        Ok(())
    }

    fn queue(&self, brand: &BrandId) -> Arc<Queue> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        queues.entry(brand.clone()).or_default().clone()
    }

    /// Holds the brand's profile lock (erasure and unmerge take it, as
    /// ingest does) until the guard drops: this process's, then the one
    /// across the servers sharing the database (see `kiln_store::lock`).
    pub(crate) async fn hold(&self, brand: &BrandId) -> Result<Held> {
        let local = self.queue(brand).lock.clone().lock_owned().await;
        let servers = self.store.lock_brand(brand, BrandWork::Profiles).await?;
        Ok(Held {
            _servers: servers,
            _local: local,
        })
    }

    pub(crate) async fn rules(&self, brand: &BrandId) -> Result<ResolutionRules> {
        Ok(self
            .store
            .resolution_rules(brand)
            .await?
            .unwrap_or_default())
    }

    /// Resolves and keeps `calls`. Requests that arrive while the brand's
    /// batches are being written wait for the lock together, and the first
    /// to get it resolves and writes them all in one transaction (group
    /// commit): under load a transaction carries many requests' calls.
    pub(crate) async fn ingest(&self, brand: &BrandId, calls: Vec<Call>) -> Result<Ingested> {
        self.ingest_within(brand, calls, std::time::Duration::ZERO)
            .await
    }

    /// [`Profiles::ingest`], for calls nobody waits for: the call that finds
    /// nothing pending waits `linger`, then writes every call that came
    /// meanwhile in one group. Kiln's own events (an order placed) come one
    /// per order; under load, groups of a few orders each cost a
    /// transaction of some ten statements.
    async fn ingest_within(
        &self,
        brand: &BrandId,
        calls: Vec<Call>,
        linger: std::time::Duration,
    ) -> Result<Ingested> {
        if calls.is_empty() {
            return Ok(Ingested::default());
        }
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let queue = self.queue(brand);
        let first = {
            let mut pending = queue.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.push((calls, tx));
            pending.len() == 1
        };
        if !linger.is_zero() {
            if first {
                // This call opens a group: it waits for more to join, then
                // writes them all. Not under the lock: a request's calls
                // (which do not linger) are written meanwhile, and take the
                // waiting ones along.
                tokio::time::sleep(linger).await;
            } else if let Ok(told) = tokio::time::timeout(linger + FOLLOW, &mut rx).await {
                // Another call opened the group and wrote it; should it
                // not have (its request dropped first), this one writes.
                return told.unwrap_or(Err(Error::Unavailable {
                    what: "the event store",
                    source: None,
                }));
            }
        }
        {
            let _held = queue.lock.lock().await;
            let group =
                std::mem::take(&mut *queue.pending.lock().unwrap_or_else(|p| p.into_inner()));
            if !group.is_empty() {
                let (calls, answers): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                // Other servers resolve this brand's people too: one at a
                // time, or two would each make a profile for a new person.
                let written = match self.store.lock_brand(brand, BrandWork::Profiles).await {
                    Ok(_servers) => self.write_group(brand, calls).await,
                    Err(e) => Err(e.into()),
                };
                match written {
                    Ok(counts) => {
                        for (answer, count) in answers.into_iter().zip(counts) {
                            let _ = answer.send(Ok(count));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e.chain(), "events of {} requests not kept", answers.len());
                        for answer in answers {
                            let _ = answer.send(Err(Error::Unavailable {
                                what: "the event store",
                                source: Some(e.to_string().into()),
                            }));
                        }
                    }
                }
            }
        }
        rx.await.unwrap_or(Err(Error::Unavailable {
            what: "the event store",
            source: None,
        }))
    }

    /// One transaction for the calls of several requests; what each request's
    /// calls came to, in order.
    async fn write_group(
        &self,
        brand: &BrandId,
        requests: Vec<Vec<Call>>,
    ) -> Result<Vec<Ingested>> {
        let mut out = vec![Ingested::default(); requests.len()];
        let rules = self.rules(brand).await?;
        // Each call's identities, once; a message id seen twice keeps its first.
        let mut seen = std::collections::HashSet::new();
        let mut todo: Vec<(usize, Call, Vec<Identity>)> = Vec::new();
        for (r, calls) in requests.into_iter().enumerate() {
            for call in calls {
                if !seen.insert(call.message_id.clone()) {
                    out[r].duplicates += 1;
                    continue;
                }
                let ids = Resolver::identities(&rules, &call.identifiers);
                todo.push((r, call, ids));
            }
        }
        let ids: Vec<String> = todo.iter().map(|(_, c, _)| c.message_id.clone()).collect();
        let known: std::collections::HashSet<String> = self
            .store
            .seen_messages(brand, &ids)
            .await?
            .into_iter()
            .collect();
        let mut hashes: Vec<String> = todo
            .iter()
            .flat_map(|(_, _, ids)| ids.iter().map(suppression_hash))
            .collect();
        hashes.sort();
        hashes.dedup();
        let suppressed: std::collections::HashSet<String> = self
            .store
            .suppressed(brand, &hashes)
            .await?
            .into_iter()
            .collect();
        todo.retain(|(r, call, ids)| {
            if known.contains(&call.message_id) {
                out[*r].duplicates += 1;
                false
            } else if !suppressed.is_empty()
                && ids
                    .iter()
                    .any(|i| suppressed.contains(&suppression_hash(i)))
            {
                out[*r].suppressed += 1;
                false
            } else {
                true
            }
        });
        let mut all: Vec<Identity> = todo
            .iter()
            .flat_map(|(_, _, ids)| ids.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        let owners = self.store.identity_owners(brand, &all).await?;
        // A call whose identities all belong to one profile already and that
        // sets no traits changes nothing on it: most tracks. Only the
        // profiles other calls may join, merge or change are read whole.
        let owner: HashMap<&Identity, &kiln_domain::ProfileId> =
            owners.iter().map(|(i, p)| (i, p)).collect();
        let mut roots = Vec::new();
        for (_, call, ids) in &todo {
            let mine: Vec<_> = ids.iter().filter_map(|i| owner.get(i).copied()).collect();
            let settled = mine.len() == ids.len()
                && mine.windows(2).all(|w| w[0] == w[1])
                && call.traits.is_none();
            if !settled {
                roots.extend(mine.into_iter().cloned());
            }
        }
        roots.sort();
        roots.dedup();
        let states = self.store.profile_states(brand, &roots).await?;
        let mut resolver = Resolver::new(&rules, owners, states, time::now());
        let mut sales = Vec::new();
        for (r, call, ids) in todo {
            let Some(profile) = resolver.resolve(ids, &call.message_id) else {
                out[r].unresolved += 1;
                continue;
            };
            sales.extend(store_sales::of(&call));
            if let Some(traits) = &call.traits {
                resolver.set_traits(&profile, traits);
            }
            resolver.keep(NewTrackedEvent {
                message_id: call.message_id,
                profile_id: profile,
                kind: call.kind,
                name: call.name,
                at: call.at,
                received_at: call.received_at,
                body: call.body,
            });
            out[r].kept += 1;
        }
        let mut changes = resolver.finish();
        changes.stores = store_sales::stores(&sales);
        changes.sales = sales;
        self.store.apply_profile_changes(brand, &changes).await?;
        // Segments see the profiles these calls touched (when the brand has any).
        if let Err(e) = self.refresh_touched(brand, &changes).await {
            tracing::warn!(error = %e.chain(), "segments not refreshed after a batch");
        }
        let kept: usize = out.iter().map(|o| o.kept).sum();
        metrics::counter!("kiln_tracked_events_total").increment(kept as u64);
        Ok(out)
    }
}

/// Products an order's event lists; a bulk order's others are counted.
const EVENT_PRODUCTS: usize = 100;

/// Kiln's own `Order Completed` for an order just placed (the Segment
/// e-commerce spec's event): the order's customer joins their profile, or
/// makes one. Its message id is the order's, so it counts once.
pub(crate) fn order_call(order: &Order, received_at: Timestamp) -> Call {
    let mut identifiers = vec![(IdentityKind::Email, order.customer.email.clone())];
    if let Some(phone) = &order.customer.phone {
        identifiers.push((IdentityKind::Phone, phone.clone()));
    }
    let message_id = format!("order-{}", order.id);
    let body = serde_json::json!({
        "type": "track",
        "event": "Order Completed",
        "messageId": message_id,
        "context": {
            "channel": order.channel.as_str(),
            "store_id": order.store_id,
            "traits": {"email": order.customer.email},
        },
        "properties": {
            "order_id": order.id,
            "total": order.total.to_string(),
            "tax": order.tax.to_string(),
            "shipping": order.shipping.to_string(),
            "currency": order.currency,
            "lines": order.lines.len(),
            "products": order.lines.iter().take(EVENT_PRODUCTS).map(|l| serde_json::json!({
                "product_id": l.product_id, "sku": l.sku, "quantity": l.quantity,
                "price": l.unit_price.to_string(),
            })).collect::<Vec<_>>(),
        },
    });
    Call {
        message_id,
        kind: CallType::Track,
        name: Some("Order Completed".into()),
        identifiers,
        traits: None,
        at: order.created_at.min(received_at),
        received_at,
        body: body.to_string(),
        own: true,
    }
}
