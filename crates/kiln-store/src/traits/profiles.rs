//! What the store keeps of people (issue 13): profiles with their
//! identities, traits and events, the segments they join, and the mail
//! sent to them.

use async_trait::async_trait;
use kiln_domain::*;

use crate::Result;

/// A profile as resolution needs it: its identities and traits.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileState {
    pub id: ProfileId,
    pub identities: Vec<Identity>,
    pub traits: serde_json::Map<String, serde_json::Value>,
    pub created_at: Timestamp,
}

/// An identity joining a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIdentity {
    pub identity: Identity,
    /// The root that holds it once the batch is written.
    pub profile_id: ProfileId,
    /// The profile it joined first (an unmerge gives it back there).
    pub origin_id: ProfileId,
}

/// One merge: `merged` (and whatever was merged into it) joins `survivor`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMerge {
    pub id: MergeId,
    pub survivor: ProfileId,
    pub merged: ProfileId,
    /// The message id of the event that joined them.
    pub because: String,
    /// `merged`'s traits before, for an unmerge to give back.
    pub merged_traits: serde_json::Map<String, serde_json::Value>,
    pub at: Timestamp,
}

/// An event to keep, resolved to a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTrackedEvent {
    pub message_id: String,
    pub profile_id: ProfileId,
    pub kind: CallType,
    pub name: Option<String>,
    pub at: Timestamp,
    pub received_at: Timestamp,
    /// The event as sent, as JSON text.
    pub body: String,
}

/// What one batch of events changes, as resolution decided it. Written in
/// one transaction, in this order: profiles, identities, merges, events,
/// traits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChanges {
    pub new_profiles: Vec<(ProfileId, Timestamp)>,
    pub identities: Vec<NewIdentity>,
    pub merges: Vec<NewMerge>,
    pub events: Vec<NewTrackedEvent>,
    /// The whole traits of each root profile they changed on.
    pub traits: Vec<(ProfileId, serde_json::Map<String, serde_json::Value>)>,
    /// Sales at stores' tills the events report (a store's `Order
    /// Completed`), and the stores they name that are added if new.
    pub sales: Vec<StoreSale>,
    pub stores: Vec<StoreLocation>,
    pub at: Option<Timestamp>,
}

/// An undo of one merge: `profiles` (the merged one first, then what had
/// been merged into it) leave the survivor.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmerge {
    pub merge: MergeId,
    pub profiles: Vec<ProfileId>,
    pub traits: serde_json::Map<String, serde_json::Value>,
    pub at: Timestamp,
}

/// Deleting a person: the profiles (a root and those merged into it), the
/// hashes of their identities to suppress, and the emails and phones whose
/// orders lose their personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct Erasure {
    pub profiles: Vec<ProfileId>,
    pub suppress: Vec<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub at: Timestamp,
}

/// What an erasure removed, for its audit entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    pub events: u64,
    pub identities: u64,
    pub orders: u64,
}

