//! The one SQL implementation of [`crate::Store`], instantiated for each
//! backend by [`impl_store!`]. Placeholders are `$1, $2, ...` in ascending
//! order, which both SQLite and PostgreSQL bind by number.
//!
//! Each trait has its own file and macro; this one holds what they share:
//! reading typed values out of rows, multi-row inserts, chunked `IN` lists, loading an order,
//! timeline entries, and the outbox (events and their fan-out to webhooks).

pub(crate) mod bulk;
pub(crate) mod catalog;
pub(crate) mod changes;
pub(crate) mod factory;
pub(crate) mod floor;
pub(crate) mod leases;
pub(crate) mod ledgers;
pub(crate) mod orders;
pub(crate) mod passports;
pub(crate) mod planning;
pub(crate) mod platform;
pub(crate) mod profiles;
pub(crate) mod reading;
pub(crate) mod rollup;
pub(crate) mod segments;
pub(crate) mod shipping;
pub(crate) mod staff;
pub(crate) mod webhooks;
pub(crate) mod writing;

use kiln_domain::{Date, Decimal, ParseError, Timestamp};

use crate::Result;

/// Whether work order `w` is there for readers and writers: not written
/// ahead of an order that is not written yet (migration 0036), so nothing
/// sees it, or adds to it, before its order exists. A literal, for
/// `concat!`: the order write's statements stay `&'static str`, built once.
macro_rules! visible_work_order {
    () => {
        "(w.staged_order_id IS NULL OR NOT EXISTS (SELECT 1 FROM staged_orders s \
         WHERE s.brand_id = w.brand_id AND s.order_id = w.staged_order_id))"
    };
}
pub(crate) use visible_work_order;

/// Text from a row, parsed into a word enum, a date or a decimal.
pub(crate) fn parsed<T: std::str::FromStr<Err = ParseError>>(text: &str) -> Result<T> {
    Ok(text.parse()?)
}

pub(crate) fn ts(ms: i64) -> Result<Timestamp> {
    Ok(kiln_domain::timestamp_ms(ms)?)
}

pub(crate) fn opt_ts(ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(ts).transpose()
}

pub(crate) fn day(text: &str) -> Result<Date> {
    Ok(kiln_domain::date(text)?)
}

/// An optional day stored as text, empty for none.
pub(crate) fn opt_day(text: &str) -> Result<Option<Date>> {
    if text.is_empty() {
        Ok(None)
    } else {
        day(text).map(Some)
    }
}

pub(crate) fn dec(text: &str) -> Result<Decimal> {
    Ok(kiln_domain::decimal(text)?)
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    Ok(serde_json::from_str(text)?)
}

pub(crate) fn to_json(value: &impl serde::Serialize) -> String {
    // Records serialize infallibly: maps with string keys, no custom errors.
    serde_json::to_string(value).unwrap_or_default()
}

