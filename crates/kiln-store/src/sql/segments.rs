//! Segments of profiles: their rules, and who is in each now. A change of
//! membership and the events that report it are written together.

macro_rules! impl_segments {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::SegmentStore for $store {
            async fn add_segment(&self, brand: &BrandId, segment: &Segment) -> Result<()> {
                sqlx::query(
                    "INSERT INTO segments (brand_id, id, name, rules, created_at, mail) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(brand.as_str())
                .bind(segment.id.as_str())
                .bind(&segment.name)
                .bind($crate::sql::to_json(&segment.rules))
                .bind(segment.created_at.as_millisecond())
                .bind(segment.mail.as_ref().map($crate::sql::to_json))
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn segments(&self, brand: &BrandId) -> Result<Vec<Segment>> {
                sqlx::query("SELECT * FROM segments WHERE brand_id = $1 ORDER BY created_at, id")
                    .bind(brand.as_str())
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(Segment {
                            id: SegmentId::from(text(r, "id")?),
                            name: text(r, "name")?,
                            rules: json(&text(r, "rules")?)?,
                            mail: r
                                .try_get::<Option<String>, _>("mail")?
                                .as_deref()
                                .map(json)
                                .transpose()?,
                            created_at: ts(int(r, "created_at")?)?,
                        })
                    })
                    .collect()
            }

            async fn segment_counts(&self, brand: &BrandId) -> Result<Vec<(SegmentId, i64)>> {
                sqlx::query(
                    "SELECT segment_id, COUNT(*) AS n FROM segment_members \
                     WHERE brand_id = $1 GROUP BY segment_id",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((SegmentId::from(text(r, "segment_id")?), int(r, "n")?)))
                .collect()
            }

            async fn memberships(
                &self,
                brand: &BrandId,
                profiles: &[ProfileId],
            ) -> Result<Vec<(SegmentId, ProfileId)>> {
                let keys: Vec<&str> = profiles.iter().map(ProfileId::as_str).collect();
                texts_in(
                    &self.read,
                    "SELECT segment_id, profile_id FROM segment_members",
                    brand,
                    "profile_id",
                    &keys,
                )
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        SegmentId::from(text(r, "segment_id")?),
                        ProfileId::from(text(r, "profile_id")?),
                    ))
                })
                .collect()
            }

            async fn segment_members(
                &self,
                brand: &BrandId,
                segment: &SegmentId,
            ) -> Result<Vec<ProfileId>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT profile_id FROM segment_members WHERE brand_id = $1 AND segment_id = $2",
                )
                .bind(brand.as_str())
                .bind(segment.as_str())
                .fetch_all(&self.read)
                .await?;
                Ok(ids.into_iter().map(ProfileId::from).collect())
            }

            async fn change_memberships(
                &self,
                brand: &BrandId,
                c: &$crate::MembershipChanges,
            ) -> Result<()> {
                let b = brand.as_str();
                let at = c.at.map_or(0, |t| t.as_millisecond());
                let mut tx = self.write.begin().await?;
                insert_rows(
                    &mut tx,
                    "segment_members (brand_id, segment_id, profile_id, since)",
                    c.entered
                        .iter()
                        .map(|(s, p)| {
                            vec![Arg::S(b), Arg::S(s.as_str()), Arg::S(p.as_str()), Arg::I(at)]
                        })
                        .collect(),
                    " ON CONFLICT (brand_id, segment_id, profile_id) DO NOTHING",
                )
                .await?;
                for (s, p) in &c.left {
                    sqlx::query(
                        "DELETE FROM segment_members \
                         WHERE brand_id = $1 AND segment_id = $2 AND profile_id = $3",
                    )
                    .bind(b)
                    .bind(s.as_str())
                    .bind(p.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                // The day's comings and goings per segment, for the trend.
                let day = c.at.map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default();
                let mut counts: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
                for (s, _) in &c.entered {
                    counts.entry(s.as_str()).or_default().0 += 1;
                }
                for (s, _) in &c.left {
                    counts.entry(s.as_str()).or_default().1 += 1;
                }
                for (segment, (entered, left)) in counts {
                    sqlx::query(
                        "INSERT INTO segment_days (brand_id, segment_id, day, entered, left_count) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (brand_id, segment_id, day) \
                         DO UPDATE SET entered = segment_days.entered + excluded.entered, \
                         left_count = segment_days.left_count + excluded.left_count",
                    )
                    .bind(b)
                    .bind(segment)
                    .bind(&day)
                    .bind(entered)
                    .bind(left)
                    .execute(&mut *tx)
                    .await?;
                }
                insert_rows(
                    &mut tx,
                    "mail_outbox (brand_id, id, to_address, subject, body, created_at, next_at)",
                    c.mails
                        .iter()
                        .map(|m| {
                            vec![
                                Arg::S(b),
                                Arg::S(&m.id),
                                Arg::S(&m.to),
                                Arg::S(&m.subject),
                                Arg::S(&m.body),
                                Arg::I(m.created_at.as_millisecond()),
                                Arg::I(m.created_at.as_millisecond()),
                            ]
                        })
                        .collect(),
                    " ON CONFLICT (brand_id, id) DO NOTHING",
                )
                .await?;
                outbox(&mut tx, &c.events).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn segment_days(
                &self,
                brand: &BrandId,
                since: Date,
            ) -> Result<Vec<(SegmentId, Date, i64, i64)>> {
                sqlx::query(
                    "SELECT segment_id, day, entered, left_count FROM segment_days \
                     WHERE brand_id = $1 AND day >= $2 ORDER BY segment_id, day",
                )
                .bind(brand.as_str())
                .bind(since.to_string())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        SegmentId::from(text(r, "segment_id")?),
                        day(&text(r, "day")?)?,
                        int(r, "entered")?,
                        int(r, "left_count")?,
                    ))
                })
                .collect()
            }

            async fn profiles_with_events_between(
                &self,
                brand: &BrandId,
                names: &[String],
                from: Timestamp,
                to: Timestamp,
            ) -> Result<Vec<ProfileId>> {
                let mut ids = Vec::new();
                for name in names {
                    let found: Vec<String> = sqlx::query_scalar(
                        "SELECT DISTINCT profile_id FROM tracked_events \
                         WHERE brand_id = $1 AND name = $2 AND at >= $3 AND at < $4",
                    )
                    .bind(brand.as_str())
                    .bind(name)
                    .bind(from.as_millisecond())
                    .bind(to.as_millisecond())
                    .fetch_all(&self.read)
                    .await?;
                    ids.extend(found);
                }
                ids.sort();
                ids.dedup();
                Ok(ids.into_iter().map(ProfileId::from).collect())
            }

            async fn profiles_with_events(
                &self,
                brand: &BrandId,
                names: &[String],
            ) -> Result<Vec<ProfileId>> {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let mut ids: Vec<String> = texts_in(
                    &self.read,
                    "SELECT DISTINCT profile_id FROM tracked_events",
                    brand,
                    "name",
                    &names,
                )
                .await?
                .iter()
                .map(|r| text(r, "profile_id"))
                .collect::<Result<_>>()?;
                ids.sort();
                ids.dedup();
                Ok(ids.into_iter().map(ProfileId::from).collect())
            }
        }

        #[async_trait::async_trait]
        impl $crate::MailStore for $store {
            async fn due_mail(&self, now: Timestamp, limit: i64) -> Result<Vec<OutgoingMail>> {
                sqlx::query(
                    "SELECT brand_id, id, to_address, subject, body, created_at, attempts \
                     FROM mail_outbox WHERE sent_at IS NULL AND next_at <= $1 \
                     ORDER BY next_at, created_at LIMIT $2",
                )
                .bind(now.as_millisecond())
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(OutgoingMail {
                        brand_id: BrandId::from(text(r, "brand_id")?),
                        id: text(r, "id")?,
                        to: text(r, "to_address")?,
                        subject: text(r, "subject")?,
                        body: text(r, "body")?,
                        created_at: ts(int(r, "created_at")?)?,
                        attempts: int(r, "attempts")?,
                    })
                })
                .collect()
            }

            async fn claim_mail(
                &self,
                brand: &BrandId,
                id: &str,
                now: Timestamp,
                until: Timestamp,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE mail_outbox SET next_at = $3 \
                     WHERE brand_id = $1 AND id = $2 AND sent_at IS NULL AND next_at <= $4",
                )
                .bind(brand.as_str())
                .bind(id)
                .bind(until.as_millisecond())
                .bind(now.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn mail_sent(&self, brand: &BrandId, id: &str, at: Timestamp) -> Result<()> {
                sqlx::query(
                    "UPDATE mail_outbox SET sent_at = $3, attempts = attempts + 1, last_error = NULL \
                     WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand.as_str())
                .bind(id)
                .bind(at.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn mail_failed(
                &self,
                brand: &BrandId,
                id: &str,
                error: &str,
                next_at: Option<Timestamp>,
            ) -> Result<()> {
                // Given up: `next_at` far in the future keeps it out of `due_mail`.
                sqlx::query(
                    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $3, next_at = $4 \
                     WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand.as_str())
                .bind(id)
                .bind(error)
                .bind(next_at.map_or(i64::MAX, |t| t.as_millisecond()))
                .execute(&self.write)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_segments;
