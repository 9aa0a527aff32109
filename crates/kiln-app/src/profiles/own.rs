//! Kiln's own events, into the same stream as a brand's: the storefront's
//! pages and the e-commerce spec's `Product Viewed`, `Product Added`, plus
//! `Product Configured` and `Design Saved`, and a shopper identified at
//! checkout. Recorded off the request's path: a page never waits for them,
//! and a failure is logged, never shown.

use kiln_domain::{Brand, CallType, IdentityKind};
use serde_json::{Map, Value, json};

use super::tracking::Call;
use crate::{App, time};

/// One of Kiln's own calls, for a visitor known by their anonymous id.
#[derive(Debug, Clone)]
pub struct OwnEvent {
    kind: CallType,
    name: Option<String>,
    anonymous_id: String,
    traits: Map<String, Value>,
    properties: Map<String, Value>,
}

impl OwnEvent {
    /// A `track` of `event` by the visitor `anonymous_id`.
    pub fn track(anonymous_id: &str, event: &str) -> OwnEvent {
        OwnEvent {
            kind: CallType::Track,
            name: Some(event.to_string()),
            anonymous_id: anonymous_id.to_string(),
            traits: Map::new(),
            properties: Map::new(),
        }
    }

    /// A `page` named `name` seen by the visitor.
    pub fn page(anonymous_id: &str, name: &str) -> OwnEvent {
        OwnEvent {
            kind: CallType::Page,
            ..OwnEvent::track(anonymous_id, name)
        }
    }

    /// The visitor says who they are (at checkout): `email` and `name`.
    pub fn identify(anonymous_id: &str, email: &str, name: &str) -> OwnEvent {
        let mut traits = Map::new();
        traits.insert("email".into(), email.into());
        if !name.trim().is_empty() {
            traits.insert("name".into(), name.trim().into());
        }
        OwnEvent {
            kind: CallType::Identify,
            name: None,
            anonymous_id: anonymous_id.to_string(),
            traits,
            properties: Map::new(),
        }
    }

    /// Adds a property.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> OwnEvent {
        self.properties.insert(key.to_string(), value.into());
        self
    }

    fn call(self) -> Call {
        let now = time::now();
        let message_id = format!("kiln-{}", uuid::Uuid::now_v7().simple());
        let mut identifiers = vec![(IdentityKind::AnonymousId, self.anonymous_id.clone())];
        if let Some(Value::String(email)) = self.traits.get("email") {
            identifiers.push((IdentityKind::Email, email.clone()));
        }
        let mut body = json!({
            "type": self.kind.as_str(),
            "messageId": message_id,
            "anonymousId": self.anonymous_id,
            "timestamp": now.to_string(),
            "context": {"library": {"name": "kiln"}},
        });
        match self.kind {
            CallType::Track => body["event"] = self.name.clone().into(),
            CallType::Page | CallType::Screen => body["name"] = self.name.clone().into(),
            _ => {}
        }
        if !self.properties.is_empty() {
            body["properties"] = Value::Object(self.properties);
        }
        let traits = (!self.traits.is_empty()).then_some(self.traits);
        if let Some(t) = &traits {
            body["traits"] = Value::Object(t.clone());
        }
        Call {
            message_id,
            kind: self.kind,
            name: self.name,
            identifiers,
            traits,
            at: now,
            received_at: now,
            body: body.to_string(),
            own: true,
        }
    }
}

impl App {
    /// Records Kiln's own event for the brand, off the request's path.
    pub fn record_event(&self, brand: &Brand, event: OwnEvent) {
        self.profiles
            .ingest_later(brand, event.call(), "an event of the storefront".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identify_carries_the_email_as_an_identity() {
        let c = OwnEvent::identify("v1", "Ada@Example.com", "Ada").call();
        assert_eq!(c.kind, CallType::Identify);
        assert!(
            c.identifiers
                .contains(&(IdentityKind::Email, "Ada@Example.com".into()))
        );
        assert_eq!(c.traits.unwrap()["name"], "Ada");
        let t = OwnEvent::track("v1", "Product Viewed")
            .with("product_id", "mug")
            .call();
        let body: Value = serde_json::from_str(&t.body).unwrap();
        assert_eq!(body["event"], "Product Viewed");
        assert_eq!(body["properties"]["product_id"], "mug");
    }
}
