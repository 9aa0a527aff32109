//! PostgreSQL, for production.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

#[derive(Clone)]
pub struct PostgresStore {
    read: Pool<Postgres>,
    write: Pool<Postgres>,
}

impl PostgresStore {
    /// Connects to a `postgres://` URL, and migrates the database.
    pub async fn open(url: &str) -> crate::Result<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        let store = PostgresStore {
            read: pool.clone(),
            write: pool,
        };
        store.migrate().await?;
        Ok(store)
    }
}

crate::sql::impl_store!(PostgresStore, Postgres, "postgres");
