//! SQLite, the embedded default: one file in the data directory, in WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

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
    /// Stops the WAL checkpointer when the last clone goes.
    _checkpointer: std::sync::Arc<Checkpointer>,
}

/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// The writer's own checkpoints, as a fallback if the checkpointer falls
/// behind: 64 MiB of WAL.
const FALLBACK_CHECKPOINT_PAGES: &str = "16384";

/// `kiln_sqlite_write_held_seconds` (on `/metrics`): how long each use
/// (a transaction, or a statement alone) held the one write connection,
/// from taking it to giving it back. Its sum over a window is how busy the
/// single writer was: every write of every brand waits for it.
const WRITE_HELD: &str = "kiln_sqlite_write_held_seconds";

/// The writer's page cache: 32 MiB (SQLite's default is 2). Its pages stay
/// valid from one transaction to the next (no one else writes), so the
/// indexes every order touches stay in memory under load.
const WRITER_CACHE: &str = "-32768";

/// A reader's page cache: 4 MiB. In WAL mode a reader drops its whole cache
/// when it begins a read after any commit, so under load a cache lives for
/// one read; a large one only kept the pages of the largest reads alive, up
/// to 32 MiB on each of nine connections (most of the server's memory in a
/// soak's heap profile).
const READER_CACHE: &str = "-4096";

/// Copies the WAL into the database file in the background, on a
/// connection of its own, so that no commit pays for it.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the
/// threshold: with one writer, every order queued behind that commit
/// waited for it (14–27 ms each time, several times a second under load;
/// most of the single-order path's p99 at 500 orders/s). A `PASSIVE`
/// checkpoint from another connection takes no writer lock: commits go on
/// meanwhile, and the WAL starts over once it has all been copied.
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Checkpointer {
    fn start(mut conn: sqlx::SqliteConnection) -> Checkpointer {
        Checkpointer(tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // A failure (a full disk) is left to the next tick and,
                // failing that, to the writer's own fallback checkpoint.
                let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut conn)
                    .await;
            }
        }))
    }
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
            .busy_timeout(Duration::from_secs(10));
        let options = match max_pages {
            Some(n) => options.pragma("max_page_count", n.to_string()),
            None => options,
        };
        // How long each use holds the one write connection (see
        // [`WRITE_HELD`]); the pool has one, so uses never overlap.
        let taken_at = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
        let released = taken_at.clone();
        // The WAL is checkpointed in the background (see [`Checkpointer`]);
        // the writer checkpoints itself only if that falls far behind.
        // No ping before a connection is taken (sqlx's default): an SQLite
        // connection does not die idle, and each ping is a trip to its thread.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            // A write connection still in a transaction when it is taken
            // again (a COMMIT that failed, on a full disk, and a ROLLBACK that
            // could not end it) would turn every later transaction into a
            // savepoint of one that never commits: acknowledged, never
            // written. It is closed instead (which rolls it back), and the
            // pool opens a fresh one.
            .before_acquire(move |conn, _| {
                let taken_at = taken_at.clone();
                Box::pin(async move {
                    use sqlx::Connection;
                    *taken_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                    Ok(!conn.is_in_transaction())
                })
            })
            .after_release(move |_, _| {
                let since = released.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(since) = since {
                    metrics::histogram!(WRITE_HELD).record(since.elapsed().as_secs_f64());
                }
                Box::pin(async { Ok(true) })
            })
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", WRITER_CACHE)
                    .pragma("wal_autocheckpoint", FALLBACK_CHECKPOINT_PAGES),
            )
            .await?;
        let checkpoints = {
            use sqlx::ConnectOptions;
            options
                .clone()
                .pragma("cache_size", READER_CACHE)
                .connect()
                .await?
        };
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.pragma("cache_size", READER_CACHE).read_only(true))
            .await?;
        let store = SqliteStore {
            read,
            write,
            leases: None,
            _checkpointer: std::sync::Arc::new(Checkpointer::start(checkpoints)),
        };
        store.migrate().await?;
        Ok(store)
    }
}

crate::sql::impl_store!(SqliteStore, Sqlite, "sqlite", sqlite);

/// One process owns an SQLite file (and never has leases): its own locks
/// are enough.
async fn lock_brand_on(
    _store: &SqliteStore,
    _brand: &kiln_domain::BrandId,
    _work: crate::BrandWork,
) -> crate::Result<crate::BrandLock> {
    Ok(crate::BrandLock::none())
}

/// Multi-row `INSERT INTO {head} VALUES (...), (...) {tail}`, chunked under
/// SQLite's limit on bound parameters. (In-process, a statement's text
/// costs little; the rows share one statement.)
pub(crate) async fn insert_many(
    conn: &mut sqlx::SqliteConnection,
    head: &str,
    rows: Vec<Vec<crate::sql::Arg<'_>>>,
    tail: &str,
) -> crate::Result<u64> {
    use crate::sql::Arg;
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(0);
    };
    let mut affected = 0;
    for chunk in rows.chunks((30_000 / width).max(1)) {
        let mut qb = sqlx::QueryBuilder::<Sqlite>::new(format!("INSERT INTO {head} "));
        qb.push_values(chunk, |mut b, row| {
            for arg in row {
                match arg {
                    Arg::S(v) => b.push_bind(*v),
                    Arg::O(v) => b.push_bind(v.clone()),
                    Arg::OptS(v) => b.push_bind(*v),
                    Arg::OptO(v) => b.push_bind(v.clone()),
                    Arg::I(v) => b.push_bind(*v),
                    Arg::OptI(v) => b.push_bind(*v),
                };
            }
        });
        qb.push(tail);
        affected += qb.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(affected)
}

