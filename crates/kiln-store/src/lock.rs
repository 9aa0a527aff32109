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
//! held on a connection of a pool of its own ([`lock_pool`]: the waiters
//! and holders never take the connections the work needs) until the
//! [`BrandLock`] drops.
//! - Taken with `pg_try_advisory_lock`, tried again after 2 ms, then twice
//!   as long each time up to 20 ms, for up to [`LOCK_WAIT`] in all
//!   (counting the wait for a connection); then [`StoreError::Busy`] (503,
//!   safe to retry). A blocking `pg_advisory_lock` under a timeout could be
//!   granted after the wait was given up.
//! - Given back by the pool: every connection of the lock pool runs
//!   `pg_advisory_unlock_all()` when it comes back, and is closed if that
//!   fails (which ends its session and its locks). So the lock is given
//!   back however its holder ends, a request that went away while a try
//!   was in flight included, and never stays on an idle connection.
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
    /// The connection holding it.
    held: Option<PoolConnection<Postgres>>,
}

impl BrandLock {
    /// No lock to hold: one process owns the database.
    pub fn none() -> BrandLock {
        BrandLock { held: None }
    }
}

impl Drop for BrandLock {
    fn drop(&mut self) {
        let Some(conn) = self.held.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_err() {
            // No runtime to hand it back to the pool on (sqlx would panic):
            // closing the connection ends the session and its lock.
            drop(conn.detach());
        }
        // Otherwise the pool takes it back and unlocks it (`lock_pool`).
    }
}

/// The pool brand locks are held on: it gives every lock of a connection
/// back as the connection returns (see the module's doc).
pub(crate) fn lock_pool(options: sqlx::postgres::PgConnectOptions) -> Pool<Postgres> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(LOCK_WAIT)
        .after_release(|conn, _| {
            Box::pin(async move {
                sqlx::query("SELECT pg_advisory_unlock_all()")
                    .execute(&mut *conn)
                    .await?;
                Ok(true)
            })
        })
        .connect_lazy_with(options)
}

/// Takes `work`'s lock of `brand` on a connection of `pool`.
pub(crate) async fn lock_on(
    pool: &Pool<Postgres>,
    brand: &BrandId,
    work: BrandWork,
) -> crate::Result<BrandLock> {
    let name = format!("kiln:{}:{}", work.as_str(), brand.as_str());
    let deadline = Instant::now() + LOCK_WAIT;
    let mut conn = pool.acquire().await?;
    let mut pause = Duration::from_millis(2);
    loop {
        let taken: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                .bind(&name)
                .fetch_one(&mut *conn)
                .await?;
        if taken {
            return Ok(BrandLock { held: Some(conn) });
        }
        if Instant::now() + pause >= deadline {
            return Err(StoreError::Busy(format!(
                "{name}: another server held the lock for {} s",
                LOCK_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}
