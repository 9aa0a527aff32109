//! Brand locks: work on a brand that one server at a time may do, when
//! several servers share one PostgreSQL database.
//!
//! A brand's plan has its lease ([`crate::lease`]); some work outside the
//! plan also reads, decides and then writes, and two servers doing it for
//! one brand at once would decide on what the other is changing. Resolving
//! tracked events to profiles is such work: two servers each keeping the
//! first events of the same new person would each see no profile for them,
//! each make one, and one transaction would then fail on the identity the
//! other stored first.
//!
//! Such work takes the brand's lock for it ([`crate::LeaseStore::lock_brand`]):
//! a PostgreSQL **session advisory lock** keyed by the work and the brand,
//! held on a connection of a small pool of its own (so the holders of four
//! brands' locks never take the connections their work needs) until the
//! [`BrandLock`] drops.
//! - Taken with `pg_try_advisory_lock`, tried again every 2 ms for up to
//!   [`LOCK_WAIT`]; then the store is unavailable for now (503, safe to
//!   retry). A blocking `pg_advisory_lock` under a timeout could be granted
//!   after the wait was given up, on a connection back in the pool.
//! - Given back when the guard drops: a task unlocks it and the connection
//!   goes back to the pool; if that fails, or there is no runtime to run
//!   it, the connection is closed, which ends the session and its locks.
//! - A server that dies holding it loses its session, and the lock with it.
//!
//! The embedded SQLite store and a database only one server uses need no
//! such lock (the process's own locks do): the guard is then empty.

use std::time::{Duration, Instant};

use kiln_domain::BrandId;
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Postgres};

use crate::StoreError;

/// The longest a server waits for another to finish its work on a brand.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Work on a brand that one server at a time does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrandWork {
    /// Resolving tracked events to profiles, merging, unmerging, erasing.
    Profiles,
}

impl BrandWork {
    pub fn as_str(self) -> &'static str {
        match self {
            BrandWork::Profiles => "profiles",
        }
    }
}

/// A brand's lock for one kind of work, held until dropped.
#[must_use = "the lock is given back as soon as it is dropped"]
pub struct BrandLock {
    held: Option<(PoolConnection<Postgres>, String)>,
}

impl BrandLock {
    /// No lock to hold: one process owns the database.
    pub fn none() -> BrandLock {
        BrandLock { held: None }
    }
}

impl Drop for BrandLock {
    fn drop(&mut self) {
        let Some((mut conn, name)) = self.held.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            conn.close_on_drop();
            return;
        };
        runtime.spawn(async move {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
                .bind(&name)
                .execute(&mut *conn)
                .await;
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, "{name}: closing the connection to give the lock back");
                conn.close_on_drop();
            }
        });
    }
}

/// Takes `work`'s lock of `brand` on a connection of `pool`.
pub(crate) async fn lock_on(
    pool: &Pool<Postgres>,
    brand: &BrandId,
    work: BrandWork,
) -> crate::Result<BrandLock> {
    let name = format!("kiln:{}:{}", work.as_str(), brand.as_str());
    let mut conn = pool.acquire().await?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        let taken: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                .bind(&name)
                .fetch_one(&mut *conn)
                .await?;
        if taken {
            return Ok(BrandLock {
                held: Some((conn, name)),
            });
        }
        if Instant::now() >= deadline {
            return Err(StoreError::Unavailable(sqlx::Error::Protocol(format!(
                "{name}: another server held the lock for {} s",
                LOCK_WAIT.as_secs()
            ))));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
