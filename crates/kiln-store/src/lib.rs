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

mod migrate;
mod postgres;
mod search;
mod sql;
mod sqlite;
mod traits;

pub use kiln_domain::*;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use traits::*;

/// The store's traits, to call their methods on a `dyn Store`.
pub mod prelude {
    pub use crate::traits::{
        BulkStore, CatalogStore, FactoryStore, OrderStore, PassportStore, PlanningStore,
        PlatformStore, ProfileStore, SegmentStore, StaffStore, Store, WebhookStore,
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
    /// The database cannot be reached (connection refused, pool exhausted,
    /// I/O): the request may succeed later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error")]
    Database(#[source] sqlx::Error),
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
            sqlx::Error::Database(ref d) if d.is_unique_violation() => StoreError::Conflict(
                "a concurrent change to the same thing came first; read it again and retry".into(),
            ),
            sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => StoreError::Database(e),
            other => StoreError::Database(other),
        }
    }
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
