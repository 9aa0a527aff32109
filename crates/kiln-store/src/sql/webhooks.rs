//! Webhook endpoints, their subscriptions, and deliveries of the outbox's
//! events: which are due, what each attempt gave, replays.

macro_rules! impl_webhooks {
    ($store:ty, $db:ty) => {
        async fn endpoint_rows(
            conn: &mut Conn,
            brand: &BrandId,
            filter: &str,
            key: &str,
        ) -> Result<Vec<WebhookEndpoint>> {
            let sql = format!(
                "SELECT * FROM webhook_endpoints WHERE brand_id = $1 AND {filter} \
                 ORDER BY created_at, id"
            );
            let rows = sqlx::query(&sql)
                .bind(brand.as_str())
                .bind(key)
                .fetch_all(&mut *conn)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let id = WebhookId::from(text(&r, "id")?);
                let events: Vec<String> = sqlx::query_scalar(
                    "SELECT event_type FROM webhook_subscriptions WHERE brand_id = $1 \
                     AND endpoint_id = $2 ORDER BY event_type",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .fetch_all(&mut *conn)
                .await?;
                let previous: Option<String> = r.try_get("previous_secret")?;
                let previous_expires = opt_ts(r.try_get("previous_expires_at")?)?;
                out.push(WebhookEndpoint {
                    id,
                    brand_id: BrandId::from(text(&r, "brand_id")?),
                    url: text(&r, "url")?,
                    description: text(&r, "description")?,
                    events: events.iter().map(|e| parsed(e)).collect::<Result<_>>()?,
                    enabled: int(&r, "enabled")? != 0,
                    disabled_reason: r.try_get("disabled_reason")?,
                    secret: text(&r, "secret")?,
                    previous_secret: previous.zip(previous_expires),
                    created_at: ts(int(&r, "created_at")?)?,
                    updated_at: ts(int(&r, "updated_at")?)?,
                });
            }
            Ok(out)
        }

        /// Writes an endpoint (new, or in place of its stored self) with its
        /// subscriptions.
        async fn write_endpoint(tx: &mut Tx<'_>, e: &WebhookEndpoint) -> Result<()> {
            sqlx::query(
                "INSERT INTO webhook_endpoints (brand_id, id, url, description, secret, \
                 previous_secret, previous_expires_at, enabled, disabled_reason, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, \
                 description = excluded.description, secret = excluded.secret, \
                 previous_secret = excluded.previous_secret, \
                 previous_expires_at = excluded.previous_expires_at, enabled = excluded.enabled, \
                 disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at",
            )
            .bind(e.brand_id.as_str())
            .bind(e.id.as_str())
            .bind(&e.url)
            .bind(&e.description)
            .bind(&e.secret)
            .bind(e.previous_secret.as_ref().map(|p| p.0.clone()))
            .bind(e.previous_secret.as_ref().map(|p| p.1.as_millisecond()))
            .bind(i64::from(e.enabled))
            .bind(e.disabled_reason.as_deref())
            .bind(e.created_at.as_millisecond())
            .bind(e.updated_at.as_millisecond())
            .execute(&mut **tx)
            .await?;
            put_subscriptions(tx, e).await
        }

        async fn put_subscriptions(tx: &mut Tx<'_>, e: &WebhookEndpoint) -> Result<()> {
            use Arg::S;
            sqlx::query("DELETE FROM webhook_subscriptions WHERE brand_id = $1 AND endpoint_id = $2")
                .bind(e.brand_id.as_str())
                .bind(e.id.as_str())
                .execute(&mut **tx)
                .await?;
            let mut events = e.events.clone();
            events.sort();
            events.dedup();
            let rows = events
                .iter()
                .map(|t| vec![S(e.brand_id.as_str()), S(e.id.as_str()), S(t.as_str())])
                .collect();
            insert_rows(tx, "webhook_subscriptions (brand_id, endpoint_id, event_type)", rows, "")
                .await
                .map(drop)
        }

        fn delivery_from(r: &DbRow) -> Result<Delivery> {
            Ok(Delivery {
                id: DeliveryId::from(text(r, "id")?),
                endpoint_id: WebhookId::from(text(r, "endpoint_id")?),
                event_id: EventId::from(text(r, "event_id")?),
                event_type: parsed(&text(r, "event_type")?)?,
                state: parsed(&text(r, "state")?)?,
                attempts: int(r, "attempts")?,
                next_attempt_at: opt_ts(r.try_get("next_attempt_at")?)?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
                created_at: ts(int(r, "created_at")?)?,
            })
        }

        #[async_trait::async_trait]
        impl $crate::WebhookStore for $store {
            async fn create_webhook(&self, e: &WebhookEndpoint, entry: &AuditEntry) -> Result<()> {
                let mut tx = self.write.begin().await?;
                write_endpoint(&mut tx, e).await?;
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_webhook(&self, e: &WebhookEndpoint, entry: &AuditEntry) -> Result<()> {
                let mut tx = self.write.begin().await?;
                let exists: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM webhook_endpoints WHERE brand_id = $1 AND id = $2",
                )
                .bind(e.brand_id.as_str())
                .bind(e.id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound);
                }
                write_endpoint(&mut tx, e).await?;
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn delete_webhook(
                &self,
                brand: &BrandId,
                id: &WebhookId,
                entry: &AuditEntry,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                let done = sqlx::query("DELETE FROM webhook_endpoints WHERE brand_id = $1 AND id = $2")
                    .bind(brand.as_str())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query(
                    "DELETE FROM webhook_attempts WHERE brand_id = $1 AND delivery_id IN \
                     (SELECT id FROM webhook_deliveries WHERE brand_id = $1 AND endpoint_id = $2)",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                for table in ["webhook_subscriptions", "webhook_deliveries"] {
                    sqlx::query(&format!(
                        "DELETE FROM {table} WHERE brand_id = $1 AND endpoint_id = $2"
                    ))
                        .bind(brand.as_str())
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn webhooks(&self, brand: &BrandId) -> Result<Vec<WebhookEndpoint>> {
                let mut conn = self.read.acquire().await?;
                endpoint_rows(&mut conn, brand, "$2 = $2", "").await
            }

            async fn webhook(
                &self,
                brand: &BrandId,
                id: &WebhookId,
            ) -> Result<Option<WebhookEndpoint>> {
                let mut conn = self.read.acquire().await?;
                Ok(endpoint_rows(&mut conn, brand, "id = $2", id.as_str()).await?.pop())
            }

            async fn due_deliveries(
                &self,
                now: Timestamp,
                limit: i64,
                skip: &[DeliveryId],
            ) -> Result<Vec<DueDelivery>> {
                // In-flight deliveries are left out in memory: the list is short
                // and the query stays one plan on both backends.
                let rows = sqlx::query(
                    "SELECT d.id, d.brand_id, d.endpoint_id, d.event_id, d.attempts, w.url, \
                     w.secret, w.previous_secret, w.previous_expires_at, e.payload \
                     FROM webhook_deliveries d \
                     JOIN webhook_endpoints w ON w.id = d.endpoint_id \
                     JOIN events e ON e.id = d.event_id \
                     WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND w.enabled = 1 \
                     ORDER BY d.next_attempt_at, d.id LIMIT $2",
                )
                .bind(now.as_millisecond())
                .bind(limit + skip.len() as i64)
                .fetch_all(&self.read)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let id = DeliveryId::from(text(&r, "id")?);
                    if skip.contains(&id) {
                        continue;
                    }
                    let previous: Option<String> = r.try_get("previous_secret")?;
                    out.push(DueDelivery {
                        id,
                        brand_id: BrandId::from(text(&r, "brand_id")?),
                        endpoint_id: WebhookId::from(text(&r, "endpoint_id")?),
                        event_id: EventId::from(text(&r, "event_id")?),
                        url: text(&r, "url")?,
                        secret: text(&r, "secret")?,
                        previous_secret: previous.zip(opt_ts(r.try_get("previous_expires_at")?)?),
                        payload: text(&r, "payload")?,
                        attempts: int(&r, "attempts")?,
                    });
                    if out.len() as i64 >= limit {
                        break;
                    }
                }
                Ok(out)
            }

            async fn claim_deliveries(
                &self,
                ids: &[DeliveryId],
                now: Timestamp,
                until: Timestamp,
            ) -> Result<Vec<DeliveryId>> {
                let mut claimed = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(500) {
                    // The condition is checked again on the row as another
                    // server's claim left it: one claim wins.
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "UPDATE webhook_deliveries SET next_attempt_at = ",
                    );
                    qb.push_bind(until.as_millisecond());
                    qb.push(" WHERE state = 'pending' AND next_attempt_at <= ");
                    qb.push_bind(now.as_millisecond());
                    qb.push(" AND id IN (");
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(id.as_str().to_string());
                    }
                    qb.push(") RETURNING id");
                    let rows: Vec<String> =
                        qb.build_query_scalar().fetch_all(&self.write).await?;
                    claimed.extend(rows.into_iter().map(DeliveryId::from));
                }
                Ok(claimed)
            }

            async fn next_due(&self) -> Result<Option<Timestamp>> {
                let next: Option<i64> = sqlx::query_scalar(
                    "SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d \
                     JOIN webhook_endpoints w ON w.id = d.endpoint_id \
                     WHERE d.state = 'pending' AND w.enabled = 1",
                )
                .fetch_one(&self.read)
                .await?;
                opt_ts(next)
            }

            async fn record_attempts(&self, outcomes: &[AttemptOutcome]) -> Result<()> {
                use Arg::{I, OptI, OptS, S};
                if outcomes.is_empty() {
                    return Ok(());
                }
                let mut tx = self.write.begin().await?;
                let rows = outcomes
                    .iter()
                    .map(|o| {
                        let a = &o.attempt;
                        vec![
                            S(o.delivery.as_str()), I(a.attempt), S(o.brand_id.as_str()),
                            I(a.at.as_millisecond()), OptI(a.status), I(a.duration_ms),
                            S(&a.response), OptS(a.error.as_deref()),
                        ]
                    })
                    .collect();
                insert_rows(&mut tx, "webhook_attempts (delivery_id, attempt, brand_id, at, \
                    status, duration_ms, response, error)", rows,
                    " ON CONFLICT (delivery_id, attempt) DO NOTHING").await?;
                // Outcomes alike (most often: delivered at the first try with the
                // same status) are written by one statement each.
                let mut groups: Vec<(&AttemptOutcome, Vec<&str>)> = Vec::new();
                for o in outcomes {
                    let alike = |g: &AttemptOutcome| {
                        g.state == o.state
                            && g.attempt.attempt == o.attempt.attempt
                            && g.next_attempt_at == o.next_attempt_at
                            && g.attempt.status == o.attempt.status
                            && g.attempt.error == o.attempt.error
                    };
                    match groups.iter_mut().find(|(g, _)| alike(g)) {
                        Some((_, ids)) => ids.push(o.delivery.as_str()),
                        None => groups.push((o, vec![o.delivery.as_str()])),
                    }
                    if o.gone {
                        sqlx::query(
                            "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, \
                             updated_at = $2 WHERE id = $3",
                        )
                        .bind("the receiver answered 410 Gone")
                        .bind(o.attempt.at.as_millisecond())
                        .bind(o.endpoint_id.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                for (o, ids) in groups {
                    for chunk in ids.chunks(500) {
                        let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE webhook_deliveries SET state = ");
                        qb.push_bind(o.state.as_str())
                            .push(", attempts = ")
                            .push_bind(o.attempt.attempt)
                            .push(", next_attempt_at = ")
                            .push_bind(o.next_attempt_at.map(|t| t.as_millisecond()))
                            .push(", last_status = ")
                            .push_bind(o.attempt.status)
                            .push(", last_error = ")
                            .push_bind(o.attempt.error.clone())
                            .push(", updated_at = ")
                            .push_bind(o.attempt.at.as_millisecond())
                            .push(" WHERE id IN (");
                        let mut list = qb.separated(", ");
                        for id in chunk {
                            list.push_bind(id.to_string());
                        }
                        qb.push(")");
                        qb.build().execute(&mut *tx).await?;
                    }
                }
                // An endpoint that answered 2xx is back: its waiting retries go now
                // (once per endpoint and batch; only deliveries that failed before).
                let mut back: Vec<(&WebhookId, i64)> = Vec::new();
                for o in outcomes.iter().filter(|o| o.state == DeliveryState::Delivered) {
                    if !back.iter().any(|(e, _)| *e == &o.endpoint_id) {
                        back.push((&o.endpoint_id, o.attempt.at.as_millisecond()));
                    }
                }
                for (endpoint, at) in back {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET next_attempt_at = $1 \
                         WHERE endpoint_id = $2 AND state = 'pending' AND attempts > 0 \
                         AND next_attempt_at > $1",
                    )
                    .bind(at)
                    .bind(endpoint.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn deliveries(
                &self,
                brand: &BrandId,
                endpoint: &WebhookId,
                limit: i64,
            ) -> Result<Vec<Delivery>> {
                sqlx::query(
                    "SELECT * FROM webhook_deliveries WHERE brand_id = $1 AND endpoint_id = $2 \
                     ORDER BY created_at DESC, id DESC LIMIT $3",
                )
                .bind(brand.as_str())
                .bind(endpoint.as_str())
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(delivery_from)
                .collect()
            }

            async fn delivery_attempts(
                &self,
                brand: &BrandId,
                delivery: &DeliveryId,
            ) -> Result<Vec<DeliveryAttempt>> {
                sqlx::query(
                    "SELECT * FROM webhook_attempts WHERE brand_id = $1 AND delivery_id = $2 \
                     ORDER BY attempt",
                )
                .bind(brand.as_str())
                .bind(delivery.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(DeliveryAttempt {
                        attempt: int(r, "attempt")?,
                        at: ts(int(r, "at")?)?,
                        status: r.try_get("status")?,
                        duration_ms: int(r, "duration_ms")?,
                        response: text(r, "response")?,
                        error: r.try_get("error")?,
                    })
                })
                .collect()
            }

            async fn replay(
                &self,
                brand: &BrandId,
                endpoint: &WebhookId,
                delivery: Option<&DeliveryId>,
                now: Timestamp,
                entry: &AuditEntry,
            ) -> Result<u64> {
                let mut tx = self.write.begin().await?;
                let done = match delivery {
                    Some(d) => {
                        let done = sqlx::query(
                            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, \
                             updated_at = $1 WHERE brand_id = $2 AND endpoint_id = $3 AND id = $4",
                        )
                        .bind(now.as_millisecond())
                        .bind(brand.as_str())
                        .bind(endpoint.as_str())
                        .bind(d.as_str())
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() == 0 {
                            return Err(StoreError::NotFound);
                        }
                        done.rows_affected()
                    }
                    None => {
                        sqlx::query(
                            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, \
                             updated_at = $1 WHERE brand_id = $2 AND endpoint_id = $3 \
                             AND (state = 'failed' OR (state = 'pending' AND attempts > 0))",
                        )
                        .bind(now.as_millisecond())
                        .bind(brand.as_str())
                        .bind(endpoint.as_str())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                    }
                };
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn events(&self, brand: &BrandId, limit: i64) -> Result<Vec<PlatformEvent>> {
                sqlx::query(
                    "SELECT id, brand_id, type, payload, created_at FROM events \
                     WHERE brand_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                )
                .bind(brand.as_str())
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(PlatformEvent {
                        id: EventId::from(text(r, "id")?),
                        brand_id: BrandId::from(text(r, "brand_id")?),
                        kind: parsed(&text(r, "type")?)?,
                        at: ts(int(r, "created_at")?)?,
                        payload: text(r, "payload")?,
                    })
                })
                .collect()
            }
        }
    };
}

pub(crate) use impl_webhooks;
