//! API keys: who is calling, and what they may do.
//!
//! A key is shown once, when it is issued; the store keeps only its SHA-256
//! hash, so a leaked database does not leak working keys. Brand keys carry
//! scopes ([`Scope`]); platform admin keys create brands and read every
//! audit log. A revoked key is refused from the next request on by the
//! server that revoked it, and by the other servers sharing the database
//! within [`KEY_CACHE_TTL`] ([`KeyCache`]); a rotated key keeps working until
//! its overlap ends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// How long a key checked against the store is trusted without reading it
/// again. Every request of a busy client used to read its key: a round trip
/// to PostgreSQL per request, most of the work of a cheap one.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);
/// At most this many keys are remembered; the cache starts afresh when full.
const KEY_CACHE_MAX: usize = 4096;

/// The keys this server checked in the last [`KEY_CACHE_TTL`], by hash: the
/// record as the store had it, so expiry is still judged at each request.
/// Only keys found are kept (an unknown secret is looked up every time).
/// Any change to a key made through this server empties it, and a read that
/// began before the change is not kept ([`KeyCache::reading`]).
#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<String, (Instant, Caller)>>,
    /// Moves on at every [`KeyCache::clear`].
    generation: AtomicU64,
}

/// When a read of the store for a key began, for [`KeyCache::put`].
pub(crate) struct Reading {
    at: Instant,
    generation: u64,
}

impl KeyCache {
    fn get(&self, hash: &str) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(at, _)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(_, caller)| caller.clone())
    }

    /// Marks the start of a read of the store, before it is sent.
    fn reading(&self) -> Reading {
        Reading {
            at: Instant::now(),
            generation: self.generation.load(Ordering::SeqCst),
        }
    }

    /// Keeps what a read found, as of when it began; not if a key changed
    /// meanwhile (the read may predate a revocation).
    fn put(&self, hash: String, caller: Caller, read: Reading) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::SeqCst) != read.generation {
            return;
        }
        if entries.len() >= KEY_CACHE_MAX {
            entries.clear();
        }
        entries.insert(hash, (read.at, caller));
    }

    /// Forgets every key: one was revoked, rotated or issued.
    pub(crate) fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }
}

/// Whether a key read from the store (or remembered) still lets its holder in.
fn admitted(caller: Caller) -> Result<Caller> {
    let open = match &caller {
        Caller::Admin(key) => key.revoked_at.is_none(),
        Caller::Brand { key, .. } => key.active(time::now()),
    };
    if open {
        Ok(caller)
    } else {
        Err(Error::Unauthorized)
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
        if let Some(caller) = self.keys.get(&h) {
            return admitted(caller);
        }
        let read = self.keys.reading();
        let found = if secret.starts_with("kiln_admin_") {
            self.store.admin_key_by_hash(&h).await?.map(Caller::Admin)
        } else {
            self.store
                .api_key_by_hash(&h)
                .await?
                .map(|(key, brand)| Caller::Brand { key, brand })
        };
        let caller = found.ok_or(Error::Unauthorized)?;
        self.keys.put(h, caller.clone(), read);
        admitted(caller)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Caller {
        Caller::Admin(AdminKey {
            id: ApiKeyId::new(),
            label: "ops".into(),
            created_at: Timestamp::now(),
            revoked_at: None,
        })
    }

    #[test]
    fn a_key_read_is_kept_for_its_second() {
        let cache = KeyCache::default();
        let read = cache.reading();
        cache.put("h".into(), admin(), read);
        assert!(cache.get("h").is_some());
        assert!(cache.get("other").is_none());
        cache.clear();
        assert!(cache.get("h").is_none());
    }

    /// A read that began before a key changed (it may have found the key
    /// still active) is not kept: the change's `clear` came between.
    #[test]
    fn a_read_overtaken_by_a_change_is_not_kept() {
        let cache = KeyCache::default();
        let read = cache.reading();
        cache.clear();
        cache.put("h".into(), admin(), read);
        assert!(cache.get("h").is_none());
    }
}
