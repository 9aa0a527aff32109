//! Online and offline as one: events from every channel through Segment's
//! tracking API, and one profile per person.
//!
//! - [`tracking`] parses Segment's calls and batches (pure);
//! - [`resolve`] decides which profile each call belongs to (pure);
//! - [`ingest`] reads what a batch touches, resolves it, writes it in one
//!   transaction;
//! - this module holds the use cases: write keys, the tracking entry point,
//!   profiles shown and searched, merges undone, people erased, and each
//!   brand's resolution rules.

pub mod ingest;
pub mod own;
pub mod resolve;
pub mod segments;
pub mod store_sales;
pub mod sweep;
pub mod tracking;

use std::collections::BTreeMap;

use kiln_domain::{
    AuditAction, Brand, CallType, Decimal, Identity, IdentityKind, MergeId, OrderQuery,
    OrderStatus, OrderSummary, Profile, ProfileId, ResolutionRules, Timestamp, TrackedEvent,
    WriteKey, WriteKeyId,
};
use kiln_store::{Erasure, Unmerge};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::brands::audit_entry;
use crate::error::{Error, FieldError, Result};
use crate::{Actor, App, time};
pub use ingest::{Ingested, suppression_hash};
pub use tracking::{Refused, RequestError};

/// Events a profile page shows; older ones page through `events`.
pub const RECENT_EVENTS: i64 = 50;
/// Most events one page of a profile's events holds.
pub const MAX_EVENTS_PAGE: i64 = 500;

/// A write key as made: `write_key` is shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewWriteKey {
    #[serde(flatten)]
    pub key: WriteKey,
    /// Send it as Segment's libraries do: the HTTP Basic user name, or
    /// `writeKey` in the body.
    pub write_key: String,
}

/// A write key to make.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteKeyInput {
    /// What sends with it: "web shop", "store app".
    pub name: String,
}

/// A profile with everything known about the person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: Profile,
    /// Every order under one of its emails, from every channel, newest first.
    pub orders: Vec<OrderSummary>,
    /// What its orders came to, per currency (cancelled ones left out).
    #[schema(value_type = Object)]
    pub lifetime_value: BTreeMap<String, Decimal>,
    /// The stores it bought in, most orders first.
    pub stores: Vec<String>,
    /// Its latest events, newest first; `GET .../events` pages through all.
    pub events: Vec<TrackedEvent>,
    /// The segments it is in, by name.
    pub segments: Vec<String>,
}

/// The answer to a tracking call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tracked {
    /// Segment answers `success`.
    pub success: bool,
    #[serde(flatten)]
    pub ingested: Ingested,
    /// The calls of a batch refused, each with its index and reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Refused>,
}

/// Why a tracking request was refused: its body (400, or 413 when too
/// large), or anything a use case refuses for.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error("{0:?}")]
    Request(RequestError),
    #[error(transparent)]
    App(#[from] Error),
}

impl From<kiln_store::StoreError> for TrackError {
    fn from(e: kiln_store::StoreError) -> TrackError {
        TrackError::App(e.into())
    }
}

/// An erasure done.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureReport {
    pub profile_id: ProfileId,
    pub events_deleted: u64,
    pub identities_suppressed: u64,
    /// Orders kept for the factory and the accounts, without the person.
    pub orders_anonymised: u64,
}

/// A search for profiles by one identity: give one of these.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileSearch {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub member_card: Option<String>,
}

impl ProfileSearch {
    fn identity(&self) -> Result<Identity> {
        let given: Vec<(IdentityKind, &str, &String)> = [
            (IdentityKind::Email, "email", &self.email),
            (IdentityKind::Phone, "phone", &self.phone),
            (IdentityKind::UserId, "user_id", &self.user_id),
            (
                IdentityKind::AnonymousId,
                "anonymous_id",
                &self.anonymous_id,
            ),
            (IdentityKind::MemberCard, "member_card", &self.member_card),
        ]
        .into_iter()
        .filter_map(|(k, name, v)| v.as_ref().map(|v| (k, name, v)))
        .collect();
        match given.as_slice() {
            [(kind, name, value)] => Identity::parse(*kind, value).ok_or_else(|| {
                Error::invalid(*name, format!("`{value}` is not a valid {}", kind.as_str()))
            }),
            [] => Err(Error::invalid(
                "email",
                "search by one identity: email, phone, user_id, anonymous_id or member_card",
            )),
            _ => Err(Error::invalid(
                given[1].1,
                "search by one identity at a time",
            )),
        }
    }
}

