//! Leases: which server owns a brand's plan, when several servers share one
//! PostgreSQL database.
//!
//! A brand's live plan (schedule, material positions, open batches) lives in
//! the memory of one process, and every order is planned against it. Two
//! processes planning the same brand would each promise the same machine
//! minutes. So one process at a time holds a brand's **lease**: a row of
//! `brand_leases` with the holder, its address (where the others forward the
//! brand's requests), an **epoch** and an expiry on the database's clock.
//!
//! - A server takes a brand's lease when it is free or expired, which moves
//!   the epoch on, and only then rebuilds the brand's plan from the store.
//! - The holder renews its leases every second; a holder that dies stops
//!   renewing, and another server takes the brand once the lease expires.
//! - **Fencing**: every transaction that writes what the plan decided
//!   (orders, bookings, allocations, replans, receipts) first reads the
//!   brand's lease row `FOR SHARE` and checks it is still this holder's, at
//!   the epoch it took. A holder that paused past its expiry and came back
//!   finds the epoch moved and writes nothing ([`StoreError::NotOwner`]). A
//!   taker's `UPDATE` waits for the row lock of any transaction that passed
//!   the check, so that transaction is committed before the taker rebuilds
//!   the plan from the store, and it is seen.
//!
//! So correctness rests on the epoch and the row lock, not on clocks: the
//! expiry only decides when another server may take over.
//!
//! The embedded SQLite store has no leases: one process owns its file.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kiln_domain::BrandId;

use crate::StoreError;

/// Who holds leases: one id per process, and the address the other servers
/// forward a brand's requests to.
#[derive(Debug, Clone)]
pub struct Holder {
    pub id: String,
    pub address: String,
}

/// What taking a brand's lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// This process holds it. `fresh` when it was just taken (or taken
    /// again after another held it): the brand's plan must be rebuilt from
    /// the store.
    Held { epoch: i64, fresh: bool },
    /// Another server holds it, at `address`, for `expires_in` more at most.
    Elsewhere {
        holder: String,
        address: String,
        expires_in: Duration,
    },
}

/// One lease this process holds.
#[derive(Debug, Clone, Copy)]
struct Held {
    epoch: i64,
    /// Until when this process may act as the holder without renewing:
    /// the renewal's start plus the time to live, less a margin.
    valid_until: Instant,
}

/// The leases one process holds, with how long each is good for.
#[derive(Debug)]
pub struct Leases {
    holder: Holder,
    ttl: Duration,
    held: Mutex<HashMap<BrandId, Held>>,
    /// Takes run one at a time, so concurrent requests for a brand whose
    /// lease lapsed make one take, not a race between two.
    pub(crate) taking: tokio::sync::Mutex<()>,
}

impl Leases {
    /// Leases held as `holder`, each for `ttl` after its last renewal.
    pub fn new(holder: Holder, ttl: Duration) -> Leases {
        Leases {
            holder,
            ttl,
            held: Mutex::new(HashMap::new()),
            taking: tokio::sync::Mutex::new(()),
        }
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// The time to live of a lease after its last renewal.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub(crate) fn ttl_ms(&self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<BrandId, Held>> {
        // A panic while holding this plain map leaves it consistent.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this process may act as the brand's holder now, without
    /// asking the database: held, and renewed recently enough.
    pub fn valid(&self, brand: &BrandId) -> bool {
        self.map()
            .get(brand)
            .is_some_and(|h| h.valid_until > Instant::now())
    }

    /// The epoch this process holds the brand at, renewed or not.
    pub(crate) fn epoch(&self, brand: &BrandId) -> Option<i64> {
        self.map().get(brand).map(|h| h.epoch)
    }

    /// Every brand held, with its epoch.
    pub(crate) fn all(&self) -> Vec<(BrandId, i64)> {
        self.map()
            .iter()
            .map(|(b, h)| (b.clone(), h.epoch))
            .collect()
    }

    /// Records a take or a renewal that started at `since`.
    pub(crate) fn hold(&self, brand: &BrandId, epoch: i64, since: Instant) {
        // Act as the holder a quarter of the time to live less than the
        // database gives: a clock that runs fast here stays on the safe side.
        let valid_until = since + self.ttl - self.ttl / 4;
        self.map()
            .insert(brand.clone(), Held { epoch, valid_until });
    }

    /// Forgets a lease: another server took it, or it was given back.
    pub(crate) fn drop_brand(&self, brand: &BrandId) {
        self.map().remove(brand);
    }

    pub(crate) fn clear(&self) {
        self.map().clear();
    }

    /// The epoch to check inside a transaction writing `brand`'s plan:
    /// not held is refused before anything is written.
    pub(crate) fn fence_epoch(&self, brand: &BrandId) -> crate::Result<i64> {
        self.epoch(brand).ok_or(StoreError::NotOwner)
    }
}

/// The database's clock in epoch milliseconds, per backend: every server
/// compares expiries on the same clock.
pub(crate) fn now_ms_sql(backend: &str) -> &'static str {
    if backend == "postgres" {
        "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"
    } else {
        "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
    }
}
