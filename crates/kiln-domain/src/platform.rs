//! The platform around the brands: API keys and their scopes, the platform
//! admin's keys, the audit log, and catalog versions.

use serde::Serialize;

use crate::{ApiKeyId, AuditId, BrandId, Timestamp};

words!(
    /// What a key may do. A route names the scope it needs; `admin` holds
    /// every scope of its brand, and `orders:write` includes `orders:read`.
    Scope, "scope" {
        /// Publish catalog versions.
        CatalogWrite = "catalog:write",
        /// Read orders and customers.
        OrdersRead = "orders:read",
        /// Place orders (and read them).
        OrdersWrite = "orders:write",
        /// Place online orders and nothing else: a publishable key, safe to
        /// put in a web page or an app, that reads no order and cannot speak
        /// for a store or a business buyer.
        OrdersOnline = "orders:online",
        /// Read work orders, queues, materials and purchases.
        FactoryRead = "factory:read",
        /// Start and complete operations, receive purchases, ship.
        FactoryWrite = "factory:write",
        /// Start and complete operations, and nothing else of the factory:
        /// an operator's terminal.
        OperationsWrite = "operations:write",
        /// Read the schedule, shortages, material plan and demand.
        PlanningRead = "planning:read",
        /// Mark work centres down, re-sequence, import sales, buy for the forecast.
        PlanningWrite = "planning:write",
        /// Read customer profiles, their identities and events.
        ProfilesRead = "profiles:read",
        /// Erase and unmerge profiles, change resolution rules, make write keys.
        ProfilesWrite = "profiles:write",
        /// Subscribe, change and replay webhooks.
        WebhooksWrite = "webhooks:write",
        /// Everything of the brand: keys, webhooks, the audit log.
        Admin = "admin",
    }
);

impl Scope {
    /// Whether holding `self` grants `needed`.
    pub fn grants(self, needed: Scope) -> bool {
        self == needed
            || self == Scope::Admin
            || matches!(
                (self, needed),
                (Scope::OrdersWrite, Scope::OrdersRead)
                    | (Scope::OrdersWrite, Scope::OrdersOnline)
                    | (Scope::FactoryWrite, Scope::FactoryRead)
                    | (Scope::FactoryWrite, Scope::OperationsWrite)
                    | (Scope::PlanningWrite, Scope::PlanningRead)
                    | (Scope::ProfilesWrite, Scope::ProfilesRead)
            )
    }
}

/// A brand's API key as listed: never the secret, which is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    #[serde(skip)]
    pub brand_id: BrandId,
    pub label: String,
    pub scopes: Vec<Scope>,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// When a rotated key stops working.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    /// Whether the key works at `now`.
    pub fn active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }

    pub fn grants(&self, needed: Scope) -> bool {
        self.scopes.iter().any(|s| s.grants(needed))
    }
}

/// A platform admin key: creates brands, reads every audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminKey {
    pub id: ApiKeyId,
    pub label: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

words!(
    /// What an audit entry records.
    AuditAction, "audit action" {
        BrandCreated = "brand.created",
        KeyIssued = "api_key.issued",
        KeyRotated = "api_key.rotated",
        KeyRevoked = "api_key.revoked",
        CatalogPublished = "catalog.published",
        WebhookCreated = "webhook.created",
        WebhookUpdated = "webhook.updated",
        WebhookDeleted = "webhook.deleted",
        WebhookSecretRotated = "webhook.secret_rotated",
        WebhookReplayed = "webhook.replayed",
        DowntimeCancelled = "downtime.cancelled",
        PassportKeyRotated = "passport_key.rotated",
        PassportKeyRevoked = "passport_key.revoked",
        StaffAdded = "staff.added",
        StaffRemoved = "staff.removed",
        StaffSignedOutEverywhere = "staff.signed_out_everywhere",
        WriteKeyIssued = "write_key.issued",
        WriteKeyRevoked = "write_key.revoked",
        ProfileErased = "profile.erased",
        ProfileUnmerged = "profile.unmerged",
        ResolutionRulesChanged = "resolution_rules.changed",
    }
);

/// One administrative action: who did what to what, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: AuditId,
    /// The brand acted on; none for platform-wide actions.
    #[serde(skip)]
    pub brand_id: Option<BrandId>,
    /// The key that acted: `key_...` of a brand key, `admin:<id>` for a
    /// platform admin key, `cli` for the command line.
    pub actor: String,
    pub action: AuditAction,
    /// What was acted on: a key id, a catalog version, a webhook id.
    pub subject: String,
    /// Details in words.
    pub detail: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

/// One published version of a brand's catalog. Versions are immutable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogVersion {
    pub version: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub published_at: Timestamp,
    /// The actor who published it (see [`AuditEntry::actor`]).
    pub published_by: String,
    /// The product ids of this version.
    pub products: Vec<String>,
}