fn not_found() -> Error {
    Error::NotFound("no such profile (it may have been erased)".into())
}

impl App {
    /// The order's customer joins their profile (or makes one) through
    /// Kiln's own `Order Completed` event, off the order's path: the order
    /// is acknowledged already, and a profile is never a reason to fail it.
    pub(crate) fn observe_order(&self, brand: &Brand, order: &kiln_domain::Order) {
        let call = ingest::order_call(order, time::now());
        self.profiles
            .ingest_later(brand, call, format!("the Order Completed of {}", order.id));
    }

    /// The root a profile id belongs to now, and every profile merged into it.
    async fn root_and_members(
        &self,
        brand: &Brand,
        id: &ProfileId,
    ) -> Result<(ProfileId, Vec<ProfileId>)> {
        let root = self
            .store
            .profile_root(&brand.id, id)
            .await?
            .ok_or_else(not_found)?;
        let members = self.store.profile_members(&brand.id, &root).await?;
        Ok((root, members))
    }

    /// Makes a write key for the tracking API, shown once.
    pub async fn create_write_key(
        &self,
        slug: &str,
        actor: &Actor,
        input: WriteKeyInput,
    ) -> Result<NewWriteKey> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("/name", "a name of 1 to 100 characters"));
        }
        let brand = self.brand_record(slug).await?;
        let secret = format!("kiln_wk_{}", uuid::Uuid::new_v4().simple());
        let key = WriteKey {
            id: WriteKeyId::new(),
            name: name.to_string(),
            prefix: secret.chars().take(12).collect(),
            created_at: time::now(),
            revoked_at: None,
        };
        let audit = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::WriteKeyIssued,
            key.id.as_str(),
            format!("write key `{name}`"),
        );
        self.store
            .add_write_key(&brand.id, &key, &crate::keys::hash(&secret), &audit)
            .await?;
        Ok(NewWriteKey {
            key,
            write_key: secret,
        })
    }

    pub async fn write_keys(&self, slug: &str) -> Result<Vec<WriteKey>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.write_keys(&brand.id).await?)
    }

    /// Revokes a write key: calls with it are refused at once.
    pub async fn revoke_write_key(&self, slug: &str, actor: &Actor, id: &WriteKeyId) -> Result<()> {
        let brand = self.brand_record(slug).await?;
        let audit = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::WriteKeyRevoked,
            id.as_str(),
            "write key revoked",
        );
        self.store
            .revoke_write_key(&brand.id, id, time::now(), &audit)
            .await
            .map_err(|e| match e {
                kiln_store::StoreError::NotFound => {
                    Error::NotFound("no such write key, or it is revoked".into())
                }
                other => other.into(),
            })
    }

    /// A tracking call or batch (`kind` none) as it came: `header_key` is the
    /// HTTP Basic user name, if any; else the body's `writeKey`.
    pub async fn track(
        &self,
        header_key: Option<&str>,
        kind: Option<CallType>,
        body: &[u8],
    ) -> Result<Tracked, TrackError> {
        let received_at = time::now();
        let parsed = match kind {
            Some(kind) => tracking::parse_single(kind, body, received_at),
            None => tracking::parse_batch(body, received_at),
        };
        // The key is checked before the body's faults are told.
        let body_key = parsed.as_ref().ok().and_then(|p| p.write_key.clone());
        let secret = header_key
            .filter(|k| !k.trim().is_empty())
            .map(str::to_string)
            .or(body_key)
            .ok_or(Error::Unauthorized)?;
        let Some((_, brand)) = self
            .store
            .write_key_by_hash(&crate::keys::hash(secret.trim()))
            .await?
        else {
            return Err(Error::Unauthorized.into());
        };
        let parsed = parsed.map_err(TrackError::Request)?;
        let ingested = self.profiles.ingest(&brand, parsed.calls).await?;
        Ok(Tracked {
            success: true,
            ingested,
            rejected: parsed.refused,
        })
    }

    /// The whole profile of a person; an id merged into another gives that one.
    pub async fn profile(&self, slug: &str, id: &ProfileId) -> Result<ProfileView> {
        let brand = self.brand_record(slug).await?;
        let root = self
            .store
            .profile_root(&brand.id, id)
            .await?
            .ok_or_else(not_found)?;
        self.profile_view(&brand, &root).await
    }

    async fn profile_view(&self, brand: &Brand, root: &ProfileId) -> Result<ProfileView> {
        let state = self
            .store
            .profile_states(&brand.id, std::slice::from_ref(root))
            .await?
            .pop()
            .ok_or_else(not_found)?;
        let members = self.store.profile_members(&brand.id, root).await?;
        let merged = self
            .store
            .profile_merges(&brand.id, &members)
            .await?
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        let events = self
            .store
            .profile_events(&brand.id, &members, None, RECENT_EVENTS)
            .await?;
        let mut orders = Vec::new();
        for email in state
            .identities
            .iter()
            .filter(|i| i.kind == IdentityKind::Email)
        {
            let query = OrderQuery {
                customer_email: Some(email.value.clone()),
                status: None,
                channel: None,
                before: None,
                limit: 200,
            };
            orders.extend(self.store.orders(&brand.id, &query).await?);
        }
        orders.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        orders.dedup_by(|a, b| a.id == b.id);
        let mut lifetime_value: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut stores: BTreeMap<String, usize> = BTreeMap::new();
        for o in orders.iter().filter(|o| o.status != OrderStatus::Cancelled) {
            *lifetime_value.entry(o.currency.clone()).or_default() += o.total;
            if let Some(s) = &o.store_id {
                *stores.entry(s.clone()).or_default() += 1;
            }
        }
        let mut stores: Vec<(String, usize)> = stores.into_iter().collect();
        stores.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let names: std::collections::HashMap<kiln_domain::SegmentId, String> = self
            .store
            .segments(&brand.id)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let segments = self
            .store
            .memberships(&brand.id, std::slice::from_ref(root))
            .await?
            .into_iter()
            .filter_map(|(s, _)| names.get(&s).cloned())
            .collect();
        Ok(ProfileView {
            segments,
            profile: Profile {
                id: root.clone(),
                identities: state.identities,
                traits: state.traits,
                merged,
                created_at: state.created_at,
            },
            orders,
            lifetime_value,
            stores: stores.into_iter().map(|(s, _)| s).collect(),
            events,
        })
    }

    /// The profile holding one identity, as a list (empty when none does).
    pub async fn find_profiles(
        &self,
        slug: &str,
        search: &ProfileSearch,
    ) -> Result<Vec<ProfileView>> {
        let identity = search.identity()?;
        let brand = self.brand_record(slug).await?;
        let owners = self
            .store
            .identity_owners(&brand.id, std::slice::from_ref(&identity))
            .await?;
        let mut out = Vec::new();
        for (_, root) in owners {
            out.push(self.profile_view(&brand, &root).await?);
        }
        Ok(out)
    }

    /// A page of a profile's events, newest first, older than `before`.
    pub async fn profile_events(
        &self,
        slug: &str,
        id: &ProfileId,
        before: Option<Timestamp>,
        limit: Option<i64>,
    ) -> Result<Vec<TrackedEvent>> {
        let limit = limit.unwrap_or(100);
        if !(1..=MAX_EVENTS_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("from 1 to {MAX_EVENTS_PAGE}"),
            ));
        }
        let brand = self.brand_record(slug).await?;
        let (_, members) = self.root_and_members(&brand, id).await?;
        Ok(self
            .store
            .profile_events(
                &brand.id,
                &members,
                before.map(|b| b.as_millisecond()),
                limit,
            )
            .await?)
    }

    /// Undoes one merge into a profile: the merged profile (with what had
    /// been merged into it) stands alone again, with its own identities,
    /// events and traits.
    pub async fn unmerge_profile(
        &self,
        slug: &str,
        actor: &Actor,
        id: &ProfileId,
        merge: &MergeId,
    ) -> Result<ProfileView> {
        let brand = self.brand_record(slug).await?;
        let _held = self.profiles.hold(&brand.id).await?;
        let (root, members) = self.root_and_members(&brand, id).await?;
        let merges = self.store.profile_merges(&brand.id, &members).await?;
        let Some(head) = merges
            .iter()
            .find(|(_, m)| m.id == *merge)
            .map(|(_, m)| m.merged.clone())
        else {
            return Err(Error::NotFound(format!(
                "profile {root} has no merge `{merge}` to undo"
            )));
        };
        // The merged profile and, transitively, what was merged into it first.
        let mut set = vec![head.clone()];
        let mut i = 0;
        while i < set.len() {
            let s = set[i].clone();
            set.extend(
                merges
                    .iter()
                    .filter(|(survivor, m)| {
                        *survivor == s && m.id != *merge && !set.contains(&m.merged)
                    })
                    .map(|(_, m)| m.merged.clone())
                    .collect::<Vec<_>>(),
            );
            i += 1;
        }
        let traits = self.store.merged_traits(&brand.id, merge).await?;
        let audit = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::ProfileUnmerged,
            root.as_str(),
            format!("merge {merge} undone: {head} stands alone again"),
        );
        let undo = Unmerge {
            merge: merge.clone(),
            profiles: set,
            traits,
            at: time::now(),
        };
        self.store.unmerge_profile(&brand.id, &undo, &audit).await?;
        drop(_held);
        self.profile_view(&brand, &root).await
    }

    /// The right to erasure: the person's profile (and every profile merged
    /// into it), their identities and events go; their orders keep what the
    /// factory and the accounts need and lose who they are; later events
    /// carrying any of their identities are dropped. Audited.
    pub async fn erase_profile(
        &self,
        slug: &str,
        actor: &Actor,
        id: &ProfileId,
    ) -> Result<ErasureReport> {
        let brand = self.brand_record(slug).await?;
        let _held = self.profiles.hold(&brand.id).await?;
        let (root, members) = self.root_and_members(&brand, id).await?;
        let state = self
            .store
            .profile_states(&brand.id, std::slice::from_ref(&root))
            .await?
            .pop()
            .ok_or_else(not_found)?;
        let of = |kind| {
            state
                .identities
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| i.value.clone())
                .collect::<Vec<_>>()
        };
        let erasure = Erasure {
            profiles: members,
            suppress: state.identities.iter().map(suppression_hash).collect(),
            emails: of(IdentityKind::Email),
            phones: of(IdentityKind::Phone),
            at: time::now(),
        };
        // The audit names the profile and counts, never the person.
        let audit = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::ProfileErased,
            root.as_str(),
            format!(
                "erased {} profile(s); {} identities suppressed",
                erasure.profiles.len(),
                erasure.suppress.len()
            ),
        );
        let erased = self
            .store
            .erase_profile(&brand.id, &erasure, &audit)
            .await?;
        Ok(ErasureReport {
            profile_id: root,
            events_deleted: erased.events,
            identities_suppressed: erasure.suppress.len() as u64,
            orders_anonymised: erased.orders,
        })
    }

    pub async fn resolution_rules(&self, slug: &str) -> Result<ResolutionRules> {
        let brand = self.brand_record(slug).await?;
        self.profiles.rules(&brand.id).await
    }

    /// Changes how identities resolve from now on; profiles already merged
    /// stay merged (undo a wrong one with an unmerge).
    pub async fn set_resolution_rules(
        &self,
        slug: &str,
        actor: &Actor,
        rules: ResolutionRules,
    ) -> Result<ResolutionRules> {
        let mut errors = Vec::new();
        let mut kinds = std::collections::BTreeSet::new();
        for (n, rule) in rules.identities.iter().enumerate() {
            if !kinds.insert(rule.kind) {
                errors.push(FieldError::new(
                    format!("/identities/{n}/kind"),
                    format!("`{}` has a rule already", rule.kind),
                ));
            }
            if !(1..=10_000).contains(&rule.limit) {
                errors.push(FieldError::new(
                    format!("/identities/{n}/limit"),
                    "a limit from 1 to 10,000",
                ));
            }
            if !(1..=100).contains(&rule.priority) {
                errors.push(FieldError::new(
                    format!("/identities/{n}/priority"),
                    "a priority from 1 (strongest) to 100",
                ));
            }
        }
        if rules.identities.is_empty() {
            errors.push(FieldError::new("/identities", "at least one kind resolves"));
        }
        if rules.blocked.len() > 1000 {
            errors.push(FieldError::new("/blocked", "at most 1,000 blocked values"));
        }
        for (n, b) in rules.blocked.iter().enumerate() {
            if b.chars().count() > 256 {
                errors.push(FieldError::new(
                    format!("/blocked/{n}"),
                    "a blocked value has at most 256 characters",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        let brand = self.brand_record(slug).await?;
        let audit = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::ResolutionRulesChanged,
            brand.slug.as_str(),
            format!(
                "{} identity kinds, {} blocked values",
                rules.identities.len(),
                rules.blocked.len()
            ),
        );
        self.store
            .set_resolution_rules(&brand.id, &rules, &audit)
            .await?;
        Ok(rules)
    }
}
