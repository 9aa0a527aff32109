//! Customer profiles: events from every channel, the identities they carry,
//! and the one profile per person those identities resolve to.
//!
//! An [`Identity`] is a kind ([`IdentityKind`]) and a normalised value. The
//! brand's [`ResolutionRules`] say which kinds count, in what priority, how
//! many of each one profile may hold, and which values are junk that never
//! identify anyone ([`ResolutionRules::blocked`]).

use serde::{Deserialize, Serialize};

use crate::{MergeId, ProfileId, Timestamp, WriteKeyId};

words!(
    /// What an identity is.
    IdentityKind, "identity kind" {
        /// The brand's own id for a signed-in user (Segment's `userId`).
        UserId = "user_id",
        /// An email address, trimmed and lower-cased.
        Email = "email",
        /// A phone number in E.164 (`+4915112345678`).
        Phone = "phone",
        /// A store's member card number.
        MemberCard = "member_card",
        /// A device or browser before sign-in (Segment's `anonymousId`).
        AnonymousId = "anonymous_id",
    }
);

/// One identifier of a person: a kind and its normalised value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
}

impl Identity {
    /// `kind` with `raw` normalised, or none for a value that cannot be one
    /// (an email without `@`, a phone without digits, an empty value).
    pub fn parse(kind: IdentityKind, raw: &str) -> Option<Identity> {
        let value = normalise(kind, raw)?;
        Some(Identity { kind, value })
    }
}

/// The stored form of `raw` as a `kind`, or none when it is no such value.
pub fn normalise(kind: IdentityKind, raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() || t.len() > 256 {
        return None;
    }
    match kind {
        IdentityKind::Email => {
            let e = t.to_lowercase();
            let (local, domain) = e.split_once('@')?;
            (!local.is_empty() && !domain.is_empty() && !e.contains(char::is_whitespace))
                .then_some(e)
        }
        IdentityKind::Phone => {
            // E.164: a plus and 8 to 15 digits; spaces, dots, dashes and
            // brackets are dropped, a leading 00 is the plus.
            let plus = t.starts_with('+') || t.starts_with("00");
            let digits: String = t.chars().filter(char::is_ascii_digit).collect();
            let digits = if t.starts_with("00") {
                &digits[2..]
            } else {
                &digits[..]
            };
            let ok = t
                .chars()
                .all(|c| c.is_ascii_digit() || " +-.()/".contains(c));
            (plus && ok && (8..=15).contains(&digits.len())).then(|| format!("+{digits}"))
        }
        IdentityKind::UserId | IdentityKind::MemberCard | IdentityKind::AnonymousId => {
            Some(t.to_string())
        }
    }
}

/// How one kind of identity takes part in resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityRule {
    pub kind: IdentityKind,
    /// 1 is the strongest. When an event's identities would break a limit,
    /// the weakest are set aside until the rest resolve without breaking one.
    pub priority: u32,
    /// Most values of this kind one profile may hold (`user_id` 1: two
    /// signed-in users are never one person).
    pub limit: u32,
}

/// A brand's identity resolution settings, as Segment Unify has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolutionRules {
    /// One rule per kind that resolves; a kind left out is ignored.
    pub identities: Vec<IdentityRule>,
    /// Values that identify no one, whatever their kind (compared after
    /// normalising, and case-insensitively).
    pub blocked: Vec<String>,
}

