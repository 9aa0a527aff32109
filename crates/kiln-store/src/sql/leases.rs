//! Brand leases between servers (see [`crate::lease`]): taking, renewing and
//! giving back, and the fence every plan-writing transaction passes first.

macro_rules! impl_leases {
    ($store:ty, $db:ty, $backend:literal) => {
        /// Refuses a transaction writing `brand`'s plan unless this process
        /// still holds the brand's lease at the epoch it took: the lease row
        /// is read `FOR SHARE`, so a take waits for this transaction to end.
        /// Without leases (one server) it checks nothing.
        async fn fence(
            tx: &mut Tx<'_>,
            leases: Option<&$crate::lease::Leases>,
            brand: &BrandId,
        ) -> Result<()> {
            let Some(leases) = leases else {
                return Ok(());
            };
            let epoch = leases.fence_epoch(brand)?;
            let row = sqlx::query(
                "SELECT epoch FROM brand_leases \
                 WHERE brand_id = $1 AND holder = $2 AND epoch = $3 FOR SHARE",
            )
            .bind(brand.as_str())
            .bind(&leases.holder().id)
            .bind(epoch)
            .fetch_optional(&mut **tx)
            .await?;
            if row.is_none() {
                leases.drop_brand(brand);
                return Err(StoreError::NotOwner);
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::LeaseStore for $store {
            fn leases(&self) -> Option<&$crate::lease::Leases> {
                self.leases.as_deref()
            }

            async fn take_lease(&self, brand: &BrandId) -> Result<$crate::Lease> {
                let Some(leases) = self.leases.as_deref() else {
                    return Ok($crate::Lease::Held { epoch: 0, fresh: false });
                };
                let _one_at_a_time = leases.taking.lock().await;
                let since = std::time::Instant::now();
                let now = $crate::lease::now_ms_sql($backend);
                let me = leases.holder();
                let known = leases.epoch(brand).unwrap_or(-1);
                // Renew at the same epoch if it is still ours as we knew it;
                // otherwise take it (ours at an epoch we forgot, or expired),
                // moving the epoch on.
                let taken: Option<i64> = sqlx::query_scalar(&format!(
                    "UPDATE brand_leases SET \
                     epoch = CASE WHEN holder = $2 AND epoch = $4 THEN epoch ELSE epoch + 1 END, \
                     holder = $2, address = $3, expires_at = {now} + $5 \
                     WHERE brand_id = $1 AND (holder = $2 OR expires_at < {now}) \
                     RETURNING epoch"
                ))
                .bind(brand.as_str())
                .bind(&me.id)
                .bind(&me.address)
                .bind(known)
                .bind(leases.ttl_ms())
                .fetch_optional(&self.write)
                .await?;
                let taken = match taken {
                    Some(epoch) => Some(epoch),
                    None => sqlx::query_scalar(&format!(
                        "INSERT INTO brand_leases (brand_id, holder, address, epoch, expires_at) \
                         VALUES ($1, $2, $3, 1, {now} + $4) \
                         ON CONFLICT (brand_id) DO NOTHING RETURNING epoch"
                    ))
                    .bind(brand.as_str())
                    .bind(&me.id)
                    .bind(&me.address)
                    .bind(leases.ttl_ms())
                    .fetch_optional(&self.write)
                    .await?,
                };
                if let Some(epoch) = taken {
                    leases.hold(brand, epoch, since);
                    return Ok($crate::Lease::Held {
                        epoch,
                        fresh: epoch != known,
                    });
                }
                leases.drop_brand(brand);
                let row = sqlx::query(&format!(
                    "SELECT holder, address, expires_at - {now} AS left_ms \
                     FROM brand_leases WHERE brand_id = $1"
                ))
                .bind(brand.as_str())
                .fetch_optional(&self.read)
                .await?;
                match row {
                    Some(r) => Ok($crate::Lease::Elsewhere {
                        holder: text(&r, "holder")?,
                        address: text(&r, "address")?,
                        expires_in: std::time::Duration::from_millis(
                            u64::try_from(int(&r, "left_ms")?).unwrap_or(0),
                        ),
                    }),
                    // Given back between the statements: ask again.
                    None => Err(StoreError::Conflict(
                        "the brand's lease changed hands; retry".into(),
                    )),
                }
            }

            async fn renew_leases(&self) -> Result<Vec<BrandId>> {
                let Some(leases) = self.leases.as_deref() else {
                    return Ok(Vec::new());
                };
                let now = $crate::lease::now_ms_sql($backend);
                let mut lost = Vec::new();
                for (brand, epoch) in leases.all() {
                    let since = std::time::Instant::now();
                    let done = sqlx::query(&format!(
                        "UPDATE brand_leases SET expires_at = {now} + $1 \
                         WHERE brand_id = $2 AND holder = $3 AND epoch = $4"
                    ))
                    .bind(leases.ttl_ms())
                    .bind(brand.as_str())
                    .bind(&leases.holder().id)
                    .bind(epoch)
                    .execute(&self.write)
                    .await?;
                    if done.rows_affected() == 1 {
                        leases.hold(&brand, epoch, since);
                    } else {
                        leases.drop_brand(&brand);
                        lost.push(brand);
                    }
                }
                Ok(lost)
            }

            async fn release_leases(&self) -> Result<()> {
                let Some(leases) = self.leases.as_deref() else {
                    return Ok(());
                };
                let now = $crate::lease::now_ms_sql($backend);
                leases.clear();
                sqlx::query(&format!(
                    "UPDATE brand_leases SET expires_at = {now} - 1 WHERE holder = $1"
                ))
                .bind(&leases.holder().id)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn claim_brand_job(
                &self,
                brand: &BrandId,
                job: &str,
                every: std::time::Duration,
                now: Timestamp,
            ) -> Result<Option<$crate::JobClaim>> {
                let b = brand.as_str();
                sqlx::query(
                    "INSERT INTO brand_jobs (brand_id, job, last_run_at) VALUES ($1, $2, 0) \
                     ON CONFLICT (brand_id, job) DO NOTHING",
                )
                .bind(b)
                .bind(job)
                .execute(&self.write)
                .await?;
                let last: i64 = sqlx::query_scalar(
                    "SELECT last_run_at FROM brand_jobs WHERE brand_id = $1 AND job = $2",
                )
                .bind(b)
                .bind(job)
                .fetch_one(&self.write)
                .await?;
                let now_ms = now.as_millisecond();
                let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
                // Within a period of `now`, either side, is taken: a run
                // just after `now` is another server's claim made while this
                // one's `now` was read. A last run more than a period ahead
                // was stamped by a clock ahead of this one: due, or the job
                // would wait for that clock.
                if last != 0 && now_ms.abs_diff(last) < every_ms.unsigned_abs() {
                    return Ok(None);
                }
                let claimed = sqlx::query(
                    "UPDATE brand_jobs SET last_run_at = $3 \
                     WHERE brand_id = $1 AND job = $2 AND last_run_at = $4",
                )
                .bind(b)
                .bind(job)
                .bind(now_ms)
                .bind(last)
                .execute(&self.write)
                .await?
                .rows_affected();
                if claimed != 1 {
                    return Ok(None);
                }
                let previous = match last {
                    0 => None,
                    ms => Some($crate::sql::ts(ms)?),
                };
                Ok(Some($crate::JobClaim { previous }))
            }

            async fn return_brand_job(
                &self,
                brand: &BrandId,
                job: &str,
                claimed: Timestamp,
                previous: Option<Timestamp>,
            ) -> Result<()> {
                sqlx::query(
                    "UPDATE brand_jobs SET last_run_at = $3 \
                     WHERE brand_id = $1 AND job = $2 AND last_run_at = $4",
                )
                .bind(brand.as_str())
                .bind(job)
                .bind(previous.map_or(0, |t| t.as_millisecond()))
                .bind(claimed.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn lock_brand(
                &self,
                brand: &BrandId,
                work: $crate::BrandWork,
            ) -> Result<$crate::BrandLock> {
                match self.leases.as_deref() {
                    None => Ok($crate::BrandLock::none()),
                    Some(_) => lock_brand_on(self, brand, work).await,
                }
            }
        }
    };
}

pub(crate) use impl_leases;
