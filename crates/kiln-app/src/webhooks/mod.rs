//! Webhooks: partners subscribe URLs to event types; every event of the
//! outbox is delivered to each subscribed endpoint, signed as Standard
//! Webhooks 1.0 says, at least once ([`worker`]).
//!
//! URLs are checked against server-side request forgery when subscribed and
//! again at every connection: loopback, private and link-local addresses
//! are refused unless the operator allows them ([`AddressPolicy`]).

mod worker;

use kiln_domain::{
    AuditAction, Brand, Delivery, DeliveryAttempt, DeliveryId, EventType, PlatformEvent,
    WebhookEndpoint, WebhookId,
};
pub use kiln_webhooks::AddressPolicy;
use kiln_webhooks::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::brands::audit_entry;
use crate::error::{Error, FieldError, NamedNotFound, Result};
use crate::keys::{self, Actor};
use crate::{App, time};

/// A subscription as a partner asks for it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where deliveries are POSTed: `https://...` (or `http://...`).
    pub url: String,
    /// The event types to receive, at least one.
    pub events: Vec<EventType>,
    #[serde(default)]
    pub description: String,
}

/// A change to a subscription: what is sent changes, the rest stays.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<EventType>>,
    pub description: Option<String>,
    /// Turn the endpoint back on (after a 410) or off.
    pub enabled: Option<bool>,
}

/// An endpoint with its signing secret, shown when created or rotated.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_...`: verify each delivery's `webhook-signature` with it, as
    /// any Standard Webhooks library does.
    pub secret: String,
}

/// Most endpoints one brand may have.
const MAX_ENDPOINTS: usize = 50;

impl App {
    fn check_webhook(
        &self,
        url: Option<&str>,
        events: Option<&[EventType]>,
        description: Option<&str>,
    ) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(url) = url
            && let Err(e) = self.config.webhook_policy.check_url(url.trim())
        {
            errors.push(FieldError::new("/url", e.to_string()));
        }
        if events.is_some_and(|e| e.is_empty()) {
            errors.push(FieldError::new(
                "/events",
                "subscribe to at least one event type",
            ));
        }
        if description.is_some_and(|d| d.chars().count() > 200) {
            errors.push(FieldError::new("/description", "at most 200 characters"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_fields(errors))
        }
    }

