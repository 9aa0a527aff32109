//! The factory floor's events (the inbox every server writes and the brand's
//! holder applies), each machine's state, and machines' own downtimes.

macro_rules! impl_floor {
    ($store:ty, $db:ty) => {
        fn machine_number(row: &DbRow) -> Result<u16> {
            let m = int(row, "machine")?;
            u16::try_from(m).map_err(|_| StoreError::Corrupt(ParseError::new("machine", m.to_string())))
        }

        #[async_trait::async_trait]
        impl $crate::FloorStore for $store {
            async fn receive_machine_events(
                &self,
                brand: &BrandId,
                events: &[MachineEvent],
                received_at: Timestamp,
            ) -> Result<u64> {
                use Arg::{I, O, S};
                let b = brand.as_str();
                let mut rows = Vec::with_capacity(events.len());
                for e in events {
                    let body = $crate::sql::to_json(e);
                    rows.push(vec![
                        S(b), S(&e.work_center), I(i64::from(e.machine)), I(e.seq),
                        S(e.what.kind()), O(body), I(e.at.as_millisecond()),
                        I(received_at.as_millisecond()),
                    ]);
                }
                let mut tx = self.write.begin().await?;
                let new = insert_rows(
                    &mut tx,
                    "machine_events (brand_id, work_center, machine, seq, kind, body, at, received_at)",
                    rows,
                    " ON CONFLICT (brand_id, work_center, machine, seq) DO NOTHING",
                )
                .await?;
                tx.commit().await?;
                Ok(new)
            }

            async fn pending_machine_events(
                &self,
                brand: &BrandId,
                limit: i64,
            ) -> Result<Vec<MachineEvent>> {
                sqlx::query(
                    "SELECT body FROM machine_events WHERE brand_id = $1 AND applied_at IS NULL \
                     ORDER BY at, work_center, machine, seq LIMIT $2",
                )
                .bind(brand.as_str())
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|row| json(&text(row, "body")?))
                .collect()
            }

            async fn machine_states(&self, brand: &BrandId) -> Result<Vec<MachineState>> {
                sqlx::query(
                    "SELECT work_center, machine, last_seq, down_id FROM machine_states \
                     WHERE brand_id = $1 ORDER BY work_center, machine",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|row| {
                    Ok(MachineState {
                        work_center: text(row, "work_center")?,
                        machine: machine_number(row)?,
                        last_seq: int(row, "last_seq")?,
                        down: row
                            .try_get::<Option<String>, _>("down_id")?
                            .map(DowntimeId::from),
                    })
                })
                .collect()
            }

            async fn machine_downtimes(
                &self,
                brand: &BrandId,
                after: Timestamp,
            ) -> Result<Vec<MachineDowntime>> {
                sqlx::query(
                    "SELECT id, work_center, machine, from_at, to_at, reason FROM machine_downtimes \
                     WHERE brand_id = $1 AND to_at > $2 ORDER BY work_center, machine, from_at",
                )
                .bind(brand.as_str())
                .bind(after.as_millisecond())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|row| {
                    Ok(MachineDowntime {
                        id: DowntimeId::from(text(row, "id")?),
                        work_center: text(row, "work_center")?,
                        machine: machine_number(row)?,
                        from: ts(int(row, "from_at")?)?,
                        to: ts(int(row, "to_at")?)?,
                        reason: text(row, "reason")?,
                    })
                })
                .collect()
            }

            async fn record_floor(
                &self,
                brand: &BrandId,
                applied: &[EventOutcome],
                states: &[MachineState],
                downtime: Option<&MachineDowntime>,
                repromises: &[Repromise],
                at: Timestamp,
            ) -> Result<()> {
                let b = brand.as_str();
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                for e in applied {
                    sqlx::query(
                        "UPDATE machine_events SET applied_at = $1, outcome = $2 \
                         WHERE brand_id = $3 AND work_center = $4 AND machine = $5 AND seq = $6",
                    )
                    .bind(at.as_millisecond())
                    .bind(&e.outcome)
                    .bind(b)
                    .bind(&e.work_center)
                    .bind(i64::from(e.machine))
                    .bind(e.seq)
                    .execute(&mut *tx)
                    .await?;
                }
                for s in states {
                    sqlx::query(
                        "INSERT INTO machine_states (brand_id, work_center, machine, last_seq, down_id) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (brand_id, work_center, machine) \
                         DO UPDATE SET last_seq = excluded.last_seq, down_id = excluded.down_id",
                    )
                    .bind(b)
                    .bind(&s.work_center)
                    .bind(i64::from(s.machine))
                    .bind(s.last_seq)
                    .bind(s.down.as_ref().map(|d| d.as_str()))
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(d) = downtime {
                    sqlx::query(
                        "INSERT INTO machine_downtimes (brand_id, id, work_center, machine, from_at, \
                         to_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (brand_id, id) DO UPDATE SET to_at = excluded.to_at",
                    )
                    .bind(b)
                    .bind(d.id.as_str())
                    .bind(&d.work_center)
                    .bind(i64::from(d.machine))
                    .bind(d.from.as_millisecond())
                    .bind(d.to.as_millisecond())
                    .bind(&d.reason)
                    .execute(&mut *tx)
                    .await?;
                }
                write_replan(&mut tx, brand, repromises).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_floor;
