//! PostgreSQL, for production.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres};

#[derive(Clone)]
pub struct PostgresStore {
    read: Pool<Postgres>,
    write: Pool<Postgres>,
    /// Set when several servers share the database: see [`crate::lease`].
    leases: Option<std::sync::Arc<crate::Leases>>,
}

impl PostgresStore {
    /// Connects to a `postgres://` URL, and migrates the database.
    pub async fn open(url: &str) -> crate::Result<PostgresStore> {
        // A server that stalls inside a transaction (paused, partitioned)
        // holds its row locks, and a brand lease's row lock holds up the
        // server taking the brand over (see `crate::lease`): PostgreSQL ends
        // such a session after 5 s idle in its transaction, which rolls it
        // back; our transactions never wait on the client that long.
        let options = PgConnectOptions::from_str(url)?
            .options([("idle_in_transaction_session_timeout", "5s")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let store = PostgresStore {
            read: pool.clone(),
            write: pool,
            leases: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The same database, shared with other servers: this one plans a brand
    /// only while it holds the brand's lease, as `holder`, renewed within
    /// `ttl` (see [`crate::lease`]).
    pub fn with_leases(self, holder: crate::Holder, ttl: Duration) -> PostgresStore {
        PostgresStore {
            leases: Some(std::sync::Arc::new(crate::Leases::new(holder, ttl))),
            ..self
        }
    }
}

crate::sql::impl_store!(PostgresStore, Postgres, "postgres");
