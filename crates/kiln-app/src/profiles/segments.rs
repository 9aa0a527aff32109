//! Segments: profiles that meet a set of rules over their traits and
//! events, kept up to date as events arrive (each batch re-checks the
//! profiles it touched) and as time passes (a sweep re-checks members of
//! segments with a time window). Entering or leaving one writes
//! `profile.entered_segment` or `profile.left_segment` to the outbox, which
//! the signed webhooks deliver.

use std::collections::{BTreeSet, HashMap};

use kiln_domain::{
    BrandId, EventType, PlatformEvent, ProfileId, Segment, SegmentId, SegmentRule, Timestamp,
    TrackedEvent,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::ingest::Profiles;
use crate::error::{Error, FieldError, Result};
use crate::{App, time};

/// Events of a profile a segment's rules look at, newest first.
pub const EVENTS_CHECKED: i64 = 500;

/// Whether `event` is the rule's: its name, product and store.
fn is(e: &TrackedEvent, event: &str, product: Option<&str>, store: Option<&str>) -> bool {
    if e.name.as_deref() != Some(event) {
        return false;
    }
    let props = &e.body["properties"];
    let product_ok = product.is_none_or(|p| {
        props["product_id"].as_str() == Some(p)
            || props["products"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|x| x["product_id"].as_str() == Some(p)))
    });
    let store_ok = store.is_none_or(|s| {
        e.body["context"]["store_id"].as_str() == Some(s) || props["store_id"].as_str() == Some(s)
    });
    product_ok && store_ok
}

/// Whether a profile with `traits` and `events` (newest first) meets every rule now.
pub fn meets(
    rules: &[SegmentRule],
    traits: &Map<String, Value>,
    events: &[TrackedEvent],
    now: Timestamp,
) -> bool {
    let since = |days: Option<u32>| {
        days.map(|d| {
            now.checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(d)))
                .unwrap_or(now)
        })
    };
    let any = |event: &str, days: Option<u32>, product: Option<&str>, store: Option<&str>| {
        let from = since(days);
        events
            .iter()
            .any(|e| from.is_none_or(|f| e.timestamp >= f) && is(e, event, product, store))
    };
    rules.iter().all(|r| match r {
        SegmentRule::Did {
            event,
            within_days,
            product_id,
            store_id,
        } => any(
            event,
            *within_days,
            product_id.as_deref(),
            store_id.as_deref(),
        ),
        SegmentRule::DidNot {
            event,
            within_days,
            product_id,
            store_id,
        } => !any(
            event,
            *within_days,
            product_id.as_deref(),
            store_id.as_deref(),
        ),
        SegmentRule::Trait { name, equals } => traits.get(name) == Some(equals),
    })
}

/// A segment to make.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    pub name: String,
    /// All must hold; at least one `did` rule says whom to look at.
    pub rules: Vec<SegmentRule>,
}

/// A segment with how many profiles it holds now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentView {
    #[serde(flatten)]
    pub segment: Segment,
    pub members: i64,
}

impl SegmentInput {
    fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("/name", "a name of 1 to 100 characters"));
        }
        if self.rules.is_empty() || self.rules.len() > 10 {
            errors.push(FieldError::new("/rules", "1 to 10 rules"));
        }
        if !self
            .rules
            .iter()
            .any(|r| matches!(r, SegmentRule::Did { .. }))
        {
            errors.push(FieldError::new(
                "/rules",
                "at least one `did` rule: it says which profiles to look at",
            ));
        }
        for (n, r) in self.rules.iter().enumerate() {
            let (event, days) = match r {
                SegmentRule::Did {
                    event, within_days, ..
                }
                | SegmentRule::DidNot {
                    event, within_days, ..
                } => (event.as_str(), *within_days),
                SegmentRule::Trait { name, .. } => (name.as_str(), None),
            };
            if event.trim().is_empty() || event.chars().count() > 200 {
                errors.push(FieldError::new(
                    format!("/rules/{n}"),
                    "an event or trait name of 1 to 200 characters",
                ));
            }
            if days.is_some_and(|d| !(1..=3650).contains(&d)) {
                errors.push(FieldError::new(
                    format!("/rules/{n}/within_days"),
                    "from 1 to 3650 days",
                ));
            }
        }
        errors
    }
}

