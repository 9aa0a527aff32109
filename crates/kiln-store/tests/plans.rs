//! The plans SQLite picks for the reads a work order's steps make, on a
//! store as the server opens it (no statistics kept). A plan that searches
//! by the brand alone reads every line or unit the brand ever had: the
//! soak's p50 grew with the factory's age until migration 33. And the reads a
//! brand's rebuild makes, which must follow its open work, not its history.

use kiln_store::SqliteStore;
use sqlx::Connection;

/// A store opened and migrated as the server opens it, and a connection to it.
async fn fresh_store() -> (tempfile::TempDir, sqlx::SqliteConnection) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    SqliteStore::open_dir(dir.path())
        .await
        .expect("SQLite opens and migrates");
    let url = format!("sqlite://{}", dir.path().join("kiln.db").display());
    let conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connects");
    (dir, conn)
}

/// The steps of `sql`'s plan, its parameters bound to a brand and a work order.
async fn plan_of(conn: &mut sqlx::SqliteConnection, sql: &str) -> Vec<String> {
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .bind("brd_a")
        .bind("wo_a")
        .fetch_all(conn)
        .await
        .expect("a plan");
    plan.into_iter().map(|p| p.3).collect()
}

#[tokio::test]
async fn a_work_orders_lines_and_units_are_found_by_its_index() {
    let (_dir, mut conn) = fresh_store().await;
    for sql in [
        "SELECT order_id, line_no FROM order_lines WHERE brand_id = $1 AND work_order_id = $2 \
         AND cancelled_at IS NULL ORDER BY order_id, line_no",
        "SELECT DISTINCT order_id FROM order_lines WHERE brand_id = $1 AND work_order_id = $2 \
         ORDER BY order_id",
        "SELECT serial, order_id FROM units WHERE brand_id = $1 AND work_order_id = $2 \
         ORDER BY serial",
    ] {
        let plan = plan_of(&mut conn, sql).await;
        let steps: Vec<&str> = plan.iter().map(String::as_str).collect();
        assert!(
            steps
                .iter()
                .all(|s| s.contains("(brand_id=? AND work_order_id=?)")),
            "{sql}: {steps:?}"
        );
    }
}

/// A brand's plan is rebuilt from its open work, found by the partial
/// indexes of migration 34 (the reads are those of `scheduled_bookings`,
/// `requirements`, `open_requirements` and `open_lines`): never a search by
/// the brand alone through every order, booking, line or requirement it had.
#[tokio::test]
async fn a_rebuild_reads_the_open_work_by_its_indexes() {
    let (_dir, mut conn) = fresh_store().await;
    for (sql, first) in [
        (
            "SELECT b.order_id FROM orders o CROSS JOIN bookings b CROSS JOIN order_lines l \
             LEFT JOIN work_order_operations w ON w.brand_id = b.brand_id \
               AND w.work_order_id = l.work_order_id AND w.seq = b.seq \
             WHERE o.brand_id = $1 AND o.status IN ('planned', 'in_production', 'made') \
               AND b.brand_id = o.brand_id AND b.order_id = o.id \
               AND l.brand_id = b.brand_id AND l.order_id = b.order_id \
               AND l.line_no = b.line_no \
             ORDER BY b.order_id, b.line_no, b.seq, b.day",
            "orders_open",
        ),
        (
            "SELECT material, gross FROM material_requirements \
             WHERE brand_id = $1 AND consumed_at IS NULL",
            "material_requirements_open",
        ),
        (
            "SELECT order_id, material FROM material_requirements \
             WHERE brand_id = $1 AND consumed_at IS NULL ORDER BY order_id, material",
            "material_requirements_open",
        ),
        (
            "SELECT l.order_id FROM (SELECT DISTINCT order_id FROM material_requirements \
                   WHERE brand_id = $1 AND consumed_at IS NULL) AS r \
             CROSS JOIN order_lines l \
             WHERE l.brand_id = $1 AND l.order_id = r.order_id AND l.cancelled_at IS NULL \
             ORDER BY l.order_id, l.line_no",
            "material_requirements_open",
        ),
    ] {
        let plan = plan_of(&mut conn, sql).await;
        let steps: Vec<&str> = plan.iter().map(String::as_str).collect();
        let searches: Vec<&&str> = steps.iter().filter(|s| s.contains("USING")).collect();
        assert!(
            searches.first().is_some_and(|s| s.contains(first)),
            "{sql}: {steps:?}"
        );
        assert!(
            steps
                .iter()
                .all(|s| !s.starts_with("SCAN") || s.starts_with("SCAN r")),
            "{sql}: {steps:?}"
        );
    }
}