    /// Subscribes a URL to event types; the answer holds its secret.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        brand: &Brand,
        input: WebhookInput,
    ) -> Result<EndpointWithSecret> {
        self.check_webhook(
            Some(&input.url),
            Some(&input.events),
            Some(&input.description),
        )?;
        if self.store.webhooks(&brand.id).await?.len() >= MAX_ENDPOINTS {
            return Err(Error::Conflict(format!(
                "a brand has at most {MAX_ENDPOINTS} webhook endpoints"
            )));
        }
        let now = time::now();
        let mut events = input.events;
        events.sort();
        events.dedup();
        let secret = Secret::generate().as_whsec();
        let endpoint = WebhookEndpoint {
            id: WebhookId::new(),
            brand_id: brand.id.clone(),
            url: input.url.trim().to_string(),
            description: input.description.trim().to_string(),
            events,
            enabled: true,
            disabled_reason: None,
            secret: secret.clone(),
            previous_secret: None,
            created_at: now,
            updated_at: now,
        };
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::WebhookCreated,
            endpoint.id.as_str(),
            format!(
                "webhook {} to {} for {}",
                endpoint.id,
                endpoint.url,
                names(&endpoint.events)
            ),
        );
        self.store.create_webhook(&endpoint, &entry).await?;
        Ok(EndpointWithSecret { endpoint, secret })
    }

    pub async fn webhooks(&self, brand: &Brand) -> Result<Vec<WebhookEndpoint>> {
        Ok(self.store.webhooks(&brand.id).await?)
    }

    pub async fn webhook(&self, brand: &Brand, id: &WebhookId) -> Result<WebhookEndpoint> {
        self.store
            .webhook(&brand.id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no webhook `{id}`")))
    }

    /// Changes a subscription's URL, events, description or state.
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        brand: &Brand,
        id: &WebhookId,
        change: WebhookChange,
    ) -> Result<WebhookEndpoint> {
        self.check_webhook(
            change.url.as_deref(),
            change.events.as_deref(),
            change.description.as_deref(),
        )?;
        let mut e = self.webhook(brand, id).await?;
        if let Some(url) = change.url {
            e.url = url.trim().to_string();
        }
        if let Some(mut events) = change.events {
            events.sort();
            events.dedup();
            e.events = events;
        }
        if let Some(d) = change.description {
            e.description = d.trim().to_string();
        }
        if let Some(enabled) = change.enabled {
            e.enabled = enabled;
            e.disabled_reason = (!enabled).then(|| "turned off".to_string());
        }
        e.updated_at = time::now();
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::WebhookUpdated,
            e.id.as_str(),
            format!(
                "webhook {} now to {} for {}{}",
                e.id,
                e.url,
                names(&e.events),
                if e.enabled { "" } else { " (off)" }
            ),
        );
        self.store
            .update_webhook(&e, &entry)
            .await
            .or_not_found(|| format!("no webhook `{id}`"))?;
        self.outbox.notify_one();
        Ok(e)
    }

    pub async fn delete_webhook(&self, actor: &Actor, brand: &Brand, id: &WebhookId) -> Result<()> {
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::WebhookDeleted,
            id.as_str(),
            format!("webhook {id} deleted"),
        );
        self.store
            .delete_webhook(&brand.id, id, &entry)
            .await
            .or_not_found(|| format!("no webhook `{id}`"))
    }

    /// A new signing secret; the old one keeps signing (a second signature in
    /// the same header) for `overlap_seconds`, so receivers can switch.
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        brand: &Brand,
        id: &WebhookId,
        overlap_seconds: i64,
    ) -> Result<EndpointWithSecret> {
        if !(0..=keys::MAX_OVERLAP_SECONDS).contains(&overlap_seconds) {
            return Err(Error::invalid(
                "/overlap_seconds",
                format!("between 0 and {} seconds", keys::MAX_OVERLAP_SECONDS),
            ));
        }
        let mut e = self.webhook(brand, id).await?;
        let now = time::now();
        let secret = Secret::generate().as_whsec();
        e.previous_secret =
            (overlap_seconds > 0).then(|| (e.secret.clone(), keys::after(now, overlap_seconds)));
        e.secret = secret.clone();
        e.updated_at = now;
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::WebhookSecretRotated,
            e.id.as_str(),
            format!(
                "webhook {} secret rotated; the old one signs for {overlap_seconds} s",
                e.id
            ),
        );
        self.store
            .update_webhook(&e, &entry)
            .await
            .or_not_found(|| format!("no webhook `{id}`"))?;
        Ok(EndpointWithSecret {
            endpoint: e,
            secret,
        })
    }

    /// An endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        brand: &Brand,
        id: &WebhookId,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        self.webhook(brand, id).await?;
        Ok(self
            .store
            .deliveries(&brand.id, id, limit.clamp(1, 500))
            .await?)
    }

    /// Every attempt at one delivery.
    pub async fn delivery_attempts(
        &self,
        brand: &Brand,
        delivery: &DeliveryId,
    ) -> Result<Vec<DeliveryAttempt>> {
        Ok(self.store.delivery_attempts(&brand.id, delivery).await?)
    }

    /// Sends again now: one delivery, or every delivery of the endpoint
    /// whose last attempt failed (retries left or not). Returns how many.
    pub async fn replay(
        &self,
        actor: &Actor,
        brand: &Brand,
        id: &WebhookId,
        delivery: Option<&DeliveryId>,
    ) -> Result<u64> {
        let endpoint = self.webhook(brand, id).await?;
        if !endpoint.enabled {
            return Err(Error::Conflict(format!(
                "webhook {id} is off ({}); turn it on first (PATCH with `enabled: true`)",
                endpoint.disabled_reason.as_deref().unwrap_or("turned off")
            )));
        }
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::WebhookReplayed,
            id.as_str(),
            match delivery {
                Some(d) => format!("delivery {d} of webhook {id} sent again"),
                None => format!("failed deliveries of webhook {id} sent again"),
            },
        );
        let n = self
            .store
            .replay(&brand.id, id, delivery, time::now(), &entry)
            .await
            .or_not_found(|| match delivery {
                Some(d) => format!("no delivery `{d}` of webhook `{id}`"),
                None => format!("no webhook `{id}`"),
            })?;
        self.outbox.notify_one();
        Ok(n)
    }

    /// The brand's events, newest first.
    pub async fn events(&self, brand: &Brand, limit: i64) -> Result<Vec<PlatformEvent>> {
        Ok(self.store.events(&brand.id, limit.clamp(1, 500)).await?)
    }

    /// Starts the background worker that delivers the outbox's events.
    pub fn start_webhooks(self: &std::sync::Arc<Self>) {
        worker::spawn(self.clone());
    }
}

fn names(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