impl Default for ResolutionRules {
    fn default() -> ResolutionRules {
        let rule = |kind, priority, limit| IdentityRule {
            kind,
            priority,
            limit,
        };
        ResolutionRules {
            identities: vec![
                rule(IdentityKind::UserId, 1, 1),
                rule(IdentityKind::MemberCard, 2, 1),
                rule(IdentityKind::Email, 3, 5),
                rule(IdentityKind::Phone, 4, 5),
                rule(IdentityKind::AnonymousId, 5, 1000),
            ],
            blocked: [
                "null",
                "undefined",
                "nil",
                "none",
                "n/a",
                "na",
                "unknown",
                "anonymous",
                "guest",
                "test",
                "0",
                "-1",
                "[object object]",
                "true",
                "false",
                "test@test.com",
                "test@example.com",
                "noemail@example.com",
                "null@null.com",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl ResolutionRules {
    /// The rule for `kind`, if it resolves.
    pub fn rule(&self, kind: IdentityKind) -> Option<&IdentityRule> {
        self.identities.iter().find(|r| r.kind == kind)
    }

    /// Whether `value` is junk that identifies no one.
    pub fn blocked(&self, value: &str) -> bool {
        let v = value.trim();
        self.blocked.iter().any(|b| b.eq_ignore_ascii_case(v))
            || (v.contains('@')
                && self
                    .blocked
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(v.split('@').next().unwrap_or(""))))
    }
}

/// A profile as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub id: ProfileId,
    pub identities: Vec<Identity>,
    /// The latest value of every trait any of its events set.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub traits: serde_json::Map<String, serde_json::Value>,
    /// The profiles merged into this one, oldest first.
    pub merged: Vec<ProfileMerge>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// One merge: `merged` joined the profile because of one event's identities.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileMerge {
    pub id: MergeId,
    pub merged: ProfileId,
    /// What joined them: the message id of the event.
    pub because: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

words!(
    /// Segment's kinds of call.
    CallType, "call type" {
        Identify = "identify",
        Track = "track",
        Page = "page",
        Screen = "screen",
        Group = "group",
        Alias = "alias",
    }
);

/// An event as kept: who, what, when, and the body as it came.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackedEvent {
    pub message_id: String,
    #[serde(rename = "type")]
    pub kind: CallType,
    /// A track's event name, a page's or screen's name.
    pub name: Option<String>,
    pub profile_id: ProfileId,
    /// When it happened, corrected for the client's clock.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub timestamp: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub received_at: Timestamp,
    /// The event as sent (properties, traits, context).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub body: serde_json::Value,
}

/// A write key as listed: the key itself is shown once, when made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WriteKey {
    pub id: WriteKeyId,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_phones_normalise() {
        assert_eq!(
            normalise(IdentityKind::Email, "  OAO.x@Example.COM ").as_deref(),
            Some("oao.x@example.com")
        );
        assert_eq!(normalise(IdentityKind::Email, "no-at-sign"), None);
        assert_eq!(
            normalise(IdentityKind::Phone, "+49 (151) 123-45678").as_deref(),
            Some("+4915112345678")
        );
        assert_eq!(
            normalise(IdentityKind::Phone, "0044 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(normalise(IdentityKind::Phone, "020 7946 0958"), None);
        assert_eq!(normalise(IdentityKind::UserId, "   "), None);
    }

    #[test]
    fn junk_values_are_blocked() {
        let rules = ResolutionRules::default();
        for v in ["null", "NULL", " anonymous ", "-1", "0", "null@example.com"] {
            assert!(rules.blocked(v), "{v}");
        }
        assert!(!rules.blocked("ada@example.com"));
    }
}

/// A group of profiles defined by rules, kept up to date as events arrive;
/// entering or leaving it fires `profile.entered_segment` or
/// `profile.left_segment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Segment {
    pub id: crate::SegmentId,
    pub name: String,
    /// All of them hold for a member.
    pub rules: Vec<SegmentRule>,
    /// Mail sent to each profile that enters it (to its email), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<SegmentMail>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// The mail a segment sends to whoever enters it: plain text, where
/// `{name}` stands for the profile's `name` (or `first_name`) trait, or
/// "there" when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentMail {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub subject: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 10000))]
    pub body: String,
}

/// A message waiting in the mail outbox, written with what caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: String,
    pub brand_id: crate::BrandId,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created_at: Timestamp,
    pub attempts: i64,
}

/// One rule of a segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SegmentRule {
    /// Did `event` (within the last `within_days`, if given), for
    /// `product_id` and at `store_id` when given: `Product Configured` of a
    /// sneaker in the last 7 days; `Order Completed` at the Berlin store.
    Did {
        event: String,
        #[serde(default)]
        within_days: Option<u32>,
        #[serde(default)]
        product_id: Option<String>,
        #[serde(default)]
        store_id: Option<String>,
    },
    /// Did not do `event` (within the last `within_days`, if given).
    DidNot {
        event: String,
        #[serde(default)]
        within_days: Option<u32>,
        #[serde(default)]
        product_id: Option<String>,
        #[serde(default)]
        store_id: Option<String>,
    },
    /// The trait `name` is `equals`.
    Trait {
        name: String,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        equals: serde_json::Value,
    },
}
