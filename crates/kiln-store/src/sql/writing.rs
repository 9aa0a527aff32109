//! The order writer's batch: many orders in one transaction, their rows
//! inserted together (on PostgreSQL in one statement), then what changes
//! rows already there. `OrderStore::place_orders` (in `orders.rs`) calls
//! it, and retries the orders one by one when a batch fails.

macro_rules! impl_writing {
    ($store:ty, $db:ty, $backend:literal) => {
        const LINE_COLUMNS: &str = "order_lines (brand_id, order_id, line_no, product_id, \
            selections, sku, quantity, unit_price, work_order_id, catalog_version, \
            promised_date, recipient)";
        const OPERATION_COLUMNS: &str = "work_order_operations (brand_id, work_order_id, seq, \
            operation, name, work_center, setup_minutes, run_minutes, status, started_at, \
            completed_at, scrap)";

        /// One order line's row.
        fn line_args<'a>(b: &'a str, order: &'a str, l: &'a OrderLine) -> Vec<Arg<'a>> {
            use Arg::{I, O, OptO, S};
            vec![
                S(b), S(order), I(l.line_no), S(&l.product_id),
                O($crate::sql::to_json(&l.selections)), S(&l.sku), I(l.quantity),
                O(l.unit_price.to_string()), S(l.work_order_id.as_str()),
                I(l.catalog_version), OptO(l.promised_date.map(|d| d.to_string())),
                OptO(l.recipient.as_ref().map($crate::sql::to_json)),
            ]
        }

        /// One work order operation's row.
        fn operation_args<'a>(b: &'a str, wo: &'a str, op: &'a WorkOrderOperation) -> Vec<Arg<'a>> {
            use Arg::{I, O, OptI, S};
            vec![
                S(b), S(wo), I(op.seq), S(&op.operation), S(&op.name), S(&op.work_center),
                O(op.setup_minutes.to_string()), O(op.run_minutes.to_string()),
                S(op.status.as_str()), OptI(op.started_at.map(|t| t.as_millisecond())),
                OptI(op.completed_at.map(|t| t.as_millisecond())), I(op.scrap),
            ]
        }

        /// More units for a planned work order (a line joining its batch);
        /// a work order started meanwhile is a conflict, and so is one
        /// written ahead of an order not written (it joined a bulk order's
        /// batch, and the bulk order failed: its batch is swept).
        async fn add_quantity(tx: &mut Tx<'_>, b: &str, id: &WorkOrderId, quantity: i64) -> Result<()> {
            let done = sqlx::query(concat!(
                "UPDATE work_orders AS w SET quantity = w.quantity + $1 \
                 WHERE w.brand_id = $2 AND w.id = $3 AND w.status = $4 AND ",
                $crate::sql::visible_work_order!()
            ))
            .bind(quantity)
            .bind(b)
            .bind(id.as_str())
            .bind(WorkOrderStatus::Planned.as_str())
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!("work order {id} is no longer planned")));
            }
            Ok(())
        }

        /// More units for planned work orders, `{id: quantity}`, in one
        /// statement; one started meanwhile is a conflict.
        async fn add_quantities(
            tx: &mut Tx<'_>,
            b: &str,
            quantities: &std::collections::BTreeMap<&str, i64>,
        ) -> Result<()> {
            if $backend == "sqlite" {
                // In process a statement costs little, and each finds its
                // row by the key; one statement over `json_each` let the
                // planner read every planned work order of the brand (the
                // status index), thousands after a bulk order.
                for (id, quantity) in quantities {
                    add_quantity(tx, b, &WorkOrderId::from(*id), *quantity).await?;
                }
                return Ok(());
            }
            let sql = if $backend == "postgres" {
                concat!(
                    "UPDATE work_orders AS w SET quantity = w.quantity + v.q \
                     FROM (SELECT key AS id, value::BIGINT AS q FROM json_each_text($1::json)) AS v \
                     WHERE w.brand_id = $2 AND w.id = v.id AND w.status = $3 AND ",
                    $crate::sql::visible_work_order!()
                )
            } else {
                concat!(
                    "UPDATE work_orders AS w SET quantity = w.quantity + \
                     (SELECT CAST(value AS INTEGER) FROM json_each($1) WHERE key = w.id) \
                     WHERE w.brand_id = $2 AND w.id IN (SELECT key FROM json_each($1)) AND w.status = $3 AND ",
                    $crate::sql::visible_work_order!()
                )
            };
            let done = sqlx::query(sql)
                .bind($crate::sql::to_json(quantities))
                .bind(b)
                .bind(WorkOrderStatus::Planned.as_str())
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() != quantities.len() as u64 {
                return Err(StoreError::Conflict(
                    "a work order this batch joins is no longer planned".into(),
                ));
            }
            Ok(())
        }

        /// Makes the rows written ahead of order `id` its own: they must all
        /// be there (a chunk lost, or swept, refuses the order). Its
        /// `staged_orders` row goes first: that row's lock orders this
        /// against a sweep (`discard_staged`) on PostgreSQL, where the
        /// sweep cannot see this transaction's order yet.
        async fn claim_staged(tx: &mut Tx<'_>, b: &str, id: &str, staged: &Staged) -> Result<()> {
            let claimed = sqlx::query("DELETE FROM staged_orders WHERE brand_id = $1 AND order_id = $2")
                .bind(b)
                .bind(id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            let mut counts = [0i64; 3];
            for (count, (table, column)) in counts.iter_mut().zip([
                ("order_lines", "order_id"),
                ("bookings", "order_id"),
                ("work_orders", "staged_order_id"),
            ]) {
                *count = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE brand_id = $1 AND {column} = $2"
                ))
                .bind(b)
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
            }
            let [lines, bookings, work_orders] = counts;
            if claimed != 1
                || lines as u64 != staged.lines
                || bookings as u64 != staged.bookings
                || work_orders as u64 != staged.work_orders
            {
                return Err(StoreError::Conflict(format!(
                    "order {id}: {lines} of its {} lines, {bookings} of its {} bookings and \
                     {work_orders} of its {} new work orders were written ahead",
                    staged.lines, staged.bookings, staged.work_orders
                )));
            }
            Ok(())
        }

        /// The customers of `firsts` (the first order of each in the batch)
        /// stored if new, and each read back, keyed by brand and email: an
        /// insert, then one query per brand.
        async fn upsert_customers<'a>(
            tx: &mut Tx<'_>,
            firsts: &[&'a NewOrder],
        ) -> Result<std::collections::HashMap<(&'a str, &'a str), Customer>> {
            use Arg::{I, OptS, S};
            let rows = firsts
                .iter()
                .map(|o| {
                    let c = &o.customer;
                    vec![
                        S(o.brand_id.as_str()), S(c.id.as_str()), S(&c.email), S(&c.name),
                        OptS(c.phone.as_deref()), I(o.created_at.as_millisecond()),
                    ]
                })
                .collect();
            insert_rows(
                tx,
                "customers (brand_id, id, email, name, phone, created_at)",
                rows,
                " ON CONFLICT (brand_id, email) DO NOTHING",
            )
            .await?;
            let mut by_brand: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
            for o in firsts {
                by_brand.entry(o.brand_id.as_str()).or_default().push(o.customer.email.as_str());
            }
            let mut customers = std::collections::HashMap::new();
            for (brand, emails) in &by_brand {
                let rows = sqlx::query(&format!(
                    "SELECT id AS customer_id, email, name AS customer_name, phone \
                     FROM customers WHERE brand_id = $1 AND email {}",
                    $crate::sql::in_json($backend, 2)
                ))
                .bind(*brand)
                .bind($crate::sql::to_json(emails))
                .fetch_all(&mut **tx)
                .await?;
                for row in &rows {
                    let c = customer_from(row)?;
                    if let Some(email) = emails.iter().find(|e| **e == c.email) {
                        customers.insert((*brand, *email), c);
                    }
                }
            }
            Ok(customers)
        }

        /// [`upsert_customers`] in one statement (PostgreSQL): the rows
        /// inserted come back from the insert, those there before from a
        /// join in the same statement, whose snapshot precedes the insert.
        /// A customer another transaction stored meanwhile is in neither:
        /// the batch then fails as a conflict, and each order is retried.
        async fn upsert_customers_in_one<'a>(
            tx: &mut Tx<'_>,
            firsts: &[&'a NewOrder],
        ) -> Result<std::collections::HashMap<(&'a str, &'a str), Customer>> {
            let rows: Vec<serde_json::Value> = firsts
                .iter()
                .map(|o| {
                    let c = &o.customer;
                    serde_json::json!({
                        "brand_id": o.brand_id.as_str(), "id": c.id.as_str(), "email": c.email,
                        "name": c.name, "phone": c.phone, "created_at": o.created_at.as_millisecond(),
                    })
                })
                .collect();
            let found = sqlx::query(
                "WITH v AS (SELECT * FROM json_to_recordset($1::json) AS v(brand_id text, \
                   id text, email text, name text, phone text, created_at int8)), \
                 ins AS (INSERT INTO customers (brand_id, id, email, name, phone, created_at) \
                   SELECT brand_id, id, email, name, phone, created_at FROM v \
                   ON CONFLICT (brand_id, email) DO NOTHING \
                   RETURNING brand_id, id, email, name, phone) \
                 SELECT brand_id, id AS customer_id, email, name AS customer_name, phone FROM ins \
                 UNION ALL \
                 SELECT c.brand_id, c.id, c.email, c.name, c.phone FROM v \
                 CROSS JOIN LATERAL (SELECT * FROM customers AS c \
                   WHERE c.brand_id = v.brand_id AND c.email = v.email) AS c",
            )
            .bind(serde_json::Value::Array(rows).to_string())
            .fetch_all(&mut **tx)
            .await?;
            let mut customers = std::collections::HashMap::new();
            for row in &found {
                let brand = text(row, "brand_id")?;
                let c = customer_from(row)?;
                // A batch holds at most a few hundred customers.
                if let Some(o) = firsts
                    .iter()
                    .find(|o| o.brand_id.as_str() == brand && o.customer.email == c.email)
                {
                    customers.insert((o.brand_id.as_str(), o.customer.email.as_str()), c);
                }
            }
            Ok(customers)
        }

        impl $store {
            /// Writes `orders` in one transaction with multi-row inserts.
            async fn write_batch(&self, orders: &[NewOrder]) -> Result<Vec<Result<Placed>>> {
                use Arg::{I, O, OptS, S};
                let mut tx = self.write.begin().await?;
                let mut brands: Vec<&BrandId> = orders.iter().map(|o| &o.brand_id).collect();
                brands.sort();
                brands.dedup();
                for brand in brands {
                    fence(&mut tx, self.leases.as_deref(), brand).await?;
                }
                // The first order of each customer (brand and email): a new
                // customer is stored as it gives them.
                let mut seen = std::collections::HashSet::new();
                let firsts: Vec<&NewOrder> = orders
                    .iter()
                    .filter(|o| seen.insert((o.brand_id.as_str(), o.customer.email.as_str())))
                    .collect();
                // The customers as stored: an email seen before keeps its
                // customer.
                let customers = if $backend == "postgres" {
                    upsert_customers_in_one(&mut tx, &firsts).await?
                } else {
                    upsert_customers(&mut tx, &firsts).await?
                };
                if customers.len() != firsts.len() {
                    return Err(StoreError::Conflict("a customer of the batch was not stored".into()));
                }
                let (mut heads, mut lines, mut wos, mut ops, mut bookings) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
                let (mut reqs, mut sugs, mut timeline) = (Vec::new(), Vec::new(), Vec::new());
                let (mut payments, mut keys) = (Vec::new(), Vec::new());
                let mut staged_orders = Vec::new();
                for o in orders {
                    let b = o.brand_id.as_str();
                    let stored = &customers[&(b, o.customer.email.as_str())];
                    let verified = o.counts_as(&stored.id);
                    let created = o.created_at.as_millisecond();
                    heads.push(vec![
                        S(b), S(o.id.as_str()), OptS(o.idempotency_key.as_deref()),
                        S(&o.request_hash), S(stored.id.as_str()), S(o.channel.as_str()),
                        OptS(o.store_id.as_deref()), O($crate::sql::to_json(&o.ship_to)),
                        S(o.status.as_str()), S(&o.currency), O(o.total.to_string()),
                        O(o.shipping.to_string()), O(o.tax.to_string()),
                        O(o.promised_date.to_string()), I(created), S(&o.access_token),
                        // An unverified order keeps what it was given.
                        OptS((!verified).then_some(o.customer.name.as_str())),
                        OptS(if verified { None } else { o.customer.phone.as_deref() }),
                        I(i64::from(verified)), S(o.ship_policy.as_str()),
                    ]);
                    if let Some(key) = &o.idempotency_key {
                        keys.push(vec![S(b), S(key), S(o.id.as_str())]);
                    }
                    match &o.staged {
                        Some(staged) => staged_orders.push((b, o.id.as_str(), staged)),
                        None => {
                            for l in &o.lines {
                                lines.push(line_args(b, o.id.as_str(), l));
                            }
                            for k in &o.bookings {
                                bookings.push(booking_args(b, k));
                            }
                        }
                    }
                    for w in &o.work_orders {
                        if let WorkOrderWrite::Create {
                            id, sku, product_id, quantity, catalog_version, operations,
                        } = w
                        {
                            wos.push(vec![
                                S(b), S(id.as_str()), S(sku), S(product_id), I(*quantity),
                                S(WorkOrderStatus::Planned.as_str()), I(created),
                                I(*catalog_version),
                            ]);
                            for op in operations {
                                ops.push(operation_args(b, id.as_str(), op));
                            }
                        }
                    }
                    for r in &o.requirements {
                        reqs.push(vec![
                            S(b), S(o.id.as_str()), S(&r.material), O(r.gross.to_string()),
                            O(r.allocated.to_string()), O(r.shortage.to_string()),
                        ]);
                    }
                    for p in &o.suggestions {
                        sugs.push(suggestion_args(b, p));
                    }
                    let p = &o.payment;
                    payments.push(vec![
                        S(b), S(o.id.as_str()), S(&p.provider), S(p.status.as_str()),
                        O(p.amount.to_string()), S(&p.currency), S(&p.reference),
                        S(&p.instructions), I(created),
                    ]);
                    for e in &o.timeline {
                        timeline.push(vec![
                            S(b), S(o.id.as_str()), S(e.id.as_str()), S(e.status.as_str()),
                            S(&e.note), I(e.at.as_millisecond()),
                        ]);
                    }
                }
                // Each order reports itself as it now stands: as `order` reads
                // it back, with the stored customer and rows in its order.
                let events: Vec<PlatformEvent> = orders
                    .iter()
                    .map(|o| {
                        let customer = &customers[&(o.brand_id.as_str(), o.customer.email.as_str())];
                        let mut order = o.placed_head(customer.id.clone());
                        if order.customer_verified {
                            order.customer = customer.clone();
                        }
                        order.timeline.sort_by(|x, y| (x.at, &x.id).cmp(&(y.at, &y.id)));
                        order.requirements.sort_by(|x, y| x.material.cmp(&y.material));
                        let (kind, at) = (EventType::OrderCreated, o.created_at);
                        // Lines written ahead as JSON are not written again.
                        match o.staged.as_ref().and_then(|s| s.lines_json.as_deref()) {
                            Some(lines) => PlatformEvent::new(
                                &o.brand_id, kind, at, &OrderWithLines { head: &order, lines },
                            ),
                            None => {
                                order.lines = o.lines.clone();
                                PlatformEvent::new(&o.brand_id, kind, at, &order)
                            }
                        }
                    })
                    .collect();
                // Every insert of the batch in one script: on PostgreSQL one
                // statement (and round trip) instead of one per table.
                let mut script = $crate::sql::Script::default();
                script.insert("orders (brand_id, id, idempotency_key, request_hash, \
                    customer_id, channel, store_id, ship_to, status, currency, total, \
                    shipping, tax, promised_date, created_at, access_token, customer_name, \
                    customer_phone, customer_verified, ship_policy)", heads, "");
                script.insert("order_keys (brand_id, idempotency_key, order_id)", keys, "");
                script.insert(LINE_COLUMNS, lines, "");
                script.insert("work_orders (brand_id, id, sku, product_id, quantity, \
                    status, created_at, catalog_version)", wos, "");
                script.insert(OPERATION_COLUMNS, ops, "");
                script.insert(BOOKING_COLUMNS, bookings, "");
                script.insert("material_requirements (brand_id, order_id, material, \
                    gross, allocated, shortage)", reqs, "");
                script.insert(SUGGESTION_COLUMNS, sugs, "");
                script.insert("payments (brand_id, order_id, provider, status, amount, \
                    currency, reference, instructions, updated_at)", payments, "");
                script.insert("order_events (brand_id, order_id, id, status, note, at)",
                    timeline, "");
                outbox_script(&mut script, &events);
                run_script(&mut *tx, script).await?;
                // Then what changes rows already there, or just inserted.
                // Rows written ahead become the orders' own first: an order
                // of this batch may join a work order written ahead of one
                // before it.
                for (b, id, staged) in staged_orders {
                    claim_staged(&mut tx, b, id, staged).await?;
                }
                // Quantities added to planned work orders (created earlier in
                // this batch or before), one statement per brand.
                let mut added: std::collections::BTreeMap<&str, std::collections::BTreeMap<&str, i64>> =
                    Default::default();
                for o in orders {
                    for w in &o.work_orders {
                        if let WorkOrderWrite::AddQuantity { id, quantity } = w {
                            *added.entry(o.brand_id.as_str()).or_default().entry(id.as_str()).or_default() +=
                                *quantity;
                        }
                    }
                }
                for (b, quantities) in &added {
                    add_quantities(&mut tx, b, quantities).await?;
                }
                // After every insert of the batch: an order may move a booking
                // of one placed just before it.
                let mut rebooked: std::collections::BTreeMap<&BrandId, Vec<BookingRow>> =
                    Default::default();
                for o in orders {
                    rebooked.entry(&o.brand_id).or_default().extend(o.rebooked.iter().cloned());
                }
                for (brand, rows) in &rebooked {
                    update_bookings(&mut tx, brand, rows).await?;
                }
                tx.commit().await?;
                Ok(orders
                    .iter()
                    .map(|o| {
                        let customer = &customers[&(o.brand_id.as_str(), o.customer.email.as_str())];
                        Ok(Placed::Created { customer_id: customer.id.clone() })
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use impl_writing;