/// Write keys, events, identities and profiles.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    async fn add_write_key(
        &self,
        brand: &BrandId,
        key: &WriteKey,
        hash: &str,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn write_keys(&self, brand: &BrandId) -> Result<Vec<WriteKey>>;
    /// The brand of a write key that is not revoked.
    async fn write_key_by_hash(&self, hash: &str) -> Result<Option<(WriteKey, BrandId)>>;
    async fn revoke_write_key(
        &self,
        brand: &BrandId,
        id: &WriteKeyId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<()>;

    async fn resolution_rules(&self, brand: &BrandId) -> Result<Option<ResolutionRules>>;
    async fn set_resolution_rules(
        &self,
        brand: &BrandId,
        rules: &ResolutionRules,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Which of these message ids are already kept.
    async fn seen_messages(&self, brand: &BrandId, ids: &[String]) -> Result<Vec<String>>;
    /// Which of these hashes are suppressed.
    async fn suppressed(&self, brand: &BrandId, hashes: &[String]) -> Result<Vec<String>>;
    /// The root profile holding each of these identities that one holds.
    async fn identity_owners(
        &self,
        brand: &BrandId,
        identities: &[Identity],
    ) -> Result<Vec<(Identity, ProfileId)>>;
    /// Root profiles with their identities and traits.
    async fn profile_states(&self, brand: &BrandId, ids: &[ProfileId])
    -> Result<Vec<ProfileState>>;
    async fn apply_profile_changes(&self, brand: &BrandId, changes: &ProfileChanges) -> Result<()>;

    /// The root a profile id belongs to now (itself, or the one it was merged
    /// into); none for an id never seen or erased.
    async fn profile_root(&self, brand: &BrandId, id: &ProfileId) -> Result<Option<ProfileId>>;
    /// A root and every profile merged into it.
    async fn profile_members(&self, brand: &BrandId, root: &ProfileId) -> Result<Vec<ProfileId>>;
    /// The merges into these profiles not undone, oldest first.
    async fn profile_merges(
        &self,
        brand: &BrandId,
        into: &[ProfileId],
    ) -> Result<Vec<(ProfileId, ProfileMerge)>>;
    /// The events of these profiles, newest first, at most `limit`, older
    /// than `before` (epoch ms) when given.
    async fn profile_events(
        &self,
        brand: &BrandId,
        members: &[ProfileId],
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<TrackedEvent>>;
    /// The traits the merged profile had when `merge` was made.
    async fn merged_traits(
        &self,
        brand: &BrandId,
        merge: &MergeId,
    ) -> Result<serde_json::Map<String, serde_json::Value>>;
    async fn unmerge_profile(
        &self,
        brand: &BrandId,
        undo: &Unmerge,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn erase_profile(
        &self,
        brand: &BrandId,
        erasure: &Erasure,
        audit: &AuditEntry,
    ) -> Result<Erased>;
}

/// Segments of a brand's profiles and who is in each now.
/// What one re-check of segments changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MembershipChanges {
    pub entered: Vec<(SegmentId, ProfileId)>,
    pub left: Vec<(SegmentId, ProfileId)>,
    pub events: Vec<PlatformEvent>,
    pub mails: Vec<OutgoingMail>,
    pub at: Option<Timestamp>,
}

/// Mail waiting to be sent, across brands: a worker takes what is due.
#[async_trait]
pub trait MailStore: Send + Sync {
    /// Up to `limit` messages not sent whose next attempt is due at `now`,
    /// oldest first.
    async fn due_mail(&self, now: Timestamp, limit: i64) -> Result<Vec<OutgoingMail>>;
    /// Claims a due message for this server before it is sent (as
    /// [`WebhookStore::claim_deliveries`]): false when another took it.
    async fn claim_mail(
        &self,
        brand: &BrandId,
        id: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool>;
    /// Marks a message sent.
    async fn mail_sent(&self, brand: &BrandId, id: &str, at: Timestamp) -> Result<()>;
    /// Records a failed attempt and when to try again (none: give up).
    async fn mail_failed(
        &self,
        brand: &BrandId,
        id: &str,
        error: &str,
        next_at: Option<Timestamp>,
    ) -> Result<()>;
}

#[async_trait]
pub trait SegmentStore: Send + Sync {
    async fn add_segment(&self, brand: &BrandId, segment: &Segment) -> Result<()>;
    async fn segments(&self, brand: &BrandId) -> Result<Vec<Segment>>;
    /// How many profiles each segment holds.
    async fn segment_counts(&self, brand: &BrandId) -> Result<Vec<(SegmentId, i64)>>;
    /// `(segment, profile)` for these profiles' memberships.
    async fn memberships(
        &self,
        brand: &BrandId,
        profiles: &[ProfileId],
    ) -> Result<Vec<(SegmentId, ProfileId)>>;
    async fn segment_members(&self, brand: &BrandId, segment: &SegmentId)
    -> Result<Vec<ProfileId>>;
    /// Memberships entered and left, with their events, the mail they send
    /// and the day's counts, in one transaction.
    async fn change_memberships(&self, brand: &BrandId, c: &MembershipChanges) -> Result<()>;
    /// Per segment and day since `since` (`YYYY-MM-DD`): entered, left.
    async fn segment_days(
        &self,
        brand: &BrandId,
        since: Date,
    ) -> Result<Vec<(SegmentId, Date, i64, i64)>>;
    /// The profiles (as first resolved, not their roots) with an event of
    /// one of these names at or after `from` and before `to`.
    async fn profiles_with_events_between(
        &self,
        brand: &BrandId,
        names: &[String],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ProfileId>>;
    /// The profiles (as first resolved, not their roots) with an event of
    /// one of these names.
    async fn profiles_with_events(
        &self,
        brand: &BrandId,
        names: &[String],
    ) -> Result<Vec<ProfileId>>;
}
