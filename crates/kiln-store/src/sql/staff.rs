//! Staff accounts and their sessions.

macro_rules! impl_staff {
    ($store:ty, $db:ty) => {
        const STAFF_COLUMNS: &str =
            "brand_id, id, email, name, role, stores, password_hash, created_at, removed_at";

        fn staff_from(r: &<$db as sqlx::Database>::Row) -> Result<StaffMember> {
            Ok(StaffMember {
                brand_id: BrandId::from(text(r, "brand_id")?),
                id: StaffId::from(text(r, "id")?),
                email: text(r, "email")?,
                name: text(r, "name")?,
                role: parsed(&text(r, "role")?)?,
                stores: json(&text(r, "stores")?)?,
                password_hash: r.try_get("password_hash")?,
                created_at: ts(int(r, "created_at")?)?,
                removed_at: opt_ts(r.try_get("removed_at")?)?,
            })
        }

        impl $store {
            async fn staff_where(&self, clause: &str, binds: &[&str]) -> Result<Vec<StaffMember>> {
                let sql =
                    format!("SELECT {STAFF_COLUMNS} FROM staff WHERE {clause} ORDER BY email");
                let mut q = sqlx::query(&sql);
                for b in binds {
                    q = q.bind(*b);
                }
                q.fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(staff_from)
                    .collect()
            }
        }

        #[async_trait::async_trait]
        impl $crate::StaffStore for $store {
            async fn add_staff(&self, m: &StaffMember, entry: &AuditEntry) -> Result<()> {
                let mut tx = self.write.begin().await?;
                let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE email = $1")
                    .bind(&m.email)
                    .fetch_one(&mut *tx)
                    .await?;
                if taken > 0 {
                    return Err(StoreError::Conflict(format!(
                        "{} has a staff account already",
                        m.email
                    )));
                }
                sqlx::query(
                    "INSERT INTO staff (brand_id, id, email, name, role, stores, password_hash, \
                     created_at, removed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
                )
                .bind(m.brand_id.as_str())
                .bind(m.id.as_str())
                .bind(&m.email)
                .bind(&m.name)
                .bind(m.role.as_str())
                .bind($crate::sql::to_json(&m.stores))
                .bind(m.password_hash.clone())
                .bind(m.created_at.as_millisecond())
                .execute(&mut *tx)
                .await?;
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn staff_by_email(&self, email: &str) -> Result<Option<StaffMember>> {
                Ok(self
                    .staff_where("email = $1", &[email])
                    .await?
                    .into_iter()
                    .next())
            }

            async fn staff_member(
                &self,
                brand: &BrandId,
                id: &StaffId,
            ) -> Result<Option<StaffMember>> {
                Ok(self
                    .staff_where("brand_id = $1 AND id = $2", &[brand.as_str(), id.as_str()])
                    .await?
                    .into_iter()
                    .next())
            }

            async fn staff(&self, brand: &BrandId) -> Result<Vec<StaffMember>> {
                self.staff_where("brand_id = $1", &[brand.as_str()]).await
            }

            async fn set_password(&self, brand: &BrandId, id: &StaffId, hash: &str) -> Result<()> {
                sqlx::query("UPDATE staff SET password_hash = $1 WHERE brand_id = $2 AND id = $3")
                    .bind(hash)
                    .bind(brand.as_str())
                    .bind(id.as_str())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn remove_staff(
                &self,
                brand: &BrandId,
                id: &StaffId,
                at: Timestamp,
                entry: &AuditEntry,
            ) -> Result<bool> {
                let mut tx = self.write.begin().await?;
                let gone = sqlx::query(
                    "UPDATE staff SET removed_at = $1 \
                     WHERE brand_id = $2 AND id = $3 AND removed_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(brand.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if gone == 0 {
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE staff_sessions SET revoked_at = $1 \
                     WHERE brand_id = $2 AND staff_id = $3 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(brand.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn add_session(&self, s: &StaffSession) -> Result<()> {
                sqlx::query(
                    "INSERT INTO staff_sessions (token_hash, brand_id, staff_id, created_at, \
                     last_seen_at, revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)",
                )
                .bind(&s.token_hash)
                .bind(s.brand_id.as_str())
                .bind(s.staff_id.as_str())
                .bind(s.created_at.as_millisecond())
                .bind(s.last_seen_at.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn session(
                &self,
                token_hash: &str,
            ) -> Result<Option<(StaffSession, StaffMember)>> {
                let Some(r) = sqlx::query(
                    "SELECT token_hash, brand_id, staff_id, created_at, last_seen_at, revoked_at \
                     FROM staff_sessions WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?
                else {
                    return Ok(None);
                };
                let session = StaffSession {
                    token_hash: text(&r, "token_hash")?,
                    brand_id: BrandId::from(text(&r, "brand_id")?),
                    staff_id: StaffId::from(text(&r, "staff_id")?),
                    created_at: ts(int(&r, "created_at")?)?,
                    last_seen_at: ts(int(&r, "last_seen_at")?)?,
                    revoked_at: opt_ts(r.try_get("revoked_at")?)?,
                };
                let member = self
                    .staff_member(&session.brand_id, &session.staff_id)
                    .await?;
                Ok(member.map(|m| (session, m)))
            }

            async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<()> {
                sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(at.as_millisecond())
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn revoke_session(&self, token_hash: &str, at: Timestamp) -> Result<()> {
                sqlx::query(
                    "UPDATE staff_sessions SET revoked_at = $1 \
                     WHERE token_hash = $2 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(token_hash)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn revoke_sessions(
                &self,
                brand: &BrandId,
                id: &StaffId,
                at: Timestamp,
            ) -> Result<u64> {
                Ok(sqlx::query(
                    "UPDATE staff_sessions SET revoked_at = $1 \
                     WHERE brand_id = $2 AND staff_id = $3 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(brand.as_str())
                .bind(id.as_str())
                .execute(&self.write)
                .await?
                .rows_affected())
            }

            async fn sign_in_failures(&self, key: &str, since: Timestamp) -> Result<u64> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sign_in_failures WHERE key = $1 AND at >= $2",
                )
                .bind(key)
                .bind(since.as_millisecond())
                .fetch_one(&self.read)
                .await?;
                Ok(n.max(0) as u64)
            }

            async fn record_sign_in_failure(
                &self,
                keys: &[&str],
                at: Timestamp,
                forget_before: Timestamp,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                // Each row is deleted once, so forgetting costs what was
                // recorded, however many addresses a spray of guesses used.
                sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
                    .bind(forget_before.as_millisecond())
                    .execute(&mut *tx)
                    .await?;
                for key in keys {
                    sqlx::query("INSERT INTO sign_in_failures (key, at) VALUES ($1, $2)")
                        .bind(*key)
                        .bind(at.as_millisecond())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
                sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
                    .bind(key)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn add_staff_token(&self, t: &StaffToken) -> Result<()> {
                sqlx::query(
                    "INSERT INTO staff_tokens (token_hash, brand_id, staff_id, purpose, \
                     expires_at, used_at) VALUES ($1, $2, $3, $4, $5, NULL)",
                )
                .bind(&t.token_hash)
                .bind(t.brand_id.as_str())
                .bind(t.staff_id.as_str())
                .bind(t.purpose.as_str())
                .bind(t.expires_at.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn staff_token(&self, token_hash: &str) -> Result<Option<StaffToken>> {
                sqlx::query(
                    "SELECT token_hash, brand_id, staff_id, purpose, expires_at, used_at \
                     FROM staff_tokens WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?
                .map(|r| {
                    Ok(StaffToken {
                        token_hash: text(&r, "token_hash")?,
                        brand_id: BrandId::from(text(&r, "brand_id")?),
                        staff_id: StaffId::from(text(&r, "staff_id")?),
                        purpose: parsed(&text(&r, "purpose")?)?,
                        expires_at: ts(int(&r, "expires_at")?)?,
                        used_at: opt_ts(r.try_get("used_at")?)?,
                    })
                })
                .transpose()
            }

            async fn use_staff_token(
                &self,
                token_hash: &str,
                at: Timestamp,
                password_hash: &str,
            ) -> Result<bool> {
                let mut tx = self.write.begin().await?;
                let Some(r) = sqlx::query(
                    "SELECT brand_id, staff_id FROM staff_tokens WHERE token_hash = $1 \
                     AND used_at IS NULL AND expires_at > $2",
                )
                .bind(token_hash)
                .bind(at.as_millisecond())
                .fetch_optional(&mut *tx)
                .await?
                else {
                    return Ok(false);
                };
                let (brand, staff) = (text(&r, "brand_id")?, text(&r, "staff_id")?);
                let used = sqlx::query(
                    "UPDATE staff_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(token_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if used != 1 {
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE staff SET password_hash = $1 \
                     WHERE brand_id = $2 AND id = $3 AND removed_at IS NULL",
                )
                .bind(password_hash)
                .bind(&brand)
                .bind(&staff)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE staff_sessions SET revoked_at = $1 \
                     WHERE brand_id = $2 AND staff_id = $3 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(&brand)
                .bind(&staff)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

pub(crate) use impl_staff;