impl Profiles {
    /// Re-checks `profiles` (any ids; their roots are checked) against the
    /// brand's segments, and records who entered and left.
    pub(crate) async fn refresh_segments(
        &self,
        brand: &BrandId,
        profiles: &[ProfileId],
        only: Option<&[Segment]>,
    ) -> Result<()> {
        let all;
        let segments = match only {
            Some(s) => s,
            None => {
                all = self.store.segments(brand).await?;
                &all[..]
            }
        };
        if segments.is_empty() || profiles.is_empty() {
            return Ok(());
        }
        let mut roots = BTreeSet::new();
        for p in profiles {
            if let Some(root) = self.store.profile_root(brand, p).await? {
                roots.insert(root);
            }
        }
        let roots: Vec<ProfileId> = roots.into_iter().collect();
        let states = self.store.profile_states(brand, &roots).await?;
        let current: BTreeSet<(SegmentId, ProfileId)> = self
            .store
            .memberships(brand, &roots)
            .await?
            .into_iter()
            .collect();
        let now = time::now();
        let (mut entered, mut left, mut events) = (Vec::new(), Vec::new(), Vec::new());
        let names: HashMap<&SegmentId, &str> =
            segments.iter().map(|s| (&s.id, s.name.as_str())).collect();
        for state in &states {
            let members = self.store.profile_members(brand, &state.id).await?;
            let history = self
                .store
                .profile_events(brand, &members, None, EVENTS_CHECKED)
                .await?;
            for s in segments {
                let key = (s.id.clone(), state.id.clone());
                let now_in = meets(&s.rules, &state.traits, &history, now);
                let was_in = current.contains(&key);
                if now_in == was_in {
                    continue;
                }
                let kind = if now_in {
                    EventType::ProfileEnteredSegment
                } else {
                    EventType::ProfileLeftSegment
                };
                let data = serde_json::json!({
                    "profile_id": state.id, "segment_id": s.id, "segment": names[&s.id],
                });
                events.push(PlatformEvent::new(brand, kind, now, &data));
                if now_in {
                    entered.push(key);
                } else {
                    left.push(key);
                }
            }
        }
        if entered.is_empty() && left.is_empty() {
            return Ok(());
        }
        self.store
            .change_memberships(brand, &entered, &left, &events, now)
            .await?;
        self.notify_outbox();
        Ok(())
    }
}

impl App {
    /// Makes a segment and fills it with the profiles that meet it now.
    pub async fn create_segment(&self, slug: &str, input: SegmentInput) -> Result<SegmentView> {
        let errors = input.check();
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        let brand = self.brand_record(slug).await?;
        let segment = Segment {
            id: SegmentId::new(),
            name: input.name.trim().to_string(),
            rules: input.rules,
            created_at: time::now(),
        };
        self.store.add_segment(&brand.id, &segment).await?;
        let did: Vec<String> = segment
            .rules
            .iter()
            .filter_map(|r| match r {
                SegmentRule::Did { event, .. } => Some(event.clone()),
                _ => None,
            })
            .collect();
        let candidates = self.store.profiles_with_events(&brand.id, &did).await?;
        let _held = self.profiles.hold(&brand.id).await;
        self.profiles
            .refresh_segments(&brand.id, &candidates, Some(std::slice::from_ref(&segment)))
            .await?;
        let members = self
            .store
            .segment_members(&brand.id, &segment.id)
            .await?
            .len() as i64;
        Ok(SegmentView { segment, members })
    }

