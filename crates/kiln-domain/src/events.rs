//! Events of the platform and the webhooks that carry them out.
//!
//! A change and the event that reports it are written in one transaction
//! (the outbox): the store turns each event into one delivery per webhook
//! endpoint subscribed to its type, and a background worker sends them,
//! signed as Standard Webhooks 1.0 says, until each endpoint answers 2xx.

use serde::Serialize;

use crate::{BrandId, DeliveryId, EventId, Timestamp, WebhookId};

words!(
    /// What happened.
    EventType, "event type" {
        OrderCreated = "order.created",
        /// A disruption or a replan moved the order's promised date.
        OrderPromiseMoved = "order.promise_moved",
        OrderStatusChanged = "order.status_changed",
        /// A line was cancelled (or changed): the order as it now stands.
        OrderChanged = "order.changed",
        /// Every line was cancelled before production.
        OrderCancelled = "order.cancelled",
        WorkOrderCompleted = "work_order.completed",
        ShipmentCreated = "shipment.created",
        ShipmentDelivered = "shipment.delivered",
        CatalogPublished = "catalog.published",
        ClaimOpened = "claim.opened",
        ClaimDecided = "claim.decided",
        /// A profile now meets a segment's rules.
        ProfileEnteredSegment = "profile.entered_segment",
        /// A profile no longer meets a segment's rules (or was erased).
        ProfileLeftSegment = "profile.left_segment",
    }
);

/// An event as stored in the outbox and sent to webhooks: the body is
/// `{"type", "timestamp", "data"}`, `data` being the object as the API
/// returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformEvent {
    pub id: EventId,
    pub brand_id: BrandId,
    pub kind: EventType,
    pub at: Timestamp,
    /// The JSON body, exactly as signed and sent.
    pub payload: String,
}

impl PlatformEvent {
    /// An event about `data` (serialized as the API shows it).
    pub fn new(
        brand_id: &BrandId,
        kind: EventType,
        at: Timestamp,
        data: &impl Serialize,
    ) -> PlatformEvent {
        let id = EventId::new();
        /// Written straight to text, with no `serde_json::Value` tree in
        /// between: a bulk order of thousands of lines is a big event.
        #[derive(Serialize)]
        struct Envelope<'a, T> {
            data: &'a T,
            timestamp: Timestamp,
            #[serde(rename = "type")]
            kind: EventType,
        }
        let payload = serde_json::to_string(&Envelope {
            data,
            timestamp: at,
            kind,
        })
        .unwrap_or_else(|e| {
            // Kiln's own types always serialize; say so if one ever does not.
            serde_json::json!({"type": kind, "timestamp": at, "error": e.to_string()}).to_string()
        });
        PlatformEvent {
            id,
            brand_id: brand_id.clone(),
            kind,
            at,
            payload,
        }
    }
}

/// A partner's URL subscribed to some event types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpoint {
    pub id: WebhookId,
    #[serde(skip)]
    pub brand_id: BrandId,
    pub url: String,
    pub description: String,
    pub events: Vec<EventType>,
    /// False once the receiver answered 410 Gone, or when turned off.
    pub enabled: bool,
    /// Why it was turned off.
    pub disabled_reason: Option<String>,
    /// `whsec_...`: signs every delivery. Shown when created or rotated.
    #[serde(skip)]
    pub secret: String,
    /// The secret before the last rotation, still signing until it expires.
    #[serde(skip)]
    pub previous_secret: Option<(String, Timestamp)>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

words!(
    /// Where one delivery stands.
    DeliveryState, "delivery state" {
        /// Waiting for its next attempt.
        Pending = "pending",
        /// The endpoint answered 2xx.
        Delivered = "delivered",
        /// Every retry failed (or the endpoint is gone): only a replay sends it again.
        Failed = "failed",
    }
);

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: DeliveryId,
    pub endpoint_id: WebhookId,
    pub event_id: EventId,
    pub event_type: EventType,
    pub state: DeliveryState,
    pub attempts: i64,
    /// When it is tried next, while pending.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<Timestamp>,
    /// The HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    pub attempt: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub status: Option<i64>,
    pub duration_ms: i64,
    /// The start of the receiver's answer.
    pub response: String,
    pub error: Option<String>,
}

/// A delivery due now, with what sending it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: DeliveryId,
    pub brand_id: BrandId,
    pub endpoint_id: WebhookId,
    pub event_id: EventId,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<(String, Timestamp)>,
    pub payload: String,
    pub attempts: i64,
}

/// What the worker learned from one attempt, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub delivery: DeliveryId,
    pub brand_id: BrandId,
    pub endpoint_id: WebhookId,
    pub attempt: DeliveryAttempt,
    /// The state after it: delivered, pending again (with its next time) or failed.
    pub state: DeliveryState,
    pub next_attempt_at: Option<Timestamp>,
    /// The receiver answered 410 Gone: the endpoint is turned off.
    pub gone: bool,
}
