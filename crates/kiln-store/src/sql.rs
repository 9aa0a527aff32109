//! The one SQL implementation of [`crate::Store`], instantiated for each
//! backend by [`impl_store!`]. Placeholders are `$1, $2, ...` in ascending
//! order, which both SQLite and PostgreSQL bind by number.

/// Implements `Store` for a struct with `read` and `write` pools of `$db`.
macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:literal) => {
        use sqlx::Row as _;
        use $crate::records::*;
        use $crate::{OperationAction, Placed, Result, StoreError, status};

        type DbRow = <$db as sqlx::Database>::Row;

        fn brand_from(row: &DbRow) -> Result<Brand> {
            Ok(Brand {
                id: row.try_get("id")?,
                slug: row.try_get("slug")?,
                name: row.try_get("name")?,
            })
        }

        fn requirement_from(row: &DbRow) -> Result<Requirement> {
            Ok(Requirement {
                material: row.try_get("material")?,
                gross: row.try_get("gross")?,
                allocated: row.try_get("allocated")?,
                shortage: row.try_get("shortage")?,
            })
        }

        fn booking_from(r: &DbRow) -> Result<BookingRow> {
            Ok(BookingRow {
                order_id: r.try_get("order_id")?,
                line_no: r.try_get("line_no")?,
                operation: r.try_get("operation")?,
                work_center: r.try_get("work_center")?,
                day: r.try_get("day")?,
                minutes: r.try_get("minutes")?,
                seq: r.try_get("seq")?,
                machine: r.try_get("machine")?,
                setup_start: r.try_get("setup_start")?,
                start_at: r.try_get("start_at")?,
                end_at: r.try_get("end_at")?,
                setup_minutes: r.try_get("setup_minutes")?,
                changeover: r.try_get("changeover")?,
                release_at: r.try_get("release_at")?,
                due_day: r.try_get("due_day")?,
            })
        }

        fn suggestion_from(r: &DbRow) -> Result<PurchaseSuggestion> {
            Ok(PurchaseSuggestion {
                id: r.try_get("id")?,
                order_id: r.try_get("order_id")?,
                material: r.try_get("material")?,
                qty: r.try_get("qty")?,
                order_by: r.try_get("order_by")?,
                arrives: r.try_get("arrives")?,
                need_by: r.try_get("need_by")?,
            })
        }

        fn customer_from(row: &DbRow) -> Result<Customer> {
            Ok(Customer {
                id: row.try_get("customer_id")?,
                email: row.try_get("email")?,
                name: row.try_get("customer_name")?,
                phone: row.try_get("phone")?,
            })
        }

        fn operation_from(row: &DbRow) -> Result<WorkOrderOperation> {
            Ok(WorkOrderOperation {
                seq: row.try_get("seq")?,
                operation: row.try_get("operation")?,
                name: row.try_get("name")?,
                work_center: row.try_get("work_center")?,
                setup_minutes: row.try_get("setup_minutes")?,
                run_minutes: row.try_get("run_minutes")?,
                status: row.try_get("status")?,
                started_at: row.try_get("started_at")?,
                completed_at: row.try_get("completed_at")?,
                scrap: row.try_get("scrap")?,
            })
        }

        fn shipment_from(row: &DbRow) -> Result<Shipment> {
            Ok(Shipment {
                id: row.try_get("id")?,
                order_id: row.try_get("order_id")?,
                carrier: row.try_get("carrier")?,
                tracking_number: row.try_get("tracking_number")?,
                status: row.try_get("status")?,
                created_at: row.try_get("created_at")?,
                delivered_at: row.try_get("delivered_at")?,
            })
        }

        const ORDER_COLUMNS: &str = "o.id, o.customer_id, c.email, c.name AS customer_name, \
            c.phone, o.channel, o.store_id, o.ship_to, o.status, o.currency, o.total, \
            o.promised_date, o.created_at, o.request_hash, o.access_token";

        impl $store {
            pub async fn migrate(&self) -> Result<()> {
                let mut conn = self.write.acquire().await?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS kiln_migrations \
                     (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
                )
                .execute(&mut *conn)
                .await?;
                let applied: Vec<i64> =
                    sqlx::query_scalar("SELECT version FROM kiln_migrations")
                        .fetch_all(&mut *conn)
                        .await?;
                drop(conn);
                for (version, name, sql) in $crate::migrate::MIGRATIONS {
                    if applied.contains(version) {
                        continue;
                    }
                    let mut tx = self.write.begin().await?;
                    sqlx::raw_sql(sql).execute(&mut *tx).await?;
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
                brand_id: &str,
                where_clause: &str,
                key: &str,
            ) -> Result<Option<Order>> {
                let sql = format!(
                    "SELECT {ORDER_COLUMNS} FROM orders o JOIN customers c \
                     ON c.brand_id = o.brand_id AND c.id = o.customer_id \
                     WHERE o.brand_id = $1 AND {where_clause} = $2"
                );
                let Some(row) = sqlx::query(&sql)
                    .bind(brand_id)
                    .bind(key)
                    .fetch_optional(&self.read)
                    .await?
                else {
                    return Ok(None);
                };
                let id: String = row.try_get("id")?;
                let lines = sqlx::query(
                    "SELECT line_no, product_id, selections, sku, quantity, unit_price, \
                     work_order_id FROM order_lines WHERE brand_id = $1 AND order_id = $2 \
                     ORDER BY line_no",
                )
                .bind(brand_id)
                .bind(&id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(OrderLine {
                        line_no: r.try_get("line_no")?,
                        product_id: r.try_get("product_id")?,
                        selections: r.try_get("selections")?,
                        sku: r.try_get("sku")?,
                        quantity: r.try_get("quantity")?,
                        unit_price: r.try_get("unit_price")?,
                        work_order_id: r.try_get("work_order_id")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
                let events = sqlx::query(
                    "SELECT id, status, note, at FROM order_events \
                     WHERE brand_id = $1 AND order_id = $2 ORDER BY at, id",
                )
                .bind(brand_id)
                .bind(&id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(OrderEvent {
                        id: r.try_get("id")?,
                        status: r.try_get("status")?,
                        note: r.try_get("note")?,
                        at: r.try_get("at")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
                let requirements = sqlx::query(
                    "SELECT material, gross, allocated, shortage FROM material_requirements \
                     WHERE brand_id = $1 AND order_id = $2 ORDER BY material",
                )
                .bind(brand_id)
                .bind(&id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(requirement_from)
                .collect::<Result<Vec<_>>>()?;
                let shipments = sqlx::query(
                    "SELECT * FROM shipments WHERE brand_id = $1 AND order_id = $2 \
                     ORDER BY created_at, id",
                )
                .bind(brand_id)
                .bind(&id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(shipment_from)
                .collect::<Result<Vec<_>>>()?;
                let payment = sqlx::query(
                    "SELECT provider, status, amount, currency, reference, instructions \
                     FROM payments WHERE brand_id = $1 AND order_id = $2",
                )
                .bind(brand_id)
                .bind(&id)
                .fetch_optional(&self.read)
                .await?
                .map(|r| -> Result<Payment> {
                    Ok(Payment {
                        provider: r.try_get("provider")?,
                        status: r.try_get("status")?,
                        amount: r.try_get("amount")?,
                        currency: r.try_get("currency")?,
                        reference: r.try_get("reference")?,
                        instructions: r.try_get("instructions")?,
                    })
                })
                .transpose()?;
                Ok(Some(Order {
                    payment,
                    customer: customer_from(&row)?,
                    id,
                    channel: row.try_get("channel")?,
                    store_id: row.try_get("store_id")?,
                    ship_to: row.try_get("ship_to")?,
                    status: row.try_get("status")?,
                    currency: row.try_get("currency")?,
                    total: row.try_get("total")?,
                    promised_date: row.try_get("promised_date")?,
                    created_at: row.try_get("created_at")?,
                    request_hash: row.try_get("request_hash")?,
                    access_token: row.try_get("access_token")?,
                    lines,
                    events,
                    requirements,
                    shipments,
                }))
            }

            async fn load_work_orders(
                &self,
                brand_id: &str,
                filter: &str,
                key: &str,
            ) -> Result<Vec<WorkOrder>> {
                let sql = format!(
                    "SELECT id, sku, product_id, quantity, status, created_at FROM work_orders \
                     WHERE brand_id = $1 AND {filter} ORDER BY created_at, id"
                );
                let rows = sqlx::query(&sql)
                    .bind(brand_id)
                    .bind(key)
                    .fetch_all(&self.read)
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let id: String = r.try_get("id")?;
                    let operations = sqlx::query(
                        "SELECT * FROM work_order_operations \
                         WHERE brand_id = $1 AND work_order_id = $2 ORDER BY seq",
                    )
                    .bind(brand_id)
                    .bind(&id)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(operation_from)
                    .collect::<Result<Vec<_>>>()?;
                    let order_ids: Vec<String> = sqlx::query_scalar(
                        "SELECT DISTINCT order_id FROM order_lines \
                         WHERE brand_id = $1 AND work_order_id = $2 ORDER BY order_id",
                    )
                    .bind(brand_id)
                    .bind(&id)
                    .fetch_all(&self.read)
                    .await?;
                    out.push(WorkOrder {
                        id,
                        sku: r.try_get("sku")?,
                        product_id: r.try_get("product_id")?,
                        quantity: r.try_get("quantity")?,
                        status: r.try_get("status")?,
                        created_at: r.try_get("created_at")?,
                        operations,
                        order_ids,
                    });
                }
                Ok(out)
            }
        }

        /// A bound value, so rows of different tables share one insert helper.
        enum Arg<'a> {
            S(&'a str),
            OptS(Option<&'a str>),
            I(i64),
            OptI(Option<i64>),
        }

        /// A made order's materials leave stock: one consumption move per
        /// requirement not consumed yet, which then stops counting as allocated.
        async fn consume(
            tx: &mut sqlx::Transaction<'_, $db>,
            brand_id: &str,
            order_id: &str,
            at: i64,
        ) -> Result<Vec<(String, String)>> {
            let rows = sqlx::query(
                "SELECT material, gross FROM material_requirements \
                 WHERE brand_id = $1 AND order_id = $2 AND consumed_at IS NULL ORDER BY material",
            )
            .bind(brand_id)
            .bind(order_id)
            .fetch_all(&mut **tx)
            .await?;
            let mut out = Vec::new();
            for r in rows {
                let material: String = r.try_get("material")?;
                let gross: String = r.try_get("gross")?;
                let negative = match gross.strip_prefix('-') {
                    Some(positive) => positive.to_string(),
                    None => format!("-{gross}"),
                };
                sqlx::query(
                    "INSERT INTO stock_moves (brand_id, id, material, qty, kind, reference, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(brand_id)
                .bind(format!("mov_{order_id}_{material}"))
                .bind(&material)
                .bind(&negative)
                .bind("consumption")
                .bind(order_id)
                .bind(at)
                .execute(&mut **tx)
                .await?;
                out.push((material, gross));
            }
            sqlx::query(
                "UPDATE material_requirements SET consumed_at = $1 \
                 WHERE brand_id = $2 AND order_id = $3 AND consumed_at IS NULL",
            )
            .bind(at)
            .bind(brand_id)
            .bind(order_id)
            .execute(&mut **tx)
            .await?;
            Ok(out)
        }

        /// Multi-row `INSERT INTO {head} VALUES (...), (...) {tail}`, chunked
        /// under both backends' limits on bound parameters.
        /// Moves booked operations in place (the row is named by order, line, step).
        async fn update_bookings(
            tx: &mut sqlx::Transaction<'_, $db>,
            brand_id: &str,
            rows: &[BookingRow],
        ) -> Result<()> {
            for r in rows {
                sqlx::query(
                    "UPDATE bookings SET day = $1, machine = $2, setup_start = $3, \
                     start_at = $4, end_at = $5, setup_minutes = $6 \
                     WHERE brand_id = $7 AND order_id = $8 AND line_no = $9 AND seq = $10",
                )
                .bind(&r.day)
                .bind(r.machine)
                .bind(r.setup_start)
                .bind(r.start_at)
                .bind(r.end_at)
                .bind(r.setup_minutes)
                .bind(brand_id)
                .bind(&r.order_id)
                .bind(r.line_no)
                .bind(r.seq)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        async fn insert_rows(
            tx: &mut sqlx::Transaction<'_, $db>,
            head: &str,
            rows: Vec<Vec<Arg<'_>>>,
            tail: &str,
        ) -> Result<()> {
            let Some(width) = rows.first().map(Vec::len) else {
                return Ok(());
            };
            for chunk in rows.chunks((30_000 / width).max(1)) {
                let mut qb = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO {head} "));
                qb.push_values(chunk, |mut b, row| {
                    for arg in row {
                        match arg {
                            Arg::S(v) => b.push_bind(*v),
                            Arg::OptS(v) => b.push_bind(*v),
                            Arg::I(v) => b.push_bind(*v),
                            Arg::OptI(v) => b.push_bind(*v),
                        };
                    }
                });
                qb.push(tail);
                qb.build().execute(&mut **tx).await?;
            }
            Ok(())
        }

        impl $store {
            async fn write_batch(&self, orders: &[NewOrder]) -> Result<Vec<Result<Placed>>> {
                use Arg::{I, OptI, OptS, S};
                let mut tx = self.write.begin().await?;
                let mut customers: Vec<Vec<Arg<'_>>> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for o in orders {
                    let c = &o.customer;
                    if seen.insert((o.brand_id.as_str(), c.email.as_str())) {
                        customers.push(vec![
                            S(&o.brand_id), S(&c.id), S(&c.email), S(&c.name),
                            OptS(c.phone.as_deref()), I(o.created_at),
                        ]);
                    }
                }
                insert_rows(
                    &mut tx,
                    "customers (brand_id, id, email, name, phone, created_at)",
                    customers,
                    " ON CONFLICT (brand_id, email) DO NOTHING",
                )
                .await?;
                let mut customer_ids = std::collections::HashMap::new();
                for (brand, email) in &seen {
                    let id: String = sqlx::query_scalar(
                        "SELECT id FROM customers WHERE brand_id = $1 AND email = $2",
                    )
                    .bind(*brand)
                    .bind(*email)
                    .fetch_one(&mut *tx)
                    .await?;
                    customer_ids.insert((*brand, *email), id);
                }
                let (mut heads, mut lines, mut wos, mut ops, mut bookings) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
                let (mut reqs, mut sugs, mut events) = (Vec::new(), Vec::new(), Vec::new());
                let mut payments = Vec::new();
                for o in orders {
                    let b = o.brand_id.as_str();
                    let customer_id = customer_ids[&(b, o.customer.email.as_str())].as_str();
                    heads.push(vec![
                        S(b), S(&o.id), OptS(o.idempotency_key.as_deref()), S(&o.request_hash),
                        S(customer_id), S(&o.channel), OptS(o.store_id.as_deref()), S(&o.ship_to),
                        S(&o.status), S(&o.currency), S(&o.total), S(&o.promised_date),
                        I(o.created_at), S(&o.access_token),
                    ]);
                    for l in &o.lines {
                        lines.push(vec![
                            S(b), S(&o.id), I(l.line_no), S(&l.product_id), S(&l.selections),
                            S(&l.sku), I(l.quantity), S(&l.unit_price), S(&l.work_order_id),
                        ]);
                    }
                    for w in &o.work_orders {
                        if let WorkOrderWrite::Create { id, sku, product_id, quantity, operations } = w {
                            wos.push(vec![
                                S(b), S(id), S(sku), S(product_id), I(*quantity),
                                S("planned"), I(o.created_at),
                            ]);
                            for op in operations {
                                ops.push(vec![
                                    S(b), S(id), I(op.seq), S(&op.operation), S(&op.name),
                                    S(&op.work_center), S(&op.setup_minutes), S(&op.run_minutes),
                                    S(&op.status), OptI(op.started_at), OptI(op.completed_at),
                                    I(op.scrap),
                                ]);
                            }
                        }
                    }
                    for k in &o.bookings {
                        bookings.push(vec![
                            S(b), S(&k.order_id), I(k.line_no), S(&k.operation),
                            S(&k.work_center), S(&k.day), I(k.minutes), I(k.seq), I(k.machine),
                            I(k.setup_start), I(k.start_at), I(k.end_at), I(k.setup_minutes),
                            I(k.changeover), I(k.release_at), S(&k.due_day),
                        ]);
                    }
                    for r in &o.requirements {
                        reqs.push(vec![
                            S(b), S(&o.id), S(&r.material), S(&r.gross), S(&r.allocated),
                            S(&r.shortage),
                        ]);
                    }
                    for p in &o.suggestions {
                        sugs.push(vec![
                            S(b), S(&p.id), S(&p.order_id), S(&p.material), S(&p.qty),
                            S(&p.order_by), S(&p.arrives), S(&p.need_by),
                        ]);
                    }
                    let p = &o.payment;
                    payments.push(vec![
                        S(b), S(&o.id), S(&p.provider), S(&p.status), S(&p.amount),
                        S(&p.currency), S(&p.reference), S(&p.instructions), I(o.created_at),
                    ]);
                    for e in &o.events {
                        events.push(vec![
                            S(b), S(&o.id), S(&e.id), S(&e.status), S(&e.note), I(e.at),
                        ]);
                    }
                }
                insert_rows(&mut tx, "orders (brand_id, id, idempotency_key, request_hash, \
                    customer_id, channel, store_id, ship_to, status, currency, total, \
                    promised_date, created_at, access_token)", heads, "").await?;
                insert_rows(&mut tx, "order_lines (brand_id, order_id, line_no, product_id, \
                    selections, sku, quantity, unit_price, work_order_id)", lines, "").await?;
                insert_rows(&mut tx, "work_orders (brand_id, id, sku, product_id, quantity, \
                    status, created_at)", wos, "").await?;
                insert_rows(&mut tx, "work_order_operations (brand_id, work_order_id, seq, \
                    operation, name, work_center, setup_minutes, run_minutes, status, \
                    started_at, completed_at, scrap)", ops, "").await?;
                // Quantities added to planned work orders, in placement order
                // so a work order created earlier in this batch exists.
                for o in orders {
                    for w in &o.work_orders {
                        if let WorkOrderWrite::AddQuantity { id, quantity } = w {
                            let done = sqlx::query(
                                "UPDATE work_orders SET quantity = quantity + $1 \
                                 WHERE brand_id = $2 AND id = $3 AND status = $4",
                            )
                            .bind(quantity)
                            .bind(&o.brand_id)
                            .bind(id)
                            .bind("planned")
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() != 1 {
                                return Err(StoreError::Conflict(format!(
                                    "work order {id} is no longer planned"
                                )));
                            }
                        }
                    }
                }
                insert_rows(&mut tx, "bookings (brand_id, order_id, line_no, operation, \
                    work_center, day, minutes, seq, machine, setup_start, start_at, end_at, \
                    setup_minutes, changeover, release_at, due_day)", bookings, "").await?;
                // After every insert of the batch: an order may move a booking
                // of one placed just before it.
                for o in orders {
                    update_bookings(&mut tx, &o.brand_id, &o.rebooked).await?;
                }
                insert_rows(&mut tx, "material_requirements (brand_id, order_id, material, \
                    gross, allocated, shortage)", reqs, "").await?;
                insert_rows(&mut tx, "purchase_suggestions (brand_id, id, order_id, material, \
                    qty, order_by, arrives, need_by)", sugs, "").await?;
                insert_rows(&mut tx, "payments (brand_id, order_id, provider, status, amount, \
                    currency, reference, instructions, updated_at)", payments, "").await?;
                insert_rows(&mut tx, "order_events (brand_id, order_id, id, status, note, at)",
                    events, "").await?;
                tx.commit().await?;
                Ok(orders
                    .iter()
                    .map(|o| {
                        let id = &customer_ids[&(o.brand_id.as_str(), o.customer.email.as_str())];
                        Ok(Placed::Created { customer_id: id.clone() })
                    })
                    .collect())
            }
        }

        async fn insert_event(
            tx: &mut sqlx::Transaction<'_, $db>,
            brand_id: &str,
            order_id: &str,
            event: &OrderEvent,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO order_events (brand_id, order_id, id, status, note, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(brand_id)
            .bind(order_id)
            .bind(&event.id)
            .bind(&event.status)
            .bind(&event.note)
            .bind(event.at)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn set_order_status(
            tx: &mut sqlx::Transaction<'_, $db>,
            brand_id: &str,
            order_id: &str,
            event: &OrderEvent,
        ) -> Result<()> {
            sqlx::query("UPDATE orders SET status = $1 WHERE brand_id = $2 AND id = $3")
                .bind(&event.status)
                .bind(brand_id)
                .bind(order_id)
                .execute(&mut **tx)
                .await?;
            insert_event(tx, brand_id, order_id, event).await
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

            async fn create_brand(&self, brand: &Brand, created_at: i64) -> Result<()> {
                sqlx::query(
                    "INSERT INTO brands (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&brand.id)
                .bind(&brand.slug)
                .bind(&brand.name)
                .bind(created_at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn brand_by_slug(&self, slug: &str) -> Result<Option<Brand>> {
                let row = sqlx::query("SELECT id, slug, name FROM brands WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&self.read)
                    .await?;
                row.as_ref().map(brand_from).transpose()
            }

            async fn brands(&self) -> Result<Vec<Brand>> {
                sqlx::query("SELECT id, slug, name FROM brands ORDER BY slug")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(brand_from)
                    .collect()
            }

            async fn add_api_key(
                &self,
                brand_id: &str,
                key_hash: &str,
                label: &str,
                at: i64,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO api_keys (id, brand_id, key_hash, label, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&key_hash[..16])
                .bind(brand_id)
                .bind(key_hash)
                .bind(label)
                .bind(at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn brand_by_key_hash(&self, key_hash: &str) -> Result<Option<Brand>> {
                let row = sqlx::query(
                    "SELECT b.id, b.slug, b.name FROM api_keys k JOIN brands b \
                     ON b.id = k.brand_id WHERE k.key_hash = $1",
                )
                .bind(key_hash)
                .fetch_optional(&self.read)
                .await?;
                row.as_ref().map(brand_from).transpose()
            }

            async fn put_catalog_file(
                &self,
                brand_id: &str,
                file: &CatalogFile,
                at: i64,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO catalog_files (brand_id, kind, name, source, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (brand_id, kind, name) \
                     DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at",
                )
                .bind(brand_id)
                .bind(&file.kind)
                .bind(&file.name)
                .bind(&file.source)
                .bind(at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn catalog_files(&self, brand_id: &str) -> Result<Vec<CatalogFile>> {
                sqlx::query(
                    "SELECT kind, name, source FROM catalog_files WHERE brand_id = $1 \
                     ORDER BY kind, name",
                )
                .bind(brand_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(CatalogFile {
                        kind: r.try_get("kind")?,
                        name: r.try_get("name")?,
                        source: r.try_get("source")?,
                    })
                })
                .collect()
            }

            async fn seed_materials(&self, brand_id: &str, materials: &[MaterialRow]) -> Result<()> {
                let mut tx = self.write.begin().await?;
                for m in materials {
                    sqlx::query(
                        "INSERT INTO materials (brand_id, id, on_hand) \
                         VALUES ($1, $2, $3) ON CONFLICT (brand_id, id) DO NOTHING",
                    )
                    .bind(brand_id)
                    .bind(&m.id)
                    .bind(&m.on_hand)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn materials(&self, brand_id: &str) -> Result<Vec<MaterialRow>> {
                sqlx::query(
                    "SELECT id, on_hand FROM materials WHERE brand_id = $1 ORDER BY id",
                )
                .bind(brand_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(MaterialRow {
                        id: r.try_get("id")?,
                        on_hand: r.try_get("on_hand")?,
                    })
                })
                .collect()
            }

            async fn bookings(&self, brand_id: &str) -> Result<Vec<BookingRow>> {
                sqlx::query(
                    "SELECT order_id, line_no, operation, work_center, day, minutes, seq, machine, setup_start, \
                     start_at, end_at, setup_minutes, changeover, release_at, due_day \
                     FROM bookings WHERE brand_id = $1 ORDER BY order_id, line_no, seq, day",
                )
                .bind(brand_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(booking_from)
                .collect()
            }

            async fn scheduled_bookings(&self, brand_id: &str) -> Result<Vec<ScheduledBooking>> {
                sqlx::query(
                    "SELECT b.order_id, b.line_no, b.operation, b.work_center, b.day, b.minutes, \
                     b.seq, b.machine, b.setup_start, b.start_at, b.end_at, b.setup_minutes, \
                     b.changeover, b.release_at, b.due_day, l.sku, l.product_id, \
                     COALESCE(w.status, 'pending') AS op_status, w.completed_at, \
                     o.promised_date \
                     FROM bookings b \
                     JOIN orders o ON o.brand_id = b.brand_id AND o.id = b.order_id \
                     JOIN order_lines l ON l.brand_id = b.brand_id AND l.order_id = b.order_id \
                       AND l.line_no = b.line_no \
                     LEFT JOIN work_order_operations w ON w.brand_id = b.brand_id \
                       AND w.work_order_id = l.work_order_id AND w.seq = b.seq \
                     WHERE b.brand_id = $1 AND o.status IN ($2, $3, $4) \
                     ORDER BY b.order_id, b.line_no, b.seq, b.day",
                )
                .bind(brand_id)
                .bind(status::PLANNED)
                .bind(status::IN_PRODUCTION)
                .bind(status::MADE)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(ScheduledBooking {
                        booking: booking_from(r)?,
                        sku: r.try_get("sku")?,
                        product_id: r.try_get("product_id")?,
                        status: r.try_get("op_status")?,
                        completed_at: r.try_get("completed_at")?,
                        promised_date: r.try_get("promised_date")?,
                    })
                })
                .collect()
            }

            async fn order_line_ids(
                &self,
                brand_id: &str,
                work_order_id: &str,
            ) -> Result<Vec<(String, i64)>> {
                sqlx::query(
                    "SELECT order_id, line_no FROM order_lines \
                     WHERE brand_id = $1 AND work_order_id = $2 ORDER BY order_id, line_no",
                )
                .bind(brand_id)
                .bind(work_order_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("order_id")?, r.try_get("line_no")?)))
                .collect()
            }

            async fn planned_work_orders(&self, brand_id: &str) -> Result<Vec<(String, String)>> {
                sqlx::query(
                    "SELECT sku, id FROM work_orders WHERE brand_id = $1 AND status = $2 \
                     ORDER BY created_at",
                )
                .bind(brand_id)
                .bind("planned")
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("sku")?, r.try_get("id")?)))
                .collect()
            }

            async fn order_by_idempotency_key(
                &self,
                brand_id: &str,
                key: &str,
            ) -> Result<Option<Order>> {
                self.load_order(brand_id, "o.idempotency_key", key).await
            }

            async fn place_orders(&self, orders: &[NewOrder]) -> Vec<Result<Placed>> {
                // One transaction for the whole batch: the commit is the
                // expensive part, and it is shared. If anything in the batch
                // fails, each order is retried alone so one bad order cannot
                // sink the others.
                if orders.len() > 1 {
                    if let Ok(placed) = self.write_batch(orders).await {
                        return placed;
                    }
                }
                let mut out = Vec::with_capacity(orders.len());
                for order in orders {
                    out.push(match self.write_batch(std::slice::from_ref(order)).await {
                        Ok(mut placed) => placed.pop().unwrap_or_else(|| {
                            Err(StoreError::Conflict("nothing was written".into()))
                        }),
                        Err(e) => match &order.idempotency_key {
                            // Lost a race with the same key: the winner stands.
                            Some(key) => match self.order_by_idempotency_key(&order.brand_id, key).await {
                                Ok(Some(existing)) => Ok(Placed::Existing { order_id: existing.id }),
                                _ => Err(e),
                            },
                            None => Err(e),
                        },
                    });
                }
                out
            }

            async fn open_requirements(
                &self,
                brand_id: &str,
            ) -> Result<Vec<(String, Requirement)>> {
                sqlx::query(
                    "SELECT order_id, material, gross, allocated, shortage FROM material_requirements \
                     WHERE brand_id = $1 AND consumed_at IS NULL ORDER BY order_id, material",
                )
                .bind(brand_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("order_id")?, requirement_from(r)?)))
                .collect()
            }

            async fn requirements(&self, brand_id: &str) -> Result<Vec<Requirement>> {
                sqlx::query(
                    "SELECT material, gross, allocated, shortage FROM material_requirements \
                     WHERE brand_id = $1 AND consumed_at IS NULL",
                )
                .bind(brand_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(requirement_from)
                .collect()
            }

            async fn order(&self, brand_id: &str, order_id: &str) -> Result<Option<Order>> {
                self.load_order(brand_id, "o.id", order_id).await
            }

            async fn orders(
                &self,
                brand_id: &str,
                customer_email: Option<&str>,
                limit: i64,
            ) -> Result<Vec<OrderSummary>> {
                let filter = if customer_email.is_some() { "c.email = $2" } else { "$2 = $2" };
                let sql = format!(
                    "SELECT o.id, c.email, o.channel, o.status, o.total, o.currency, \
                     o.promised_date, o.created_at FROM orders o JOIN customers c \
                     ON c.brand_id = o.brand_id AND c.id = o.customer_id \
                     WHERE o.brand_id = $1 AND {filter} ORDER BY o.created_at DESC, o.id DESC \
                     LIMIT $3"
                );
                sqlx::query(&sql)
                    .bind(brand_id)
                    .bind(customer_email.unwrap_or(""))
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(OrderSummary {
                            id: r.try_get("id")?,
                            customer_email: r.try_get("email")?,
                            channel: r.try_get("channel")?,
                            status: r.try_get("status")?,
                            total: r.try_get("total")?,
                            currency: r.try_get("currency")?,
                            promised_date: r.try_get("promised_date")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn suggestions(&self, brand_id: &str) -> Result<Vec<PurchaseSuggestion>> {
                sqlx::query(
                    "SELECT * FROM purchase_suggestions WHERE brand_id = $1 \
                     AND received_at IS NULL ORDER BY order_by, material",
                )
                .bind(brand_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(suggestion_from)
                .collect()
            }

            async fn receive_purchase(
                &self,
                brand_id: &str,
                suggestion_id: &str,
                move_id: &str,
                at: i64,
            ) -> Result<PurchaseSuggestion> {
                let mut tx = self.write.begin().await?;
                let row = sqlx::query(
                    "SELECT * FROM purchase_suggestions WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand_id)
                .bind(suggestion_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let received: Option<i64> = row.try_get("received_at")?;
                if received.is_some() {
                    return Err(StoreError::Conflict(
                        "this purchase was already received".into(),
                    ));
                }
                let suggestion = suggestion_from(&row)?;
                sqlx::query(
                    "UPDATE purchase_suggestions SET received_at = $1 \
                     WHERE brand_id = $2 AND id = $3",
                )
                .bind(at)
                .bind(brand_id)
                .bind(suggestion_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO stock_moves (brand_id, id, material, qty, kind, reference, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(brand_id)
                .bind(move_id)
                .bind(&suggestion.material)
                .bind(&suggestion.qty)
                .bind("receipt")
                .bind(suggestion_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(suggestion)
            }

            async fn add_suggestions(
                &self,
                brand_id: &str,
                suggestions: &[PurchaseSuggestion],
            ) -> Result<()> {
                use Arg::S;
                let mut tx = self.write.begin().await?;
                let rows = suggestions
                    .iter()
                    .map(|s| {
                        vec![
                            S(brand_id), S(&s.id), S(&s.order_id), S(&s.material), S(&s.qty),
                            S(&s.order_by), S(&s.arrives), S(&s.need_by),
                        ]
                    })
                    .collect();
                insert_rows(&mut tx, "purchase_suggestions (brand_id, id, order_id, material, \
                    qty, order_by, arrives, need_by)", rows, "").await?;
                tx.commit().await?;
                Ok(())
            }

            async fn stock_moves(&self, brand_id: &str) -> Result<Vec<(String, String)>> {
                sqlx::query(
                    "SELECT material, qty FROM stock_moves WHERE brand_id = $1 ORDER BY at, id",
                )
                .bind(brand_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("material")?, r.try_get("qty")?)))
                .collect()
            }

            async fn put_store(&self, brand_id: &str, store: &StoreLocation) -> Result<()> {
                sqlx::query(
                    "INSERT INTO stores (brand_id, id, name, address) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (brand_id, id) DO UPDATE SET name = excluded.name, \
                     address = excluded.address",
                )
                .bind(brand_id)
                .bind(&store.id)
                .bind(&store.name)
                .bind(&store.address)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn stores(&self, brand_id: &str) -> Result<Vec<StoreLocation>> {
                sqlx::query("SELECT id, name, address FROM stores WHERE brand_id = $1 ORDER BY name")
                    .bind(brand_id)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(StoreLocation {
                            id: r.try_get("id")?,
                            name: r.try_get("name")?,
                            address: r.try_get("address")?,
                        })
                    })
                    .collect()
            }

            async fn find_customers(&self, brand_id: &str, query: &str) -> Result<Vec<Customer>> {
                sqlx::query(
                    "SELECT id AS customer_id, email, name AS customer_name, phone FROM customers \
                     WHERE brand_id = $1 AND (email = $2 OR phone = $3) ORDER BY email LIMIT 20",
                )
                .bind(brand_id)
                .bind(query.trim().to_lowercase())
                .bind(query.trim())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(customer_from)
                .collect()
            }

            async fn set_payment_status(
                &self,
                brand_id: &str,
                order_id: &str,
                status: &str,
                at: i64,
            ) -> Result<()> {
                let done = sqlx::query(
                    "UPDATE payments SET status = $1, updated_at = $2 \
                     WHERE brand_id = $3 AND order_id = $4",
                )
                .bind(status)
                .bind(at)
                .bind(brand_id)
                .bind(order_id)
                .execute(&self.write)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn save_design(&self, brand_id: &str, design: &Design) -> Result<()> {
                sqlx::query(
                    "INSERT INTO designs (brand_id, code, product_id, selections, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(brand_id)
                .bind(&design.code)
                .bind(&design.product_id)
                .bind(&design.selections)
                .bind(design.created_at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn design(&self, brand_id: &str, code: &str) -> Result<Option<Design>> {
                let row = sqlx::query(
                    "SELECT code, product_id, selections, created_at FROM designs \
                     WHERE brand_id = $1 AND code = $2",
                )
                .bind(brand_id)
                .bind(code)
                .fetch_optional(&self.read)
                .await?;
                row.map(|r| {
                    Ok(Design {
                        code: r.try_get("code")?,
                        product_id: r.try_get("product_id")?,
                        selections: r.try_get("selections")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .transpose()
            }

            async fn cart(&self, brand_id: &str, cart_id: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT lines FROM carts WHERE brand_id = $1 AND id = $2")
                    .bind(brand_id)
                    .bind(cart_id)
                    .fetch_optional(&self.read)
                    .await?)
            }

            async fn put_cart(&self, brand_id: &str, cart_id: &str, lines: &str, at: i64) -> Result<()> {
                sqlx::query(
                    "INSERT INTO carts (brand_id, id, lines, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (brand_id, id) DO UPDATE SET lines = excluded.lines, \
                     updated_at = excluded.updated_at",
                )
                .bind(brand_id)
                .bind(cart_id)
                .bind(lines)
                .bind(at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn delete_cart(&self, brand_id: &str, cart_id: &str) -> Result<()> {
                sqlx::query("DELETE FROM carts WHERE brand_id = $1 AND id = $2")
                    .bind(brand_id)
                    .bind(cart_id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn work_orders(&self, brand_id: &str, open_only: bool) -> Result<Vec<WorkOrder>> {
                if open_only {
                    self.load_work_orders(brand_id, "status <> $2", "done").await
                } else {
                    self.load_work_orders(brand_id, "$2 = $2", "").await
                }
            }

            async fn work_order(&self, brand_id: &str, id: &str) -> Result<Option<WorkOrder>> {
                Ok(self.load_work_orders(brand_id, "id = $2", id).await?.pop())
            }

            async fn record_operation(
                &self,
                brand_id: &str,
                work_order_id: &str,
                seq: i64,
                action: OperationAction,
                at: i64,
                event_ids: &mut (dyn Iterator<Item = String> + Send),
            ) -> Result<OperationChange> {
                let mut tx = self.write.begin().await?;
                let current: Option<String> = sqlx::query_scalar(
                    "SELECT status FROM work_order_operations \
                     WHERE brand_id = $1 AND work_order_id = $2 AND seq = $3",
                )
                .bind(brand_id)
                .bind(work_order_id)
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(current) = current else {
                    return Err(StoreError::NotFound);
                };
                let earlier_open: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM work_order_operations WHERE brand_id = $1 \
                     AND work_order_id = $2 AND seq < $3 AND status <> $4",
                )
                .bind(brand_id)
                .bind(work_order_id)
                .bind(seq)
                .bind("done")
                .fetch_one(&mut *tx)
                .await?;
                let (next, scrap) = match (action, current.as_str()) {
                    (OperationAction::Start, "pending") if earlier_open == 0 => ("started", 0),
                    (OperationAction::Start, "pending") => {
                        return Err(StoreError::Conflict(
                            "the previous operations of this work order are not complete".into(),
                        ));
                    }
                    (OperationAction::Complete { scrap }, "started") => ("done", scrap),
                    (OperationAction::Start, s) | (OperationAction::Complete { .. }, s) => {
                        return Err(StoreError::Conflict(format!(
                            "the operation is {s}; it cannot be {}",
                            if matches!(action, OperationAction::Start) {
                                "started"
                            } else {
                                "completed before it is started"
                            }
                        )));
                    }
                };
                let column = if next == "started" { "started_at" } else { "completed_at" };
                sqlx::query(&format!(
                    "UPDATE work_order_operations SET status = $1, {column} = $2, scrap = $3 \
                     WHERE brand_id = $4 AND work_order_id = $5 AND seq = $6"
                ))
                .bind(next)
                .bind(at)
                .bind(scrap)
                .bind(brand_id)
                .bind(work_order_id)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
                let open: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM work_order_operations WHERE brand_id = $1 \
                     AND work_order_id = $2 AND status <> $3",
                )
                .bind(brand_id)
                .bind(work_order_id)
                .bind("done")
                .fetch_one(&mut *tx)
                .await?;
                let wo_status = if open == 0 { "done" } else { "in_progress" };
                sqlx::query("UPDATE work_orders SET status = $1 WHERE brand_id = $2 AND id = $3")
                    .bind(wo_status)
                    .bind(brand_id)
                    .bind(work_order_id)
                    .execute(&mut *tx)
                    .await?;
                let affected = sqlx::query(
                    "SELECT DISTINCT o.id, o.status FROM orders o JOIN order_lines l \
                     ON l.brand_id = o.brand_id AND l.order_id = o.id \
                     WHERE o.brand_id = $1 AND l.work_order_id = $2 ORDER BY o.id",
                )
                .bind(brand_id)
                .bind(work_order_id)
                .fetch_all(&mut *tx)
                .await?;
                let mut moved = Vec::new();
                let mut consumed = Vec::new();
                for row in affected {
                    let order_id: String = row.try_get("id")?;
                    let order_status: String = row.try_get("status")?;
                    let unfinished: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM order_lines l JOIN work_orders w \
                         ON w.brand_id = l.brand_id AND w.id = l.work_order_id \
                         WHERE l.brand_id = $1 AND l.order_id = $2 AND w.status <> $3",
                    )
                    .bind(brand_id)
                    .bind(&order_id)
                    .bind("done")
                    .fetch_one(&mut *tx)
                    .await?;
                    let mut steps = Vec::new();
                    if order_status == status::PLANNED {
                        steps.push((status::IN_PRODUCTION, "production started"));
                    }
                    if unfinished == 0
                        && matches!(order_status.as_str(), status::PLANNED | status::IN_PRODUCTION)
                    {
                        steps.push((status::MADE, "all items made; ready to ship"));
                    }
                    for (new_status, note) in steps {
                        let event = OrderEvent {
                            id: event_ids.next().unwrap_or_default(),
                            status: new_status.to_string(),
                            note: note.to_string(),
                            at,
                        };
                        set_order_status(&mut tx, brand_id, &order_id, &event).await?;
                        moved.push((order_id.clone(), new_status.to_string()));
                        if new_status == status::MADE {
                            consumed.extend(consume(&mut tx, brand_id, &order_id, at).await?);
                        }
                    }
                }
                tx.commit().await?;
                let work_order = self
                    .work_order(brand_id, work_order_id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Ok(OperationChange { work_order, orders: moved, consumed })
            }

            async fn create_shipment(
                &self,
                brand_id: &str,
                shipment: &Shipment,
                event_id: &str,
            ) -> Result<Shipment> {
                let mut tx = self.write.begin().await?;
                let order_status: Option<String> = sqlx::query_scalar(
                    "SELECT status FROM orders WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand_id)
                .bind(&shipment.order_id)
                .fetch_optional(&mut *tx)
                .await?;
                match order_status.as_deref() {
                    None => return Err(StoreError::NotFound),
                    Some(status::MADE) => {}
                    Some(s) => {
                        return Err(StoreError::Conflict(format!(
                            "the order is {s}; only a made order can be shipped"
                        )));
                    }
                }
                sqlx::query(
                    "INSERT INTO shipments (brand_id, id, order_id, carrier, tracking_number, \
                     status, created_at, delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(brand_id)
                .bind(&shipment.id)
                .bind(&shipment.order_id)
                .bind(&shipment.carrier)
                .bind(&shipment.tracking_number)
                .bind(&shipment.status)
                .bind(shipment.created_at)
                .bind(shipment.delivered_at)
                .execute(&mut *tx)
                .await?;
                let event = OrderEvent {
                    id: event_id.to_string(),
                    status: status::SHIPPED.to_string(),
                    note: format!("{} {}", shipment.carrier, shipment.tracking_number),
                    at: shipment.created_at,
                };
                set_order_status(&mut tx, brand_id, &shipment.order_id, &event).await?;
                tx.commit().await?;
                Ok(shipment.clone())
            }

            async fn add_sales_history(&self, brand_id: &str, lines: &[SalesLine]) -> Result<u64> {
                use Arg::{I, S};
                let mut tx = self.write.begin().await?;
                let before: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sales_history WHERE brand_id = $1",
                )
                .bind(brand_id)
                .fetch_one(&mut *tx)
                .await?;
                let rows = lines
                    .iter()
                    .map(|l| {
                        vec![
                            S(brand_id), S(&l.id), S(&l.day), S(&l.product_id), S(&l.selections),
                            I(l.quantity),
                        ]
                    })
                    .collect();
                insert_rows(&mut tx, "sales_history (brand_id, id, day, product_id, selections, \
                    quantity)", rows, " ON CONFLICT (brand_id, id) DO NOTHING").await?;
                let after: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sales_history WHERE brand_id = $1",
                )
                .bind(brand_id)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok((after - before).max(0) as u64)
            }

            async fn sales_lines(
                &self,
                brand_id: &str,
                since: &str,
                since_ms: i64,
            ) -> Result<Vec<SalesLine>> {
                let mut out: Vec<SalesLine> = sqlx::query(
                    "SELECT id, day, product_id, selections, quantity FROM sales_history \
                     WHERE brand_id = $1 AND day >= $2 ORDER BY day, id",
                )
                .bind(brand_id)
                .bind(since)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(SalesLine {
                        id: r.try_get("id")?,
                        day: r.try_get("day")?,
                        at: 0,
                        product_id: r.try_get("product_id")?,
                        selections: r.try_get("selections")?,
                        quantity: r.try_get("quantity")?,
                    })
                })
                .collect::<Result<_>>()?;
                let orders = sqlx::query(
                    "SELECT o.id, o.created_at, l.line_no, l.product_id, l.selections, l.quantity \
                     FROM orders o JOIN order_lines l ON l.brand_id = o.brand_id AND l.order_id = o.id \
                     WHERE o.brand_id = $1 AND o.created_at >= $2 ORDER BY o.created_at, o.id, l.line_no",
                )
                .bind(brand_id)
                .bind(since_ms)
                .fetch_all(&self.read)
                .await?;
                for r in &orders {
                    let id: String = r.try_get("id")?;
                    let line_no: i64 = r.try_get("line_no")?;
                    out.push(SalesLine {
                        id: format!("{id}#{line_no}"),
                        day: String::new(),
                        at: r.try_get("created_at")?,
                        product_id: r.try_get("product_id")?,
                        selections: r.try_get("selections")?,
                        quantity: r.try_get("quantity")?,
                    });
                }
                Ok(out)
            }

            async fn downtimes(&self, brand_id: &str) -> Result<Vec<Downtime>> {
                sqlx::query(
                    "SELECT id, work_center, from_day, to_day, reason, created_at \
                     FROM downtimes WHERE brand_id = $1 ORDER BY from_day, created_at, id",
                )
                .bind(brand_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(Downtime {
                        id: r.try_get("id")?,
                        work_center: r.try_get("work_center")?,
                        from_day: r.try_get("from_day")?,
                        to_day: r.try_get("to_day")?,
                        reason: r.try_get("reason")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .collect()
            }

            async fn open_promises(&self, brand_id: &str) -> Result<Vec<OpenPromise>> {
                let rows = sqlx::query(
                    "SELECT o.id, o.promised_date, o.created_at, l.line_no, l.product_id \
                     FROM orders o JOIN order_lines l \
                       ON l.brand_id = o.brand_id AND l.order_id = o.id \
                     WHERE o.brand_id = $1 AND o.status = $2 \
                     ORDER BY o.promised_date, o.created_at, o.id, l.line_no",
                )
                .bind(brand_id)
                .bind(status::PLANNED)
                .fetch_all(&self.read)
                .await?;
                let mut out: Vec<OpenPromise> = Vec::new();
                for r in &rows {
                    let id: String = r.try_get("id")?;
                    let line = (r.try_get("line_no")?, r.try_get("product_id")?);
                    match out.last_mut() {
                        Some(o) if o.order_id == id => o.lines.push(line),
                        _ => out.push(OpenPromise {
                            order_id: id,
                            promised_date: r.try_get("promised_date")?,
                            created_at: r.try_get("created_at")?,
                            lines: vec![line],
                        }),
                    }
                }
                Ok(out)
            }

            async fn rebook(&self, brand_id: &str, rows: &[BookingRow]) -> Result<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut tx = self.write.begin().await?;
                update_bookings(&mut tx, brand_id, rows).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_replan(
                &self,
                brand_id: &str,
                downtime: Option<&Downtime>,
                repromises: &[Repromise],
            ) -> Result<()> {
                use Arg::{I, S};
                let mut tx = self.write.begin().await?;
                if let Some(downtime) = downtime {
                    sqlx::query(
                        "INSERT INTO downtimes (brand_id, id, work_center, from_day, to_day, \
                         reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(brand_id)
                    .bind(&downtime.id)
                    .bind(&downtime.work_center)
                    .bind(&downtime.from_day)
                    .bind(&downtime.to_day)
                    .bind(&downtime.reason)
                    .bind(downtime.created_at)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut bookings: Vec<Vec<Arg<'_>>> = Vec::new();
                let mut events: Vec<Vec<Arg<'_>>> = Vec::new();
                for r in repromises {
                    sqlx::query("DELETE FROM bookings WHERE brand_id = $1 AND order_id = $2")
                        .bind(brand_id)
                        .bind(&r.order_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "UPDATE orders SET promised_date = $1 WHERE brand_id = $2 AND id = $3",
                    )
                    .bind(&r.promised_date)
                    .bind(brand_id)
                    .bind(&r.order_id)
                    .execute(&mut *tx)
                    .await?;
                    for b in &r.bookings {
                        bookings.push(vec![
                            S(brand_id), S(&b.order_id), I(b.line_no), S(&b.operation),
                            S(&b.work_center), S(&b.day), I(b.minutes), I(b.seq), I(b.machine),
                            I(b.setup_start), I(b.start_at), I(b.end_at), I(b.setup_minutes),
                            I(b.changeover), I(b.release_at), S(&b.due_day),
                        ]);
                    }
                    if let Some(e) = &r.event {
                        events.push(vec![
                            S(brand_id), S(&r.order_id), S(&e.id), S(&e.status), S(&e.note),
                            I(e.at),
                        ]);
                    }
                }
                insert_rows(&mut tx, "bookings (brand_id, order_id, line_no, operation, \
                    work_center, day, minutes, seq, machine, setup_start, start_at, end_at, \
                    setup_minutes, changeover, release_at, due_day)", bookings, "").await?;
                insert_rows(&mut tx, "order_events (brand_id, order_id, id, status, note, at)",
                    events, "").await?;
                tx.commit().await?;
                Ok(())
            }

            async fn mark_delivered(
                &self,
                brand_id: &str,
                shipment_id: &str,
                at: i64,
                event_id: &str,
            ) -> Result<Shipment> {
                let mut tx = self.write.begin().await?;
                let row = sqlx::query("SELECT * FROM shipments WHERE brand_id = $1 AND id = $2")
                    .bind(brand_id)
                    .bind(shipment_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let mut shipment = shipment_from(&row)?;
                if shipment.status == "delivered" {
                    return Ok(shipment);
                }
                sqlx::query(
                    "UPDATE shipments SET status = $1, delivered_at = $2 \
                     WHERE brand_id = $3 AND id = $4",
                )
                .bind("delivered")
                .bind(at)
                .bind(brand_id)
                .bind(shipment_id)
                .execute(&mut *tx)
                .await?;
                let event = OrderEvent {
                    id: event_id.to_string(),
                    status: status::DELIVERED.to_string(),
                    note: format!("{} {}", shipment.carrier, shipment.tracking_number),
                    at,
                };
                set_order_status(&mut tx, brand_id, &shipment.order_id, &event).await?;
                tx.commit().await?;
                shipment.status = "delivered".into();
                shipment.delivered_at = Some(at);
                Ok(shipment)
            }
        }
    };
}

pub(crate) use impl_store;
