//! Storage for Kiln: one [`Store`], implemented for SQLite (the embedded
//! default) and PostgreSQL (production).
//!
//! Both implementations run the same portable SQL (see `migrations/`), written
//! once in [`sql`] and instantiated per backend, so the two cannot drift apart;
//! what differs per backend (connection options, locking) lives in its module.
//! Every method that writes does so in a single transaction, and a method
//! whose change the platform reports (an order placed, an operation done, a
//! shipment, a replan, a catalog published) writes its events in that same
//! transaction: the outbox, which webhooks deliver from.
//!
//! The store is split by responsibility, one trait each: [`PlatformStore`]
//! (brands, keys, audit), [`CatalogStore`], [`OrderStore`], [`FactoryStore`],
//! [`PlanningStore`] and [`WebhookStore`]. [`Store`] is all of them; bring
//! them into scope with `use kiln_store::prelude::*`.
//!
//! The records are [`kiln_domain`]'s, typed: a row that does not parse into
//! them is reported as [`StoreError::Corrupt`], never guessed at.

pub mod lease;
pub mod lock;
mod migrate;
mod postgres;
mod search;
mod sql;
mod sqlite;
mod traits;

pub use kiln_domain::*;
pub use lease::{Holder, Lease, Leases};
pub use lock::{BrandLock, BrandWork};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use traits::*;

/// The store's traits, to call their methods on a `dyn Store`.
pub mod prelude {
    pub use crate::traits::{
        BulkStore, CatalogStore, FactoryStore, LeaseStore, OrderStore, PassportStore,
        PlanningStore, PlatformStore, ProfileStore, SegmentStore, StaffStore, Store, WebhookStore,
    };
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The request clashes with the stored state, e.g. completing an
    /// operation that was never started.
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached or cannot write now (connection
    /// refused or dropped, pool exhausted, restarting, disk full, I/O): the
    /// request may succeed later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Another server held a brand's lock for some work longer than the
    /// store waits for it ([`lock::LOCK_WAIT`]): nothing was done, and the
    /// request may succeed later.
    #[error("{0}")]
    Busy(String),
    /// This process no longer holds the brand's lease (another server took
    /// it): nothing was written; the brand is served elsewhere.
    #[error("another server now serves this brand")]
    NotOwner,
    #[error("stored data is corrupt")]
    Corrupt(#[from] ParseError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            sqlx::Error::Database(ref d) if unavailable(d.as_ref()) => StoreError::Unavailable(e),
            // A connection dropped in the middle of a message.
            sqlx::Error::Protocol(_) => StoreError::Unavailable(e),
            sqlx::Error::Database(ref d) if d.is_unique_violation() => StoreError::Conflict(
                "a concurrent change to the same thing came first; read it again and retry".into(),
            ),
            sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => StoreError::Database(e),
            other => StoreError::Database(other),
        }
    }
}

/// Whether a database error says the database, not the request, is at
/// fault for now. PostgreSQL: classes 08 (connection), 53 (out of
/// resources: disk, memory, connections) and 57 (shutting down, restarting,
/// cancelled by an operator). SQLite: FULL, IOERR, BUSY, LOCKED, CANTOPEN
/// and READONLY, with their extended codes (the low byte is the primary).
fn unavailable(d: &dyn sqlx::error::DatabaseError) -> bool {
    if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return ["08", "53", "57"]
            .iter()
            .any(|class| pg.code().starts_with(class));
    }
    if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return d
            .code()
            .and_then(|c| c.parse::<u32>().ok())
            .is_some_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14));
    }
    false
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> StoreError {
        StoreError::Corrupt(ParseError::new("JSON document", e.to_string()))
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// How an order placement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Written; the customer is the one stored under the order's email,
    /// which may predate this order.
    Created { customer_id: CustomerId },
    /// An order with this idempotency key already exists: nothing was written.
    Existing { order_id: OrderId },
}