/// Scopes as stored: space-separated words.
pub(crate) fn scopes_text(scopes: &[kiln_domain::Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn scopes_of(text: &str) -> Result<Vec<kiln_domain::Scope>> {
    text.split_whitespace().map(parsed).collect()
}

/// A bound value, so rows of different tables share one insert helper.
pub(crate) enum Arg<'a> {
    S(&'a str),
    O(String),
    OptS(Option<&'a str>),
    OptO(Option<String>),
    I(i64),
    OptI(Option<i64>),
}

/// Binds an [`Arg`] to a query of either backend.
macro_rules! bind_arg {
    ($query:expr, $arg:expr) => {
        match $arg {
            $crate::sql::Arg::S(v) => $query.bind(v),
            $crate::sql::Arg::O(v) => $query.bind(v),
            $crate::sql::Arg::OptS(v) => $query.bind(v),
            $crate::sql::Arg::OptO(v) => $query.bind(v),
            $crate::sql::Arg::I(v) => $query.bind(v),
            $crate::sql::Arg::OptI(v) => $query.bind(v),
        }
    };
}
pub(crate) use bind_arg;

/// Statements for one transaction, in the order given; each backend runs
/// them its way (`run_script`): PostgreSQL sends inserts that follow each
/// other as one statement, SQLite, where a statement costs no round trip,
/// runs them one by one.
#[derive(Default)]
pub(crate) struct Script<'a> {
    pub(crate) steps: Vec<Step<'a>>,
}

pub(crate) enum Step<'a> {
    /// A multi-row insert: `INSERT INTO {head} ... {tail}`.
    Insert(String, Vec<Vec<Arg<'a>>>, String),
    /// A statement whose parameters are `$1`, `$2`... in the arguments' order.
    Statement(String, Vec<Arg<'a>>),
}

impl<'a> Script<'a> {
    /// Adds a multi-row insert (nothing when there are no rows).
    pub(crate) fn insert(&mut self, head: &str, rows: Vec<Vec<Arg<'a>>>, tail: &str) {
        if !rows.is_empty() {
            self.steps
                .push(Step::Insert(head.to_string(), rows, tail.to_string()));
        }
    }

    /// Adds a statement whose parameters are `$1`, `$2`... in `args`' order.
    pub(crate) fn statement(&mut self, sql: &str, args: Vec<Arg<'a>>) {
        self.steps.push(Step::Statement(sql.to_string(), args));
    }
}

/// `= ANY` of a JSON array of texts bound as one parameter `${n}`: one
/// statement text whatever the list's length, on each backend. (The order
/// writer uses it; `where_in` below still binds each value, a new text per
/// length: moving it here is the next step.)
pub(crate) fn in_json(backend: &str, n: usize) -> String {
    if backend == "postgres" {
        format!("= ANY(ARRAY(SELECT json_array_elements_text(${n}::json)))")
    } else {
        format!("IN (SELECT value FROM json_each(${n}))")
    }
}

/// Implements `Store` for a struct with `read` and `write` pools of `$db`;
/// the module `$rows` (`sqlite` or `postgres`) writes many rows at once as
/// its backend does it best.
macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:literal, $rows:ident) => {
        use kiln_domain::*;
        use sqlx::Row as _;
        use $crate::sql::{day, dec, json, opt_day, opt_ts, parsed, ts};
        use $crate::{Placed, Result, StoreError};

        type DbRow = <$db as sqlx::Database>::Row;
        type Conn = <$db as sqlx::Database>::Connection;
        type Tx<'c> = sqlx::Transaction<'c, $db>;

        fn text(row: &DbRow, column: &str) -> Result<String> {
            Ok(row.try_get(column)?)
        }

        fn int(row: &DbRow, column: &str) -> Result<i64> {
            Ok(row.try_get(column)?)
        }

        fn brand_from(row: &DbRow) -> Result<Brand> {
            Ok(Brand {
                id: BrandId::from(text(row, "id")?),
                slug: Slug::from_stored(text(row, "slug")?),
                name: text(row, "name")?,
            })
        }

        /// An order line from the columns of `LINE_SELECT`.
        fn line_from(r: &DbRow) -> Result<OrderLine> {
            Ok(OrderLine {
                line_no: int(r, "line_no")?,
                product_id: text(r, "product_id")?,
                selections: json(&text(r, "selections")?)?,
                sku: text(r, "sku")?,
                quantity: int(r, "quantity")?,
                unit_price: dec(&text(r, "unit_price")?)?,
                work_order_id: WorkOrderId::from(text(r, "work_order_id")?),
                catalog_version: int(r, "catalog_version")?,
                promised_date: r
                    .try_get::<Option<String>, _>("promised_date")?
                    .map(|d| day(&d))
                    .transpose()?,
                recipient: r
                    .try_get::<Option<String>, _>("recipient")?
                    .map(|a| json(&a))
                    .transpose()?,
                cancelled_at: opt_ts(r.try_get("cancelled_at")?)?,
            })
        }

        fn requirement_from(row: &DbRow) -> Result<Requirement> {
            Ok(Requirement {
                material: text(row, "material")?,
                gross: dec(&text(row, "gross")?)?,
                allocated: dec(&text(row, "allocated")?)?,
                shortage: dec(&text(row, "shortage")?)?,
            })
        }

        fn booking_from(r: &DbRow) -> Result<BookingRow> {
            Ok(BookingRow {
                order_id: OrderId::from(text(r, "order_id")?),
                line_no: int(r, "line_no")?,
                operation: text(r, "operation")?,
                work_center: text(r, "work_center")?,
                day: opt_day(&text(r, "day")?)?,
                minutes: int(r, "minutes")?,
                seq: int(r, "seq")?,
                machine: int(r, "machine")?,
                setup_start: int(r, "setup_start")?,
                start_at: int(r, "start_at")?,
                end_at: int(r, "end_at")?,
                setup_minutes: int(r, "setup_minutes")?,
                changeover: int(r, "changeover")?,
                release_at: int(r, "release_at")?,
                due_day: opt_day(&text(r, "due_day")?)?,
                made_on: r.try_get("made_on_machine")?,
            })
        }

        fn suggestion_from(r: &DbRow) -> Result<PurchaseSuggestion> {
            Ok(PurchaseSuggestion {
                id: SuggestionId::from(text(r, "id")?),
                order_id: text(r, "order_id")?,
                material: text(r, "material")?,
                qty: dec(&text(r, "qty")?)?,
                order_by: day(&text(r, "order_by")?)?,
                arrives: day(&text(r, "arrives")?)?,
                need_by: day(&text(r, "need_by")?)?,
            })
        }

        fn customer_from(row: &DbRow) -> Result<Customer> {
            Ok(Customer {
                id: CustomerId::from(text(row, "customer_id")?),
                email: text(row, "email")?,
                name: text(row, "customer_name")?,
                phone: row.try_get("phone")?,
            })
        }

        fn operation_from(row: &DbRow) -> Result<WorkOrderOperation> {
            Ok(WorkOrderOperation {
                seq: int(row, "seq")?,
                operation: text(row, "operation")?,
                name: text(row, "name")?,
                work_center: text(row, "work_center")?,
                setup_minutes: dec(&text(row, "setup_minutes")?)?,
                run_minutes: dec(&text(row, "run_minutes")?)?,
                status: parsed(&text(row, "status")?)?,
                started_at: opt_ts(row.try_get("started_at")?)?,
                completed_at: opt_ts(row.try_get("completed_at")?)?,
                scrap: int(row, "scrap")?,
            })
        }

        fn shipment_from(row: &DbRow) -> Result<Shipment> {
            Ok(Shipment {
                id: ShipmentId::from(text(row, "id")?),
                order_id: OrderId::from(text(row, "order_id")?),
                carrier: text(row, "carrier")?,
                tracking_number: text(row, "tracking_number")?,
                lines: match row.try_get::<Option<String>, _>("lines")? {
                    Some(l) => json(&l)?,
                    None => Vec::new(),
                },
                service: row.try_get("service")?,
                parcels: match row.try_get::<Option<String>, _>("parcels")? {
                    Some(p) => json(&p)?,
                    None => Vec::new(),
                },
                promised_date: row
                    .try_get::<Option<String>, _>("promised_date")?
                    .map(|d| day(&d))
                    .transpose()?,
                late_days: row.try_get("late_days")?,
                status: parsed(&text(row, "status")?)?,
                created_at: ts(int(row, "created_at")?)?,
                delivered_at: opt_ts(row.try_get("delivered_at")?)?,
            })
        }

        fn timeline_from(r: &DbRow) -> Result<TimelineEntry> {
            Ok(TimelineEntry {
                id: TimelineEntryId::from(text(r, "id")?),
                status: parsed(&text(r, "status")?)?,
                note: text(r, "note")?,
                at: ts(int(r, "at")?)?,
            })
        }

        use $crate::sql::Arg;

        /// Multi-row `INSERT INTO {head} ... {tail}`, as the backend does it
        /// best (see `sqlite::insert_many` and `postgres::insert_many`).
        async fn insert_rows(
            tx: &mut Tx<'_>,
            head: &str,
            rows: Vec<Vec<Arg<'_>>>,
            tail: &str,
        ) -> Result<u64> {
            $crate::$rows::insert_many(&mut **tx, head, rows, tail).await
        }

        /// Moves booked operations in place (each row named by order, line
        /// and step); a row named twice takes its last version.
        async fn update_bookings(
            tx: &mut Tx<'_>,
            brand: &BrandId,
            rows: &[BookingRow],
        ) -> Result<()> {
            $crate::$rows::move_bookings(&mut **tx, brand.as_str(), rows).await
        }

        /// Adds lines of sales history; a line whose id is stored already is
        /// skipped. Lines of orders placed in Kiln are history already.
        async fn insert_sales(
            tx: &mut Tx<'_>,
            brand: &BrandId,
            lines: &[kiln_domain::SalesLine],
        ) -> Result<()> {
            let b = brand.as_str();
            let rows = lines
                .iter()
                .filter_map(|l| match l.when {
                    kiln_domain::SaleTime::Day(d) => Some(vec![
                        Arg::S(b),
                        Arg::S(&l.id),
                        Arg::O(d.to_string()),
                        Arg::S(&l.product_id),
                        Arg::O($crate::sql::to_json(&l.selections)),
                        Arg::I(l.quantity),
                        Arg::OptS(l.store_id.as_deref()),
                        Arg::OptS(l.ticket.as_deref()),
                    ]),
                    kiln_domain::SaleTime::At(_) => None,
                })
                .collect();
            insert_rows(
                tx,
                "sales_history (brand_id, id, day, product_id, selections, quantity, store_id, ticket)",
                rows,
                " ON CONFLICT (brand_id, id) DO NOTHING",
            )
            .await
            .map(drop)
        }

        /// Values per `IN (...)` list.
        const IN_CHUNK: usize = 500;

        /// ` WHERE brand_id = $1 AND {column} IN (values)`.
        fn where_in(
            qb: &mut sqlx::QueryBuilder<'_, $db>,
            brand: &BrandId,
            column: &str,
            values: &[&str],
        ) {
            qb.push(" WHERE brand_id = ");
            qb.push_bind(brand.as_str().to_string());
            qb.push(format!(" AND {column} IN ("));
            let mut list = qb.separated(", ");
            for v in values {
                list.push_bind(v.to_string());
            }
            qb.push(")");
        }

        /// `SELECT {select} WHERE brand_id = $1 AND {column} IN (values)`,
        /// chunked, on a connection of `pool`.
        async fn texts_in(
            pool: &sqlx::Pool<$db>,
            select: &str,
            brand: &BrandId,
            column: &str,
            values: &[&str],
        ) -> Result<Vec<DbRow>> {
            texts_in_on(&mut *pool.acquire().await?, select, brand, column, values).await
        }

        /// [`texts_in`] on `conn`, such as an open transaction's.
        async fn texts_in_on(
            conn: &mut <$db as sqlx::Database>::Connection,
            select: &str,
            brand: &BrandId,
            column: &str,
            values: &[&str],
        ) -> Result<Vec<DbRow>> {
            let mut out = Vec::new();
            for chunk in values.chunks(IN_CHUNK) {
                let mut qb = sqlx::QueryBuilder::<$db>::new(select);
                where_in(&mut qb, brand, column, chunk);
                out.extend(qb.build().fetch_all(&mut *conn).await?);
            }
            Ok(out)
        }

        /// `{head} [set] WHERE brand_id = $1 AND {column} IN (values)` in a
        /// transaction, chunked; the rows it touched. `set` is bound right
        /// after `head` (`UPDATE t SET c = `).
        async fn exec_in(
            tx: &mut Tx<'_>,
            head: &str,
            set: Option<&str>,
            brand: &BrandId,
            column: &str,
            values: &[&str],
        ) -> Result<u64> {
            let mut n = 0;
            for chunk in values.chunks(IN_CHUNK) {
                let mut qb = sqlx::QueryBuilder::<$db>::new(head);
                if let Some(set) = set {
                    qb.push_bind(set.to_string());
                }
                where_in(&mut qb, brand, column, chunk);
                n += qb.build().execute(&mut **tx).await?.rows_affected();
            }
            Ok(n)
        }

        async fn insert_timeline(
            tx: &mut Tx<'_>,
            brand_id: &BrandId,
            order_id: &OrderId,
            entry: &TimelineEntry,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO order_events (brand_id, order_id, id, status, note, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(brand_id.as_str())
            .bind(order_id.as_str())
            .bind(entry.id.as_str())
            .bind(entry.status.as_str())
            .bind(&entry.note)
            .bind(entry.at.as_millisecond())
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Moves an order to `status` with a timeline entry, and reports it
        /// (`order.status_changed`, the order as it now stands): the one-order
        /// case of `set_orders_status`.
        async fn set_order_status(
            tx: &mut Tx<'_>,
            brand_id: &BrandId,
            order_id: &OrderId,
            status: OrderStatus,
            note: String,
            at: Timestamp,
        ) -> Result<()> {
            set_orders_status(tx, brand_id, &[order_id], status, &note, at).await
        }

        /// An event about an order, showing the order as this transaction
        /// left it.
        async fn report_order(
            tx: &mut Tx<'_>,
            brand_id: &BrandId,
            order_id: &OrderId,
            kind: EventType,
            at: Timestamp,
        ) -> Result<()> {
            let order = load_order_in(&mut **tx, brand_id, "o.id", order_id.as_str())
                .await?
                .ok_or(StoreError::NotFound)?;
            let event = PlatformEvent::new(brand_id, kind, at, &order);
            outbox(tx, std::slice::from_ref(&event)).await
        }

        /// Writes events into the outbox and fans each out to the webhook
        /// endpoints subscribed to its type, in the caller's transaction.
        async fn outbox(tx: &mut Tx<'_>, events: &[PlatformEvent]) -> Result<()> {
            let mut script = $crate::sql::Script::default();
            outbox_script(&mut script, events);
            run_script(&mut **tx, script).await?;
            Ok(())
        }

        /// [`outbox`]'s statements, added to a script of the caller's.
        fn outbox_script<'a>(script: &mut $crate::sql::Script<'a>, events: &'a [PlatformEvent]) {
            use Arg::{I, O, S};
            if events.is_empty() {
                return;
            }
            let rows = events
                .iter()
                .map(|e| {
                    vec![
                        S(e.id.as_str()),
                        S(e.brand_id.as_str()),
                        S(e.kind.as_str()),
                        S(&e.payload),
                        I(e.at.as_millisecond()),
                    ]
                })
                .collect();
            script.insert("events (id, brand_id, type, payload, created_at)", rows, "");
            // One delivery per subscribed, enabled endpoint: `{event}.{endpoint}`,
            // in one statement of one text whatever the number of events.
            let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
            script.statement(
                &format!(
                    "INSERT INTO webhook_deliveries (id, brand_id, endpoint_id, event_id, \
                     event_type, state, attempts, next_attempt_at, created_at, updated_at) \
                     SELECT e.id || '.' || s.endpoint_id, e.brand_id, s.endpoint_id, e.id, \
                     e.type, 'pending', 0, e.created_at, e.created_at, e.created_at \
                     FROM events e JOIN webhook_subscriptions s \
                     ON s.brand_id = e.brand_id AND s.event_type = e.type \
                     JOIN webhook_endpoints w ON w.id = s.endpoint_id \
                     WHERE w.enabled = 1 AND e.id {}",
                    $crate::sql::in_json($backend, 1)
                ),
                vec![O($crate::sql::to_json(&ids))],
            );
        }

        async fn audit(tx: &mut Tx<'_>, entry: &AuditEntry) -> Result<()> {
            sqlx::query(
                "INSERT INTO audit_log (id, brand_id, actor, action, subject, detail, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(entry.id.as_str())
            .bind(entry.brand_id.as_ref().map(|b| b.as_str()))
            .bind(&entry.actor)
            .bind(entry.action.as_str())
            .bind(&entry.subject)
            .bind(&entry.detail)
            .bind(entry.at.as_millisecond())
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        impl $store {
            pub async fn migrate(&self) -> Result<()> {
                let mut conn = self.write.acquire().await?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS kiln_migrations \
                     (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
                )
                .execute(&mut *conn)
                .await?;
                let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM kiln_migrations")
                    .fetch_all(&mut *conn)
                    .await?;
                drop(conn);
                for (version, name, sql) in $crate::migrate::MIGRATIONS {
                    if applied.contains(version) {
                        continue;
                    }
                    let mut tx = self.write.begin().await?;
                    sqlx::raw_sql(sql).execute(&mut *tx).await?;
                    if *version == $crate::migrate::MATERIAL_LEDGERS {
                        backfill_ledgers(&mut tx).await?;
                    }
                    sqlx::query("INSERT INTO kiln_migrations (version, name) VALUES ($1, $2)")
                        .bind(*version)
                        .bind(*name)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                Ok(())
            }

            async fn load_order(
                &self,
                brand_id: &BrandId,
                where_clause: &str,
                key: &str,
            ) -> Result<Option<Order>> {
                let mut conn = self.read.acquire().await?;
                load_order_in(&mut conn, brand_id, where_clause, key).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.read).await?;
                Ok(())
            }
        }

        $crate::sql::platform::impl_platform!($store, $db);
        $crate::sql::catalog::impl_catalog!($store, $db);
        $crate::sql::orders::impl_orders!($store, $db, $backend);
        $crate::sql::writing::impl_writing!($store, $db, $backend);
        $crate::sql::changes::impl_changes!($store, $db);
        $crate::sql::factory::impl_factory!($store, $db);
        $crate::sql::ledgers::impl_ledgers!($store, $db, $backend);
        $crate::sql::reading::impl_reading!($store, $db, $backend);
        $crate::sql::rollup::impl_rollup!($store, $db, $backend);
        $crate::sql::shipping::impl_shipping!($store, $db);
        $crate::sql::planning::impl_planning!($store, $db);
        $crate::sql::webhooks::impl_webhooks!($store, $db);
        $crate::sql::passports::impl_passports!($store, $db);
        $crate::sql::staff::impl_staff!($store, $db);
        $crate::sql::bulk::impl_bulk!($store, $db);
        $crate::sql::profiles::impl_profiles!($store, $db);
        $crate::sql::segments::impl_segments!($store, $db);
        $crate::sql::leases::impl_leases!($store, $db, $backend);
        $crate::sql::floor::impl_floor!($store, $db);
    };
}

pub(crate) use impl_store;