    /// The brand's segments and how many profiles each holds.
    pub async fn segments(&self, slug: &str) -> Result<Vec<SegmentView>> {
        let brand = self.brand_record(slug).await?;
        let counts: HashMap<SegmentId, i64> = self
            .store
            .segment_counts(&brand.id)
            .await?
            .into_iter()
            .collect();
        Ok(self
            .store
            .segments(&brand.id)
            .await?
            .into_iter()
            .map(|s| SegmentView {
                members: counts.get(&s.id).copied().unwrap_or(0),
                segment: s,
            })
            .collect())
    }

    /// Re-checks the members of every brand's segments with a time window:
    /// who no longer meets "in the last 7 days" leaves.
    pub async fn sweep_segments(&self) -> Result<()> {
        for brand in self.store.brands().await? {
            let segments: Vec<Segment> = self
                .store
                .segments(&brand.id)
                .await?
                .into_iter()
                .filter(|s| {
                    s.rules.iter().any(|r| {
                        matches!(
                            r,
                            SegmentRule::Did {
                                within_days: Some(_),
                                ..
                            } | SegmentRule::DidNot {
                                within_days: Some(_),
                                ..
                            }
                        )
                    })
                })
                .collect();
            for s in &segments {
                let members = self.store.segment_members(&brand.id, &s.id).await?;
                let _held = self.profiles.hold(&brand.id).await;
                self.profiles
                    .refresh_segments(&brand.id, &members, Some(std::slice::from_ref(s)))
                    .await?;
            }
        }
        Ok(())
    }

    /// Sweeps segments once a minute, for the life of the process.
    pub fn start_segment_sweeper(self: &std::sync::Arc<App>) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                if let Err(e) = app.sweep_segments().await {
                    tracing::warn!(error = %e.chain(), "segments were not swept");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_domain::CallType;

    fn event(name: &str, days_ago: i64, body: Value) -> TrackedEvent {
        let at = Timestamp::now() - jiff::SignedDuration::from_hours(24 * days_ago);
        TrackedEvent {
            message_id: format!("{name}{days_ago}"),
            kind: CallType::Track,
            name: Some(name.into()),
            profile_id: ProfileId::from("prf_x"),
            timestamp: at,
            received_at: at,
            body,
        }
    }

    #[test]
    fn configured_a_sneaker_lately_and_did_not_order() {
        let rules: Vec<SegmentRule> = serde_json::from_value(serde_json::json!([
            {"kind": "did", "event": "Product Configured", "within_days": 7, "product_id": "sneaker"},
            {"kind": "did_not", "event": "Order Completed", "within_days": 7},
        ]))
        .unwrap();
        let configured = event(
            "Product Configured",
            1,
            serde_json::json!({"properties": {"product_id": "sneaker"}}),
        );
        let ordered = event("Order Completed", 0, serde_json::json!({}));
        let old = event(
            "Product Configured",
            9,
            serde_json::json!({"properties": {"product_id": "sneaker"}}),
        );
        let now = Timestamp::now();
        let none = Map::new();
        assert!(meets(&rules, &none, std::slice::from_ref(&configured), now));
        assert!(!meets(&rules, &none, &[ordered, configured], now));
        assert!(!meets(&rules, &none, &[old], now));
    }

    #[test]
    fn customers_of_a_store_and_a_trait() {
        let rules: Vec<SegmentRule> = serde_json::from_value(serde_json::json!([
            {"kind": "did", "event": "Order Completed", "store_id": "berlin"},
            {"kind": "trait", "name": "plan", "equals": "pro"},
        ]))
        .unwrap();
        let berlin = event(
            "Order Completed",
            400,
            serde_json::json!({"context": {"store_id": "berlin"}}),
        );
        let mut traits = Map::new();
        traits.insert("plan".into(), "pro".into());
        assert!(meets(
            &rules,
            &traits,
            std::slice::from_ref(&berlin),
            Timestamp::now()
        ));
        assert!(!meets(&rules, &Map::new(), &[berlin], Timestamp::now()));
    }
}
