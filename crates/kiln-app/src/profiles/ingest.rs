//! Events in: a batch of tracking calls resolved to profiles and written in
//! one transaction, under the brand's profile lock so two batches never
//! resolve the same person at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kiln_domain::{BrandId, CallType, Identity, IdentityKind, Order, ResolutionRules, Timestamp};
use kiln_store::{NewTrackedEvent, Store};
use sha2::{Digest, Sha256};

use super::resolve::Resolver;
use super::tracking::Call;
use crate::error::Result;
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

/// The profile side of the platform: one lock per brand.
pub(crate) struct Profiles {
    store: Arc<dyn Store>,
    locks: Mutex<HashMap<BrandId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Profiles {
    pub(crate) fn new(store: Arc<dyn Store>) -> Profiles {
        Profiles {
            store,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The brand's profile lock: ingest and erasure take it.
    pub(crate) fn lock(&self, brand: &BrandId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(brand.clone()).or_default().clone()
    }

    pub(crate) async fn rules(&self, brand: &BrandId) -> Result<ResolutionRules> {
        Ok(self
            .store
            .resolution_rules(brand)
            .await?
            .unwrap_or_default())
    }

    /// Resolves and keeps `calls`.
    pub(crate) async fn ingest(&self, brand: &BrandId, calls: Vec<Call>) -> Result<Ingested> {
        let mut out = Ingested::default();
        if calls.is_empty() {
            return Ok(out);
        }
        let rules = self.rules(brand).await?;
        // Each call's identities, once; duplicates within the batch go.
        let mut seen = std::collections::HashSet::new();
        let mut todo: Vec<(Call, Vec<Identity>)> = Vec::with_capacity(calls.len());
        for call in calls {
            if !seen.insert(call.message_id.clone()) {
                out.duplicates += 1;
                continue;
            }
            let ids = Resolver::identities(&rules, &call.identifiers);
            todo.push((call, ids));
        }
        let lock = self.lock(brand);
        let _held = lock.lock().await;
        let ids: Vec<String> = todo.iter().map(|(c, _)| c.message_id.clone()).collect();
        let known: std::collections::HashSet<String> = self
            .store
            .seen_messages(brand, &ids)
            .await?
            .into_iter()
            .collect();
        let mut hashes: Vec<String> = todo
            .iter()
            .flat_map(|(_, ids)| ids.iter().map(suppression_hash))
            .collect();
        hashes.sort();
        hashes.dedup();
        let suppressed: std::collections::HashSet<String> = self
            .store
            .suppressed(brand, &hashes)
            .await?
            .into_iter()
            .collect();
        todo.retain(|(call, ids)| {
            if known.contains(&call.message_id) {
                out.duplicates += 1;
                false
            } else if ids
                .iter()
                .any(|i| suppressed.contains(&suppression_hash(i)))
            {
                out.suppressed += 1;
                false
            } else {
                true
            }
        });
        let mut all: Vec<Identity> = todo
            .iter()
            .flat_map(|(_, ids)| ids.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        let owners = self.store.identity_owners(brand, &all).await?;
        let mut roots: Vec<_> = owners.iter().map(|(_, p)| p.clone()).collect();
        roots.sort();
        roots.dedup();
        let states = self.store.profile_states(brand, &roots).await?;
        let mut resolver = Resolver::new(&rules, owners, states, time::now());
        for (call, ids) in todo {
            let Some(profile) = resolver.resolve(ids, &call.message_id) else {
                out.unresolved += 1;
                continue;
            };
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
            out.kept += 1;
        }
        let changes = resolver.finish();
        self.store.apply_profile_changes(brand, &changes).await?;
        metrics::counter!("kiln_tracked_events_total").increment(out.kept as u64);
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
    }
}
