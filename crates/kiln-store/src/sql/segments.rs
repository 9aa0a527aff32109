//! Segments of profiles: their rules, and who is in each now. A change of
//! membership and the events that report it are written together.

macro_rules! impl_segments {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::SegmentStore for $store {
            async fn add_segment(&self, brand: &BrandId, segment: &Segment) -> Result<()> {
                sqlx::query(
                    "INSERT INTO segments (brand_id, id, name, rules, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(brand.as_str())
                .bind(segment.id.as_str())
                .bind(&segment.name)
                .bind($crate::sql::to_json(&segment.rules))
                .bind(segment.created_at.as_millisecond())
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
                entered: &[(SegmentId, ProfileId)],
                left: &[(SegmentId, ProfileId)],
                events: &[PlatformEvent],
                at: Timestamp,
            ) -> Result<()> {
                let b = brand.as_str();
                let mut tx = self.write.begin().await?;
                insert_rows(
                    &mut tx,
                    "segment_members (brand_id, segment_id, profile_id, since)",
                    entered
                        .iter()
                        .map(|(s, p)| {
                            vec![Arg::S(b), Arg::S(s.as_str()), Arg::S(p.as_str()), Arg::I(at.as_millisecond())]
                        })
                        .collect(),
                    " ON CONFLICT (brand_id, segment_id, profile_id) DO NOTHING",
                )
                .await?;
                for (s, p) in left {
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
                outbox(&mut tx, events).await?;
                tx.commit().await?;
                Ok(())
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
    };
}

pub(crate) use impl_segments;
