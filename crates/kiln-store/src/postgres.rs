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
    /// The connections brand locks are taken and held on ([`crate::lock`]),
    /// apart from the ones doing the work. Connected when first needed.
    locks: Pool<Postgres>,
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
        // sqlx pings a connection when it goes back to the pool, and by
        // default again when it is taken out: a second round trip per query
        // that finds nothing the first would not have (a connection that
        // died idle fails its query, which answers 503, and is dropped).
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let locks = crate::lock::lock_pool(options);
        let store = PostgresStore {
            read: pool.clone(),
            write: pool,
            leases: None,
            locks,
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

crate::sql::impl_store!(PostgresStore, Postgres, "postgres", postgres);

/// A brand's lock for some work, across the servers sharing the database.
async fn lock_brand_on(
    store: &PostgresStore,
    brand: &kiln_domain::BrandId,
    work: crate::BrandWork,
) -> crate::Result<crate::BrandLock> {
    crate::lock::lock_on(&store.locks, brand, work).await
}

/// Multi-row inserts on PostgreSQL: one statement per table whatever the
/// number of rows, `INSERT INTO t (a, b) SELECT * FROM UNNEST($1::text[],
/// $2::int8[]) ...`, so each connection prepares it once and reuses it. (A
/// `VALUES` list has a different text for every row count: at group-commit
/// batch sizes it missed the statement cache and cost a parse per insert.)
pub(crate) async fn insert_many(
    conn: &mut sqlx::PgConnection,
    head: &str,
    rows: Vec<Vec<crate::sql::Arg<'_>>>,
    tail: &str,
) -> crate::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    insert_together(conn, vec![(head.to_string(), rows, tail.to_string())]).await
}

/// Runs `script` in the caller's transaction, in order. Inserts that follow
/// each other go in one statement, each a data-modifying `WITH` of it
/// (PostgreSQL runs every one to completion, and checks foreign keys at the
/// statement's end): the order writer's batch was a round trip per table,
/// each waited for by the whole batch.
pub(crate) async fn run_script(
    conn: &mut sqlx::PgConnection,
    script: crate::sql::Script<'_>,
) -> crate::Result<()> {
    use crate::sql::Step;
    let mut inserts = Vec::new();
    for step in script.steps {
        match step {
            Step::Insert(head, rows, tail) => inserts.push((head, rows, tail)),
            Step::Statement(sql, args) => {
                insert_together(conn, std::mem::take(&mut inserts)).await?;
                let mut query = sqlx::query(&sql);
                for arg in args {
                    query = crate::sql::bind_arg!(query, arg);
                }
                query.execute(&mut *conn).await?;
            }
        }
    }
    insert_together(conn, inserts).await?;
    Ok(())
}