/// Runs `script` in the caller's transaction, one statement at a time: in
/// process a statement costs no round trip. (Sending SQLite a script of
/// several was slower: each batch's text differed, and was prepared anew.)
pub(crate) async fn run_script(
    conn: &mut sqlx::SqliteConnection,
    script: crate::sql::Script<'_>,
) -> crate::Result<()> {
    use crate::sql::Step;
    for step in script.steps {
        match step {
            Step::Insert(head, rows, tail) => {
                insert_many(&mut *conn, &head, rows, &tail).await?;
            }
            Step::Statement(sql, args) => {
                let mut query = sqlx::query(&sql);
                for arg in args {
                    query = crate::sql::bind_arg!(query, arg);
                }
                query.execute(&mut *conn).await?;
            }
        }
    }
    Ok(())
}

/// Moves booked operations in place, in one statement whatever their
/// number: each statement is a trip to SQLite's thread and back, and the
/// order writer's batch, which moves a few bookings per order it writes,
/// waited for one per row. A row named twice takes its last version.
///
/// The rows go in as JSON: the operations' keys as a list, which finds the
/// bookings by their index (`IN`, never a scan of the brand's bookings),
/// and their new times as an object under `order|line|step`, which each
/// booking's `SET` looks up (SQLite parses the object once per statement).
pub(crate) async fn move_bookings(
    conn: &mut sqlx::SqliteConnection,
    brand: &str,
    rows: &[kiln_domain::BookingRow],
) -> crate::Result<()> {
    // The last version of each operation's row, by its key.
    let mut last: std::collections::BTreeMap<(&str, i64, i64), &kiln_domain::BookingRow> =
        std::collections::BTreeMap::new();
    for r in rows {
        last.insert((r.order_id.as_str(), r.line_no, r.seq), r);
    }
    // The look-up below names each booking by a JSON path built from its
    // order's id. Ids minted here never hold a quote or a bar; one read back
    // from elsewhere that does is moved on its own, by its key.
    let (last, odd): (Vec<_>, Vec<_>) = last
        .into_values()
        .partition(|r| !r.order_id.as_str().contains(['"', '|', '\\']));
    for r in odd {
        move_one(conn, brand, r).await?;
    }
    // A booking's look-up in the object is linear in its entries: a few
    // hundred per statement keep a large move from growing as its square.
    for chunk in last.chunks(MOVES_PER_STATEMENT) {
        move_some(conn, brand, chunk).await?;
    }
    Ok(())
}

/// Moves one booked operation in place, found by its key.
async fn move_one(
    conn: &mut sqlx::SqliteConnection,
    brand: &str,
    r: &kiln_domain::BookingRow,
) -> crate::Result<()> {
    sqlx::query(
        "UPDATE bookings SET day = $1, machine = $2, setup_start = $3, \
         start_at = $4, end_at = $5, setup_minutes = $6, made_on_machine = $11 \
         WHERE brand_id = $7 AND order_id = $8 AND line_no = $9 AND seq = $10",
    )
    .bind(r.day.map(|d| d.to_string()).unwrap_or_default())
    .bind(r.machine)
    .bind(r.setup_start)
    .bind(r.start_at)
    .bind(r.end_at)
    .bind(r.setup_minutes)
    .bind(brand)
    .bind(r.order_id.as_str())
    .bind(r.line_no)
    .bind(r.seq)
    .bind(r.made_on)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Most bookings [`move_bookings`] moves in one statement.
const MOVES_PER_STATEMENT: usize = 256;

async fn move_some(
    conn: &mut sqlx::SqliteConnection,
    brand: &str,
    rows: &[&kiln_domain::BookingRow],
) -> crate::Result<()> {
    let keys: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::json!([r.order_id.as_str(), r.line_no, r.seq]))
        .collect();
    let times: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|r| {
            let times = serde_json::json!([
                r.day.map(|d| d.to_string()).unwrap_or_default(),
                r.machine,
                r.setup_start,
                r.start_at,
                r.end_at,
                r.setup_minutes,
                r.made_on,
            ]);
            let key = format!("{}|{}|{}", r.order_id.as_str(), r.line_no, r.seq);
            (key, times)
        })
        .collect();
    // The booking's entry in the object: `$."order|line|step"` (no id here
    // holds a quote, a bar or a backslash: see `move_bookings`).
    let at = |i: usize| {
        format!("json_extract($1, '$.\"' || order_id || '|' || line_no || '|' || seq || '\"[{i}]')")
    };
    let sql = format!(
        "UPDATE bookings SET day = {}, machine = {}, setup_start = {}, start_at = {}, \
         end_at = {}, setup_minutes = {}, made_on_machine = {} \
         WHERE (brand_id, order_id, line_no, seq) IN \
               (SELECT $2, value ->> 0, value ->> 1, value ->> 2 FROM json_each($3))",
        at(0),
        at(1),
        at(2),
        at(3),
        at(4),
        at(5),
        at(6)
    );
    sqlx::query(&sql)
        .bind(serde_json::Value::Object(times).to_string())
        .bind(brand)
        .bind(serde_json::Value::Array(keys).to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
