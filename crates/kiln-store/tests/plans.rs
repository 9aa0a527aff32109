//! The plans SQLite picks for the reads a work order's steps make, on a
//! store as the server opens it (no statistics kept). A plan that searches
//! by the brand alone reads every line or unit the brand ever had: the
//! soak's p50 grew with the factory's age until migration 33.

use kiln_store::SqliteStore;
use sqlx::Connection;

#[tokio::test]
async fn a_work_orders_lines_and_units_are_found_by_its_index() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    SqliteStore::open_dir(dir.path())
        .await
        .expect("SQLite opens and migrates");
    let url = format!("sqlite://{}", dir.path().join("kiln.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connects");
    for sql in [
        "SELECT order_id, line_no FROM order_lines WHERE brand_id = $1 AND work_order_id = $2 \
         AND cancelled_at IS NULL ORDER BY order_id, line_no",
        "SELECT DISTINCT order_id FROM order_lines WHERE brand_id = $1 AND work_order_id = $2 \
         ORDER BY order_id",
        "SELECT serial, order_id FROM units WHERE brand_id = $1 AND work_order_id = $2 \
         ORDER BY serial",
    ] {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind("brd_a")
                .bind("wo_a")
                .fetch_all(&mut conn)
                .await
                .expect("a plan");
        let steps: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
        assert!(
            steps
                .iter()
                .all(|s| s.contains("(brand_id=? AND work_order_id=?)")),
            "{sql}: {steps:?}"
        );
    }
}