/// Inserts (none, one, or several in one statement: `WITH i0 AS (INSERT
/// ...), i1 AS (INSERT ...) INSERT ...`); the rows the last inserted.
async fn insert_together(
    conn: &mut sqlx::PgConnection,
    inserts: Vec<(String, Vec<Vec<crate::sql::Arg<'_>>>, String)>,
) -> crate::Result<u64> {
    use crate::sql::Arg;
    use std::fmt::Write;
    let Some(last) = inserts.len().checked_sub(1) else {
        return Ok(0);
    };
    let mut sql = String::new();
    let mut n = 0;
    for (i, (head, rows, tail)) in inserts.iter().enumerate() {
        if i == 0 && last > 0 {
            sql.push_str("WITH ");
        }
        if i < last {
            let _ = write!(sql, "{}i{i} AS (", if i > 0 { ", " } else { "" });
        } else if last > 0 {
            sql.push(' ');
        }
        let _ = write!(sql, "INSERT INTO {head} SELECT * FROM UNNEST(");
        for (j, arg) in rows[0].iter().enumerate() {
            n += 1;
            let kind = match arg {
                Arg::I(_) | Arg::OptI(_) => "int8",
                _ => "text",
            };
            let _ = write!(sql, "{}${n}::{kind}[]", if j > 0 { ", " } else { "" });
        }
        sql.push(')');
        sql.push_str(tail);
        if i < last {
            sql.push(')');
        }
    }
    let mut query = sqlx::query(&sql);
    for (_, rows, _) in &inserts {
        for column in 0..rows[0].len() {
            match &rows[0][column] {
                Arg::I(_) | Arg::OptI(_) => {
                    let values: Vec<Option<i64>> = rows
                        .iter()
                        .map(|r| match &r[column] {
                            Arg::I(v) => Some(*v),
                            Arg::OptI(v) => *v,
                            _ => None,
                        })
                        .collect();
                    query = query.bind(values);
                }
                _ => {
                    let values: Vec<Option<String>> = rows
                        .iter()
                        .map(|r| match &r[column] {
                            Arg::S(v) => Some((*v).to_string()),
                            Arg::O(v) => Some(v.clone()),
                            Arg::OptS(v) => v.map(str::to_string),
                            Arg::OptO(v) => v.clone(),
                            _ => None,
                        })
                        .collect();
                    query = query.bind(values);
                }
            }
        }
    }
    Ok(query.execute(conn).await?.rows_affected())
}

/// Moves booked operations in place in one statement, `UPDATE ... FROM
/// UNNEST(...)`, whatever their number: inside the order writer's
/// transaction every statement is a round trip the whole batch waits for.
/// A row named twice keeps its last version (an `UPDATE ... FROM` must not
/// match one row twice).
pub(crate) async fn move_bookings(
    conn: &mut sqlx::PgConnection,
    brand: &str,
    rows: &[kiln_domain::BookingRow],
) -> crate::Result<()> {
    let mut last: std::collections::BTreeMap<(&str, i64, i64), &kiln_domain::BookingRow> =
        std::collections::BTreeMap::new();
    for r in rows {
        last.insert((r.order_id.as_str(), r.line_no, r.seq), r);
    }
    if last.is_empty() {
        return Ok(());
    }
    let rows: Vec<&kiln_domain::BookingRow> = last.into_values().collect();
    let ints =
        |f: fn(&kiln_domain::BookingRow) -> i64| rows.iter().map(|r| f(r)).collect::<Vec<i64>>();
    sqlx::query(
        "UPDATE bookings AS b SET day = v.day, machine = v.machine, \
         setup_start = v.setup_start, start_at = v.start_at, end_at = v.end_at, \
         setup_minutes = v.setup_minutes, made_on_machine = v.made_on \
         FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], \
                     $6::int8[], $7::text[], $8::int8[], $9::int8[], $11::int8[]) \
           AS v(day, machine, setup_start, start_at, end_at, setup_minutes, order_id, line_no, seq, \
                made_on) \
         WHERE b.brand_id = $10 AND b.order_id = v.order_id AND b.line_no = v.line_no \
           AND b.seq = v.seq",
    )
    .bind(
        rows.iter()
            .map(|r| r.day.map(|d| d.to_string()).unwrap_or_default())
            .collect::<Vec<String>>(),
    )
    .bind(ints(|r| r.machine))
    .bind(ints(|r| r.setup_start))
    .bind(ints(|r| r.start_at))
    .bind(ints(|r| r.end_at))
    .bind(ints(|r| r.setup_minutes))
    .bind(rows.iter().map(|r| r.order_id.as_str().to_string()).collect::<Vec<String>>())
    .bind(ints(|r| r.line_no))
    .bind(ints(|r| r.seq))
    .bind(brand)
    .bind(rows.iter().map(|r| r.made_on).collect::<Vec<Option<i64>>>())
    // Planned for its arguments every time, never cached generic: planned
    // before the table had statistics (a new database, the first minute of
    // a load), the cached plan scanned every booking of the brand.
    .persistent(false)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
