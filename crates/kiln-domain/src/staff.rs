//! People who work for a brand: staff accounts with a role, and the
//! sessions they sign in with. A role says what a person may do; API keys
//! stay for machines.

use jiff::Timestamp;
use serde::Serialize;

use crate::{BrandId, StaffId};

words!(
    /// What a staff member does, and so what they may see and change.
    Role, "role" {
        /// Everything in the brand, staff and keys included.
        Admin = "admin",
        /// The catalog: models, versions, prices.
        ProductManager = "product_manager",
        /// Planning, purchasing, disruptions, shipping and claims.
        Planner = "planner",
        /// Work centre queues: start and complete operations.
        Operator = "operator",
        /// Store mode, for their own stores only.
        StoreClerk = "store_clerk",
        /// Reads the console; changes nothing.
        Analyst = "analyst",
    }
);

impl Role {
    /// The API scopes that match the role, for a key that works for a
    /// person in it (a planner's spreadsheet, an operator's terminal). None
    /// for a store clerk: a key cannot be held to one store, and store mode
    /// needs no key.
    pub fn scopes(self) -> Option<Vec<crate::Scope>> {
        use crate::Scope::*;
        Some(match self {
            Role::Admin => vec![Admin],
            Role::ProductManager => vec![CatalogWrite, OrdersRead, FactoryRead, PlanningRead],
            Role::Planner => vec![PlanningWrite, FactoryWrite, OrdersRead],
            Role::Operator => vec![OperationsWrite, FactoryRead],
            Role::StoreClerk => return None,
            Role::Analyst => vec![OrdersRead, FactoryRead, PlanningRead],
        })
    }
}

/// A staff account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMember {
    pub id: StaffId,
    #[serde(skip)]
    pub brand_id: BrandId,
    /// Normalised (trimmed, lowercase); one account per email on the platform.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// For a store clerk: the stores they work at.
    pub stores: Vec<String>,
    /// The argon2id hash (PHC string); none until they set a password.
    #[serde(skip)]
    pub password_hash: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Set when the account was removed: it signs in no more.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub removed_at: Option<Timestamp>,
}

/// A signed-in browser: the SHA-256 of the secret in its cookie, whose
/// staff member, and when it started and was last used (for the absolute
/// and idle timeouts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub token_hash: String,
    pub staff_id: StaffId,
    pub brand_id: BrandId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

words!(
    /// What a one-time link mailed to a staff member is for.
    TokenPurpose, "token purpose" {
        /// Set a first password after being invited.
        Invite = "invite",
        /// Set a new password after asking for one.
        Reset = "reset",
    }
);

/// A one-time link's secret as the store keeps it (its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffToken {
    pub token_hash: String,
    pub brand_id: BrandId,
    pub staff_id: StaffId,
    pub purpose: TokenPurpose,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}
