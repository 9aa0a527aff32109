//! Reading orders with everything that hangs off them: one
//! (`load_order_in`), or many in one query per table (`load_orders_in`),
//! decoded the same way.

macro_rules! impl_reading {
    ($store:ty, $db:ty, $backend:literal) => {
        const ORDER_COLUMNS: &str = "o.id, o.customer_id, c.email, \
            COALESCE(o.customer_name, c.name) AS customer_name, \
            CASE WHEN o.customer_verified = 0 THEN o.customer_phone ELSE c.phone END AS phone, \
            o.customer_verified, o.ship_policy, o.channel, o.store_id, o.ship_to, o.status, o.currency, o.total, \
            o.shipping, o.tax, o.promised_date, o.created_at, o.request_hash, o.access_token";

        /// One order with everything that hangs off it, on `conn` (a pool's
        /// connection, or a transaction's so an event can show its own change).
        async fn load_order_in(
            conn: &mut Conn,
            brand_id: &BrandId,
            where_clause: &str,
            key: &str,
        ) -> Result<Option<Order>> {
            let sql = format!(
                "SELECT {ORDER_COLUMNS} FROM orders o JOIN customers c \
                 ON c.brand_id = o.brand_id AND c.id = o.customer_id \
                 WHERE o.brand_id = $1 AND {where_clause} = $2"
            );
            let Some(row) = sqlx::query(&sql)
                .bind(brand_id.as_str())
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?
            else {
                return Ok(None);
            };
            let id = OrderId::from(text(&row, "id")?);
            let b = brand_id.as_str();
            let mut lines = Vec::new();
            for r in sqlx::query(
                "SELECT line_no, product_id, selections, sku, quantity, unit_price, \
                 work_order_id, catalog_version, promised_date, recipient, cancelled_at \
                 FROM order_lines \
                 WHERE brand_id = $1 AND order_id = $2 ORDER BY line_no",
            )
            .bind(b)
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await?
            {
                lines.push(line_from(&r)?);
            }
            let timeline = sqlx::query(
                "SELECT id, status, note, at FROM order_events \
                 WHERE brand_id = $1 AND order_id = $2 ORDER BY at, id",
            )
            .bind(b)
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(timeline_from)
            .collect::<Result<Vec<_>>>()?;
            let requirements = sqlx::query(
                "SELECT material, gross, allocated, shortage FROM material_requirements \
                 WHERE brand_id = $1 AND order_id = $2 ORDER BY material",
            )
            .bind(b)
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(requirement_from)
            .collect::<Result<Vec<_>>>()?;
            let shipments = sqlx::query(
                "SELECT * FROM shipments WHERE brand_id = $1 AND order_id = $2 \
                 ORDER BY created_at, id",
            )
            .bind(b)
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(shipment_from)
            .collect::<Result<Vec<_>>>()?;
            let payment = sqlx::query(
                "SELECT provider, status, amount, currency, reference, instructions \
                 FROM payments WHERE brand_id = $1 AND order_id = $2",
            )
            .bind(b)
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| payment_from(&r))
            .transpose()?;
            let parts = OrderParts { lines, timeline, requirements, shipments, payment };
            Ok(Some(order_from(&row, id, parts)?))
        }

        /// An order's rows other than its head, as they are read.
        #[derive(Default)]
        struct OrderParts {
            lines: Vec<OrderLine>,
            timeline: Vec<TimelineEntry>,
            requirements: Vec<Requirement>,
            shipments: Vec<Shipment>,
            payment: Option<Payment>,
        }

        fn payment_from(r: &DbRow) -> Result<Payment> {
            Ok(Payment {
                provider: text(r, "provider")?,
                status: parsed(&text(r, "status")?)?,
                amount: dec(&text(r, "amount")?)?,
                currency: text(r, "currency")?,
                reference: text(r, "reference")?,
                instructions: text(r, "instructions")?,
            })
        }

        /// An order from its head (the columns of `ORDER_COLUMNS`) and parts.
        fn order_from(row: &DbRow, id: OrderId, parts: OrderParts) -> Result<Order> {
            let OrderParts { lines, timeline, requirements, shipments, payment } = parts;
            Ok(Order {
                payment,
                customer: customer_from(row)?,
                customer_verified: int(row, "customer_verified")? != 0,
                ship_policy: parsed(&text(row, "ship_policy")?)?,
                id,
                channel: parsed(&text(row, "channel")?)?,
                store_id: row.try_get("store_id")?,
                ship_to: json(&text(row, "ship_to")?)?,
                status: parsed(&text(row, "status")?)?,
                currency: text(row, "currency")?,
                total: dec(&text(row, "total")?)?,
                shipping: dec(&text(row, "shipping")?)?,
                tax: dec(&text(row, "tax")?)?,
                promised_date: day(&text(row, "promised_date")?)?,
                created_at: ts(int(row, "created_at")?)?,
                request_hash: text(row, "request_hash")?,
                access_token: text(row, "access_token")?,
                lines,
                timeline,
                requirements,
                shipments,
            })
        }

        /// Rows of `sql` (`$1` the brand, `$2` a JSON list of order ids)
        /// grouped by their `order_id` column, in the query's order.
        async fn rows_by_order(
            conn: &mut Conn,
            sql: &str,
            brand: &str,
            ids: &str,
        ) -> Result<std::collections::HashMap<String, Vec<DbRow>>> {
            let mut out: std::collections::HashMap<String, Vec<DbRow>> = Default::default();
            for row in sqlx::query(sql).bind(brand).bind(ids).fetch_all(&mut *conn).await? {
                out.entry(text(&row, "order_id")?).or_default().push(row);
            }
            Ok(out)
        }

        /// The orders `ids` of a brand, as `load_order_in` reads one, in the
        /// order of `ids` (an id not found is left out).
        async fn load_orders_in(
            conn: &mut Conn,
            brand_id: &BrandId,
            ids: &[&OrderId],
        ) -> Result<Vec<Order>> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let b = brand_id.as_str();
            let list = $crate::sql::to_json(&ids.iter().map(|i| i.as_str()).collect::<Vec<_>>());
            let of = |table: &str, columns: &str, order: &str| {
                format!(
                    "SELECT order_id, {columns} FROM {table} WHERE brand_id = $1 \
                     AND order_id {} ORDER BY order_id, {order}",
                    $crate::sql::in_json($backend, 2)
                )
            };
            let heads = rows_by_order(
                conn,
                &format!(
                    "SELECT o.id AS order_id, {ORDER_COLUMNS} FROM orders o JOIN customers c \
                     ON c.brand_id = o.brand_id AND c.id = o.customer_id \
                     WHERE o.brand_id = $1 AND o.id {}",
                    $crate::sql::in_json($backend, 2)
                ),
                b,
                &list,
            )
            .await?;
            let mut lines = rows_by_order(
                conn,
                &of(
                    "order_lines",
                    "line_no, product_id, selections, sku, quantity, unit_price, \
                     work_order_id, catalog_version, promised_date, recipient, cancelled_at",
                    "line_no",
                ),
                b,
                &list,
            )
            .await?;
            let mut timeline =
                rows_by_order(conn, &of("order_events", "id, status, note, at", "at, id"), b, &list)
                    .await?;
            let mut requirements = rows_by_order(
                conn,
                &of("material_requirements", "material, gross, allocated, shortage", "material"),
                b,
                &list,
            )
            .await?;
            let mut shipments = rows_by_order(
                conn,
                &format!(
                    "SELECT * FROM shipments WHERE brand_id = $1 AND order_id {} \
                     ORDER BY order_id, created_at, id",
                    $crate::sql::in_json($backend, 2)
                ),
                b,
                &list,
            )
            .await?;
            let mut payments = rows_by_order(
                conn,
                &of("payments", "provider, status, amount, currency, reference, instructions", "provider"),
                b,
                &list,
            )
            .await?;
            let mut orders = Vec::with_capacity(ids.len());
            for id in ids {
                let Some(head) = heads.get(id.as_str()).and_then(|h| h.first()) else {
                    continue;
                };
                let take = |rows: &mut std::collections::HashMap<String, Vec<DbRow>>| {
                    rows.remove(id.as_str()).unwrap_or_default()
                };
                let parts = OrderParts {
                    lines: take(&mut lines).iter().map(line_from).collect::<Result<_>>()?,
                    timeline: take(&mut timeline).iter().map(timeline_from).collect::<Result<_>>()?,
                    requirements: take(&mut requirements)
                        .iter()
                        .map(requirement_from)
                        .collect::<Result<_>>()?,
                    shipments: take(&mut shipments).iter().map(shipment_from).collect::<Result<_>>()?,
                    payment: take(&mut payments).first().map(payment_from).transpose()?,
                };
                orders.push(order_from(head, (*id).clone(), parts)?);
            }
            Ok(orders)
        }

    };
}

pub(crate) use impl_reading;
