//! The database at fault for now is a `StoreError::Unavailable` (the API's
//! 503 with `Retry-After`), never a 500: a full disk on SQLite, a backend
//! terminated by a restarting PostgreSQL.

use kiln_store::StoreError;
use sqlx::Connection;

#[tokio::test]
async fn a_full_sqlite_database_is_unavailable_not_broken() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("full.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE t (v TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    // As if the disk had room for a few pages only.
    sqlx::query("PRAGMA max_page_count = 8")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut full = None;
    for _ in 0..1000 {
        if let Err(e) = sqlx::query("INSERT INTO t VALUES (hex(randomblob(2000)))")
            .execute(&mut conn)
            .await
        {
            full = Some(e);
            break;
        }
    }
    let e = StoreError::from(full.expect("the database fills up"));
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    // What was written before stays readable.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(n > 0);
}

#[tokio::test]
async fn a_terminated_postgresql_backend_is_unavailable() {
    let Ok(url) = std::env::var("KILN_TEST_POSTGRES") else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    // What a restart does to every connection: "terminating connection due
    // to administrator command" (57P01).
    let e = sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(&mut conn)
        .await
        .expect_err("the backend is gone");
    let e = StoreError::from(e);
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
}
