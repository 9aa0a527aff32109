//! Segments: profiles that meet a set of rules over their traits and
//! events, kept up to date as events arrive (each batch re-checks the
//! profiles it touched) and as time passes (a sweep re-checks members of
//! segments with a time window). Entering or leaving one writes
//! `profile.entered_segment` or `profile.left_segment` to the outbox, which
//! the signed webhooks deliver.

use std::collections::{BTreeSet, HashMap};

use kiln_domain::{
    BrandId, EventType, IdentityKind, OutgoingMail, PlatformEvent, ProfileId, Segment, SegmentId,
    SegmentMail, SegmentRule, Timestamp, TrackedEvent,
};
use kiln_store::MembershipChanges;
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
    /// Mail to send each profile that enters it (at its email).
    #[serde(default)]
    pub mail: Option<SegmentMail>,
}

/// A segment with how many profiles it holds now, and how that went.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentView {
    #[serde(flatten)]
    pub segment: Segment,
    pub members: i64,
    /// The last 30 days, oldest first: who entered and left each day, and
    /// the members at its end.
    pub trend: Vec<SegmentDay>,
}

/// One day of a segment's membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SegmentDay {
    #[schema(value_type = String, format = Date)]
    pub date: jiff::civil::Date,
    pub entered: i64,
    pub left: i64,
    pub members: i64,
}

/// Days a segment's trend shows.
const TREND_DAYS: i64 = 30;

/// The last `TREND_DAYS` days up to `today`, each day's members found by
/// walking back from the count `now`.
fn trend(
    today: jiff::civil::Date,
    now: i64,
    days: &[(jiff::civil::Date, i64, i64)],
) -> Vec<SegmentDay> {
    let by_day: HashMap<jiff::civil::Date, (i64, i64)> =
        days.iter().map(|(d, e, l)| (*d, (*e, *l))).collect();
    let mut out = Vec::with_capacity(TREND_DAYS as usize);
    let mut members = now;
    for back in 0..TREND_DAYS {
        let Ok(date) = today.checked_sub(jiff::Span::new().days(back)) else {
            break;
        };
        let (entered, left) = by_day.get(&date).copied().unwrap_or((0, 0));
        out.push(SegmentDay {
            date,
            entered,
            left,
            members: members.max(0),
        });
        members -= entered - left;
    }
    out.reverse();
    out
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
        if let Some(mail) = &self.mail {
            let subject = mail.subject.trim();
            if subject.is_empty() || subject.chars().count() > 200 || subject.contains(['\r', '\n'])
            {
                errors.push(FieldError::new(
                    "/mail/subject",
                    "a subject of 1 to 200 characters on one line",
                ));
            }
            if mail.body.trim().is_empty() || mail.body.chars().count() > 10_000 {
                errors.push(FieldError::new(
                    "/mail/body",
                    "a body of 1 to 10000 characters",
                ));
            }
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
        let mut changes = MembershipChanges {
            at: Some(now),
            ..MembershipChanges::default()
        };
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
                changes
                    .events
                    .push(PlatformEvent::new(brand, kind, now, &data));
                if now_in {
                    if let Some(mail) = &s.mail
                        && let Some(m) = mail_to(brand, mail, state, now)
                    {
                        changes.mails.push(m);
                    }
                    changes.entered.push(key);
                } else {
                    changes.left.push(key);
                }
            }
        }
        if changes.entered.is_empty() && changes.left.is_empty() {
            return Ok(());
        }
        self.store.change_memberships(brand, &changes).await?;
        self.notify_outbox();
        if !changes.mails.is_empty() {
            self.notify_mail();
        }
        Ok(())
    }
}

/// The segment's mail to a profile that entered it, at its first email;
/// none when it has no email.
fn mail_to(
    brand: &BrandId,
    mail: &SegmentMail,
    state: &kiln_store::ProfileState,
    now: Timestamp,
) -> Option<OutgoingMail> {
    let to = state
        .identities
        .iter()
        .find(|i| i.kind == IdentityKind::Email)?
        .value
        .clone();
    let name = ["name", "first_name", "firstName"]
        .iter()
        .find_map(|k| state.traits.get(*k)?.as_str())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("there");
    Some(OutgoingMail {
        id: format!("mail_{}", uuid::Uuid::now_v7().simple()),
        brand_id: brand.clone(),
        to,
        subject: mail.subject.replace("{name}", name),
        body: mail.body.replace("{name}", name),
        created_at: now,
        attempts: 0,
    })
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
            mail: input.mail.map(|m| SegmentMail {
                subject: m.subject.trim().to_string(),
                body: m.body,
            }),
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
        let _held = self.profiles.hold(&brand.id).await?;
        self.profiles
            .refresh_segments(&brand.id, &candidates, Some(std::slice::from_ref(&segment)))
            .await?;
        let members = self
            .store
            .segment_members(&brand.id, &segment.id)
            .await?
            .len() as i64;
        let today = time::today();
        Ok(SegmentView {
            segment,
            members,
            trend: trend(today, members, &[(today, members, 0)]),
        })
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
        let today = time::today();
        let since = today
            .checked_sub(jiff::Span::new().days(TREND_DAYS))
            .unwrap_or(today);
        let mut days: HashMap<SegmentId, Vec<(jiff::civil::Date, i64, i64)>> = HashMap::new();
        for (segment, day, entered, left) in self.store.segment_days(&brand.id, since).await? {
            days.entry(segment).or_default().push((day, entered, left));
        }
        Ok(self
            .store
            .segments(&brand.id)
            .await?
            .into_iter()
            .map(|s| {
                let members = counts.get(&s.id).copied().unwrap_or(0);
                SegmentView {
                    trend: trend(today, members, days.get(&s.id).map_or(&[][..], |d| &d[..])),
                    members,
                    segment: s,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_domain::CallType;

    #[test]
    fn a_trend_walks_back_from_the_members_now() {
        let today: jiff::civil::Date = "2026-12-05".parse().unwrap();
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        let t = trend(
            today,
            10,
            &[(d("2026-12-05"), 4, 1), (d("2026-12-03"), 8, 0)],
        );
        assert_eq!(t.len(), 30);
        assert_eq!(t[29].members, 10);
        // 4 entered and 1 left on the 5th: 7 at the end of the 4th and 3rd.
        assert_eq!(t[28].members, 7);
        assert_eq!(t[27].members, 7);
        assert_eq!(t[27].date, d("2026-12-03"));
        // 8 entered on the 3rd: none before (never below zero).
        assert_eq!(t[26].members, 0);
    }

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
