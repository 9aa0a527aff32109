//! SQLite, the embedded default: one file in the data directory, in WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

/// Reads go through a pool; writes through a single connection, because
/// SQLite has one writer at a time and a queue in-process is cheaper than
/// `SQLITE_BUSY` retries.
#[derive(Clone)]
pub struct SqliteStore {
    read: Pool<Sqlite>,
    write: Pool<Sqlite>,
    /// Always `None`: one process owns the file (see [`crate::lease`]).
    leases: Option<std::sync::Arc<crate::Leases>>,
}

impl SqliteStore {
    /// Opens (creating if needed) `kiln.db` in `data_dir`, and migrates it.
    pub async fn open_dir(data_dir: &Path) -> crate::Result<SqliteStore> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| crate::StoreError::Database(sqlx::Error::Io(e)))?;
        SqliteStore::open(&format!("sqlite://{}", data_dir.join("kiln.db").display())).await
    }

    /// Opens a `sqlite://PATH` URL, and migrates it.
    pub async fn open(url: &str) -> crate::Result<SqliteStore> {
        SqliteStore::open_with(url, None).await
    }

    /// As [`SqliteStore::open`], but as if the disk had room for only
    /// `max_pages` pages of the database: how the tests fill a disk.
    pub async fn open_with(url: &str, max_pages: Option<u32>) -> crate::Result<SqliteStore> {
        // WAL with synchronous=NORMAL survives a killed process without losing
        // a committed transaction; only a power cut can lose the last ones.
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 32 MiB of page cache per connection (SQLite's default is 2):
            // the event and identity indexes stay in memory under load.
            .pragma("cache_size", "-32768");
        let options = match max_pages {
            Some(n) => options.pragma("max_page_count", n.to_string()),
            None => options,
        };
        // Checkpoint the WAL every 16 MiB rather than every 4: fewer, larger
        // checkpoints write a hot index page once instead of many times.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            // A write connection still in a transaction when it is taken
            // again (a COMMIT that failed, on a full disk, and a ROLLBACK that
            // could not end it) would turn every later transaction into a
            // savepoint of one that never commits: acknowledged, never
            // written. It is closed instead (which rolls it back), and the
            // pool opens a fresh one.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection;
                    Ok(!conn.is_in_transaction())
                })
            })
            .connect_with(options.clone().pragma("wal_autocheckpoint", "4000"))
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        let store = SqliteStore {
            read,
            write,
            leases: None,
        };
        store.migrate().await?;
        Ok(store)
    }
}

crate::sql::impl_store!(SqliteStore, Sqlite, "sqlite");
