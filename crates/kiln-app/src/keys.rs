//! API keys: who is calling, and what they may do.
//!
//! A key is shown once, when it is issued; the store keeps only its SHA-256
//! hash, so a leaked database does not leak working keys. Brand keys carry
//! scopes ([`Scope`]); platform admin keys create brands and read every
//! audit log. A revoked key is refused at once (every request looks its key
//! up); a rotated key keeps working until its overlap ends.

use kiln_domain::{AdminKey, ApiKey, ApiKeyId, Brand, Scope, Timestamp};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::{App, time};

/// A new random secret: `kiln_` (brand keys) or `kiln_admin_` (platform
/// admin keys), then 256 random bits in hex.
pub fn new_secret(admin: bool) -> String {
    format!(
        "kiln_{}{}{}",
        if admin { "admin_" } else { "" },
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The start of a secret, enough to tell keys apart in a list.
pub fn prefix(secret: &str) -> String {
    let n = if secret.starts_with("kiln_admin_") {
        15
    } else {
        9
    };
    secret.chars().take(n).collect()
}

/// Who made a request, once their key checked out.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A brand's key, with its scopes.
    Brand { key: ApiKey, brand: Brand },
    /// The platform operator.
    Admin(AdminKey),
}

impl Caller {
    /// The brand this caller may act on as `needed` allows: the brand of the
    /// key, if its slug is `slug`. Another brand's key gets not-found, the
    /// same answer as a brand that does not exist, so keys cannot probe.
    pub fn brand(&self, slug: &str, needed: Scope) -> Result<&Brand> {
        match self {
            Caller::Brand { key, brand } if brand.slug == slug => {
                if key.grants(needed) {
                    Ok(brand)
                } else {
                    Err(Error::MissingScope(needed))
                }
            }
            Caller::Brand { .. } => Err(Error::NotFound(format!("no brand `{slug}`"))),
            Caller::Admin(_) => Err(Error::Forbidden(
                "a platform admin key manages brands; use one of the brand's keys for its data"
                    .into(),
            )),
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Caller::Brand { key, .. } => Actor::Key(key.id.clone()),
            Caller::Admin(key) => Actor::Admin(key.id.clone()),
        }
    }

    /// A platform admin, or an error saying one is needed.
    pub fn admin(&self) -> Result<&AdminKey> {
        match self {
            Caller::Admin(key) => Ok(key),
            Caller::Brand { .. } => Err(Error::Forbidden(
                "this needs a platform admin key (`kiln serve` prints one on a new store)".into(),
            )),
        }
    }
}

/// Who did something, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Key(ApiKeyId),
    Admin(ApiKeyId),
    /// The command line on the server (`kiln admin ...`, the demo seed).
    Cli,
    /// A staff member signed in to the console.
    Staff(String),
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Key(id) => write!(f, "{id}"),
            Actor::Admin(id) => write!(f, "admin:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::Staff(who) => write!(f, "staff:{who}"),
        }
    }
}

impl App {
    /// The caller behind a secret: a brand key still active, or a platform
    /// admin key not revoked.
    pub async fn authenticate(&self, secret: &str) -> Result<Caller> {
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(Error::Unauthorized);
        }
        let h = hash(secret);
        if secret.starts_with("kiln_admin_") {
            return match self.store.admin_key_by_hash(&h).await? {
                Some(key) if key.revoked_at.is_none() => Ok(Caller::Admin(key)),
                _ => Err(Error::Unauthorized),
            };
        }
        match self.store.api_key_by_hash(&h).await? {
            Some((key, brand)) if key.active(time::now()) => Ok(Caller::Brand { key, brand }),
            _ => Err(Error::Unauthorized),
        }
    }

    /// Mints a platform admin key, shown once.
    pub async fn mint_admin_key(&self, label: &str) -> Result<String> {
        let secret = new_secret(true);
        let key = AdminKey {
            id: ApiKeyId::new(),
            label: label.to_string(),
            created_at: time::now(),
            revoked_at: None,
        };
        self.store.add_admin_key(&key, &hash(&secret)).await?;
        Ok(secret)
    }
}

/// When a rotated key stops working if the caller does not say.
pub const DEFAULT_OVERLAP_SECONDS: i64 = 24 * 3600;
/// The longest overlap a rotation may ask for.
pub const MAX_OVERLAP_SECONDS: i64 = 30 * 24 * 3600;

/// `now + seconds`, for expiries.
pub fn after(now: Timestamp, seconds: i64) -> Timestamp {
    now.checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(now)
}
