//! Write keys, tracked events, identities, profiles, merges and erasure.
//! Lookups by many values at once go through `texts_in` and `exec_in`
//! (`sql/mod.rs`).

macro_rules! impl_profiles {
    ($store:ty, $db:ty) => {
        use $crate::{Erased, Erasure, ProfileChanges, ProfileState, Unmerge};

        fn write_key_from(r: &DbRow) -> Result<WriteKey> {
            Ok(WriteKey {
                id: WriteKeyId::from(text(r, "id")?),
                name: text(r, "name")?,
                prefix: text(r, "prefix")?,
                created_at: ts(int(r, "created_at")?)?,
                revoked_at: opt_ts(r.try_get("revoked_at")?)?,
            })
        }

        fn traits_of(text: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
            json(text)
        }

        fn erased_address(a: &Address) -> Address {
            Address {
                name: "(erased)".into(),
                line1: "(erased)".into(),
                line2: None,
                city: a.city.clone(),
                postal_code: String::new(),
                region: a.region.clone(),
                country: a.country.clone(),
            }
        }

        #[async_trait::async_trait]
        impl $crate::ProfileStore for $store {
            async fn add_write_key(
                &self,
                brand: &BrandId,
                key: &WriteKey,
                hash: &str,
                audit_entry: &AuditEntry,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                sqlx::query(
                    "INSERT INTO write_keys (brand_id, id, name, key_hash, prefix, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(brand.as_str())
                .bind(key.id.as_str())
                .bind(&key.name)
                .bind(hash)
                .bind(&key.prefix)
                .bind(key.created_at.as_millisecond())
                .execute(&mut *tx)
                .await?;
                audit(&mut tx, audit_entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn write_keys(&self, brand: &BrandId) -> Result<Vec<WriteKey>> {
                sqlx::query("SELECT * FROM write_keys WHERE brand_id = $1 ORDER BY created_at, id")
                    .bind(brand.as_str())
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(write_key_from)
                    .collect()
            }

            async fn write_key_by_hash(&self, hash: &str) -> Result<Option<(WriteKey, BrandId)>> {
                let row = sqlx::query(
                    "SELECT * FROM write_keys WHERE key_hash = $1 AND revoked_at IS NULL",
                )
                .bind(hash)
                .fetch_optional(&self.read)
                .await?;
                row.map(|r| Ok((write_key_from(&r)?, BrandId::from(text(&r, "brand_id")?))))
                    .transpose()
            }

            async fn revoke_write_key(
                &self,
                brand: &BrandId,
                id: &WriteKeyId,
                at: Timestamp,
                audit_entry: &AuditEntry,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                let done = sqlx::query(
                    "UPDATE write_keys SET revoked_at = $3 \
                     WHERE brand_id = $1 AND id = $2 AND revoked_at IS NULL",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .bind(at.as_millisecond())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                audit(&mut tx, audit_entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn resolution_rules(&self, brand: &BrandId) -> Result<Option<ResolutionRules>> {
                let row: Option<String> =
                    sqlx::query_scalar("SELECT rules FROM resolution_rules WHERE brand_id = $1")
                        .bind(brand.as_str())
                        .fetch_optional(&self.read)
                        .await?;
                row.map(|r| json(&r)).transpose()
            }

            async fn set_resolution_rules(
                &self,
                brand: &BrandId,
                rules: &ResolutionRules,
                audit_entry: &AuditEntry,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                sqlx::query(
                    "INSERT INTO resolution_rules (brand_id, rules) VALUES ($1, $2) \
                     ON CONFLICT (brand_id) DO UPDATE SET rules = excluded.rules",
                )
                .bind(brand.as_str())
                .bind($crate::sql::to_json(rules))
                .execute(&mut *tx)
                .await?;
                audit(&mut tx, audit_entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn seen_messages(&self, brand: &BrandId, ids: &[String]) -> Result<Vec<String>> {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                texts_in(&self.read, "SELECT message_id FROM tracked_events", brand, "message_id", &ids)
                    .await?
                    .iter()
                    .map(|r| text(r, "message_id"))
                    .collect()
            }

            async fn suppressed(&self, brand: &BrandId, hashes: &[String]) -> Result<Vec<String>> {
                // Most brands have erased no one: one lookup says so.
                let any: Option<String> =
                    sqlx::query_scalar("SELECT hash FROM suppressions WHERE brand_id = $1 LIMIT 1")
                        .bind(brand.as_str())
                        .fetch_optional(&self.read)
                        .await?;
                if any.is_none() {
                    return Ok(Vec::new());
                }
                let hashes: Vec<&str> = hashes.iter().map(String::as_str).collect();
                texts_in(&self.read, "SELECT hash FROM suppressions", brand, "hash", &hashes)
                    .await?
                    .iter()
                    .map(|r| text(r, "hash"))
                    .collect()
            }

            async fn identity_owners(
                &self,
                brand: &BrandId,
                identities: &[Identity],
            ) -> Result<Vec<(Identity, ProfileId)>> {
                let mut out = Vec::new();
                for kind in IdentityKind::ALL {
                    let values: Vec<&str> = identities
                        .iter()
                        .filter(|i| i.kind == *kind)
                        .map(|i| i.value.as_str())
                        .collect();
                    if values.is_empty() {
                        continue;
                    }
                    for chunk in values.chunks(IN_CHUNK) {
                        let mut qb = sqlx::QueryBuilder::<$db>::new(
                            "SELECT value, profile_id FROM profile_identities WHERE brand_id = ",
                        );
                        qb.push_bind(brand.as_str().to_string());
                        qb.push(" AND kind = ");
                        qb.push_bind(kind.as_str());
                        qb.push(" AND value IN (");
                        let mut list = qb.separated(", ");
                        for v in chunk {
                            list.push_bind(v.to_string());
                        }
                        qb.push(")");
                        for r in qb.build().fetch_all(&self.read).await? {
                            out.push((
                                Identity { kind: *kind, value: text(&r, "value")? },
                                ProfileId::from(text(&r, "profile_id")?),
                            ));
                        }
                    }
                }
                Ok(out)
            }

            async fn profile_states(
                &self,
                brand: &BrandId,
                ids: &[ProfileId],
            ) -> Result<Vec<ProfileState>> {
                let keys: Vec<&str> = ids.iter().map(ProfileId::as_str).collect();
                let mut states: Vec<ProfileState> = texts_in(
                    &self.read,
                    "SELECT id, traits, created_at FROM profiles",
                    brand,
                    "id",
                    &keys,
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(ProfileState {
                        id: ProfileId::from(text(r, "id")?),
                        identities: Vec::new(),
                        traits: traits_of(&text(r, "traits")?)?,
                        created_at: ts(int(r, "created_at")?)?,
                    })
                })
                .collect::<Result<_>>()?;
                let rows = texts_in(
                    &self.read,
                    "SELECT kind, value, profile_id FROM profile_identities",
                    brand,
                    "profile_id",
                    &keys,
                )
                .await?;
                let by_id: std::collections::HashMap<String, usize> = states
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.id.as_str().to_string(), i))
                    .collect();
                for r in &rows {
                    if let Some(&i) = by_id.get(&text(r, "profile_id")?) {
                        states[i].identities.push(Identity {
                            kind: parsed(&text(r, "kind")?)?,
                            value: text(r, "value")?,
                        });
                    }
                }
                for s in &mut states {
                    s.identities.sort();
                }
                Ok(states)
            }

            async fn apply_profile_changes(
                &self,
                brand: &BrandId,
                c: &ProfileChanges,
            ) -> Result<()> {
                use $crate::sql::to_json;
                let b = brand.as_str();
                let now = c.at.map_or(0, |t| t.as_millisecond());
                let mut tx = self.write.begin().await?;
                // New profiles and changed traits in one upsert: one
                // statement per batch, not one per profile.
                let mut rows: std::collections::BTreeMap<&str, (String, i64)> = c
                    .new_profiles
                    .iter()
                    .map(|(id, at)| (id.as_str(), ("{}".to_string(), at.as_millisecond())))
                    .collect();
                for (id, traits) in &c.traits {
                    let created = rows.get(id.as_str()).map_or(now, |r| r.1);
                    rows.insert(id.as_str(), (to_json(traits), created));
                }
                insert_rows(
                    &mut tx,
                    "profiles (brand_id, id, traits, created_at, updated_at)",
                    rows.iter()
                        .map(|(id, (traits, created))| {
                            vec![
                                Arg::S(b),
                                Arg::S(id),
                                Arg::S(traits),
                                Arg::I(*created),
                                Arg::I(now.max(*created)),
                            ]
                        })
                        .collect(),
                    " ON CONFLICT (brand_id, id) DO UPDATE SET traits = excluded.traits, \
                     updated_at = excluded.updated_at",
                )
                .await?;
                insert_rows(
                    &mut tx,
                    "profile_identities (brand_id, kind, value, profile_id, origin_id, added_at)",
                    c.identities
                        .iter()
                        .map(|i| {
                            vec![
                                Arg::S(b),
                                Arg::S(i.identity.kind.as_str()),
                                Arg::S(&i.identity.value),
                                Arg::S(i.profile_id.as_str()),
                                Arg::S(i.origin_id.as_str()),
                                Arg::I(now),
                            ]
                        })
                        .collect(),
                    "",
                )
                .await?;
                for m in &c.merges {
                    // Two statements, each on its own index (an OR would scan).
                    for column in ["id", "merged_into"] {
                        sqlx::query(&format!(
                            "UPDATE profiles SET merged_into = $2 \
                             WHERE brand_id = $1 AND {column} = $3"
                        ))
                        .bind(b)
                        .bind(m.survivor.as_str())
                        .bind(m.merged.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                    sqlx::query(
                        "UPDATE profile_identities SET profile_id = $2 \
                         WHERE brand_id = $1 AND profile_id = $3",
                    )
                    .bind(b)
                    .bind(m.survivor.as_str())
                    .bind(m.merged.as_str())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO profile_merges (brand_id, id, survivor, merged, because, \
                         merged_traits, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(b)
                    .bind(m.id.as_str())
                    .bind(m.survivor.as_str())
                    .bind(m.merged.as_str())
                    .bind(&m.because)
                    .bind(to_json(&m.merged_traits))
                    .bind(m.at.as_millisecond())
                    .execute(&mut *tx)
                    .await?;
                }
                insert_rows(
                    &mut tx,
                    "tracked_events (brand_id, message_id, profile_id, type, name, at, \
                     received_at, body)",
                    c.events
                        .iter()
                        .map(|e| {
                            vec![
                                Arg::S(b),
                                Arg::S(&e.message_id),
                                Arg::S(e.profile_id.as_str()),
                                Arg::S(e.kind.as_str()),
                                Arg::OptS(e.name.as_deref()),
                                Arg::I(e.at.as_millisecond()),
                                Arg::I(e.received_at.as_millisecond()),
                                Arg::S(&e.body),
                            ]
                        })
                        .collect(),
                    " ON CONFLICT (brand_id, message_id) DO NOTHING",
                )
                .await?;
                let lines: Vec<String> = c.sales.iter().map(|s| to_json(&s.lines)).collect();
                insert_rows(
                    &mut tx,
                    "till_sales (brand_id, id, day, store_id, ticket, lines)",
                    c.sales
                        .iter()
                        .zip(&lines)
                        .map(|(s, l)| {
                            vec![
                                Arg::S(b),
                                Arg::S(&s.id),
                                Arg::O(s.day.to_string()),
                                Arg::S(&s.store_id),
                                Arg::S(&s.ticket),
                                Arg::S(l),
                            ]
                        })
                        .collect(),
                    " ON CONFLICT (brand_id, id) DO NOTHING",
                )
                .await?;
                let addresses: Vec<String> = c.stores.iter().map(|s| to_json(&s.address)).collect();
                insert_rows(
                    &mut tx,
                    "stores (brand_id, id, name, address)",
                    c.stores
                        .iter()
                        .zip(&addresses)
                        .map(|(s, a)| vec![Arg::S(b), Arg::S(&s.id), Arg::S(&s.name), Arg::S(a)])
                        .collect(),
                    " ON CONFLICT (brand_id, id) DO NOTHING",
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn profile_root(
                &self,
                brand: &BrandId,
                id: &ProfileId,
            ) -> Result<Option<ProfileId>> {
                let row: Option<Option<String>> = sqlx::query_scalar(
                    "SELECT merged_into FROM profiles WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.read)
                .await?;
                Ok(row.map(|m| m.map_or_else(|| id.clone(), ProfileId::from)))
            }

            async fn profile_members(
                &self,
                brand: &BrandId,
                root: &ProfileId,
            ) -> Result<Vec<ProfileId>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT id, created_at FROM profiles WHERE brand_id = $1 AND id = $2 \
                     UNION ALL SELECT id, created_at FROM profiles \
                     WHERE brand_id = $1 AND merged_into = $2 ORDER BY 2, 1",
                )
                .bind(brand.as_str())
                .bind(root.as_str())
                .fetch_all(&self.read)
                .await?;
                Ok(ids.into_iter().map(ProfileId::from).collect())
            }

            async fn profile_merges(
                &self,
                brand: &BrandId,
                into: &[ProfileId],
            ) -> Result<Vec<(ProfileId, ProfileMerge)>> {
                let keys: Vec<&str> = into.iter().map(ProfileId::as_str).collect();
                let mut out = texts_in(
                    &self.read,
                    "SELECT id, survivor, merged, because, at, undone_at FROM profile_merges",
                    brand,
                    "survivor",
                    &keys,
                )
                .await?
                .iter()
                .filter(|r| matches!(r.try_get::<Option<i64>, _>("undone_at"), Ok(None)))
                .map(|r| {
                    Ok((
                        ProfileId::from(text(r, "survivor")?),
                        ProfileMerge {
                            id: MergeId::from(text(r, "id")?),
                            merged: ProfileId::from(text(r, "merged")?),
                            because: text(r, "because")?,
                            at: ts(int(r, "at")?)?,
                        },
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
                out.sort_by(|a, b| (a.1.at, &a.1.id).cmp(&(b.1.at, &b.1.id)));
                Ok(out)
            }

            async fn profile_events(
                &self,
                brand: &BrandId,
                members: &[ProfileId],
                before: Option<i64>,
                limit: i64,
            ) -> Result<Vec<TrackedEvent>> {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "SELECT message_id, profile_id, type, name, at, received_at, body \
                     FROM tracked_events WHERE brand_id = ",
                );
                qb.push_bind(brand.as_str().to_string());
                qb.push(" AND profile_id IN (");
                let mut list = qb.separated(", ");
                for m in members.iter().take(IN_CHUNK) {
                    list.push_bind(m.as_str().to_string());
                }
                qb.push(")");
                if let Some(before) = before {
                    qb.push(" AND at < ");
                    qb.push_bind(before);
                }
                qb.push(" ORDER BY at DESC, message_id DESC LIMIT ");
                qb.push_bind(limit);
                qb.build()
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(TrackedEvent {
                            message_id: text(r, "message_id")?,
                            kind: parsed(&text(r, "type")?)?,
                            name: r.try_get("name")?,
                            profile_id: ProfileId::from(text(r, "profile_id")?),
                            timestamp: ts(int(r, "at")?)?,
                            received_at: ts(int(r, "received_at")?)?,
                            body: json(&text(r, "body")?)?,
                        })
                    })
                    .collect()
            }

            async fn merged_traits(
                &self,
                brand: &BrandId,
                merge: &MergeId,
            ) -> Result<serde_json::Map<String, serde_json::Value>> {
                let row: Option<String> = sqlx::query_scalar(
                    "SELECT merged_traits FROM profile_merges WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand.as_str())
                .bind(merge.as_str())
                .fetch_optional(&self.read)
                .await?;
                traits_of(&row.ok_or(StoreError::NotFound)?)
            }

            async fn unmerge_profile(
                &self,
                brand: &BrandId,
                undo: &Unmerge,
                audit_entry: &AuditEntry,
            ) -> Result<()> {
                let b = brand.as_str();
                let Some(head) = undo.profiles.first() else {
                    return Err(StoreError::NotFound);
                };
                let mut tx = self.write.begin().await?;
                let done = sqlx::query(
                    "UPDATE profile_merges SET undone_at = $3 \
                     WHERE brand_id = $1 AND id = $2 AND undone_at IS NULL",
                )
                .bind(b)
                .bind(undo.merge.as_str())
                .bind(undo.at.as_millisecond())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict("this merge was undone already".into()));
                }
                sqlx::query(
                    "UPDATE profiles SET merged_into = NULL, traits = $3, updated_at = $4 \
                     WHERE brand_id = $1 AND id = $2",
                )
                .bind(b)
                .bind(head.as_str())
                .bind($crate::sql::to_json(&undo.traits))
                .bind(undo.at.as_millisecond())
                .execute(&mut *tx)
                .await?;
                let rest: Vec<&str> = undo.profiles[1..].iter().map(ProfileId::as_str).collect();
                let to = Some(head.as_str());
                exec_in(&mut tx, "UPDATE profiles SET merged_into = ", to, brand, "id", &rest)
                    .await?;
                let all: Vec<&str> = undo.profiles.iter().map(ProfileId::as_str).collect();
                let set = "UPDATE profile_identities SET profile_id = ";
                exec_in(&mut tx, set, to, brand, "origin_id", &all).await?;
                audit(&mut tx, audit_entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn erase_profile(
                &self,
                brand: &BrandId,
                e: &Erasure,
                audit_entry: &AuditEntry,
            ) -> Result<Erased> {
                let b = brand.as_str();
                let at = e.at.as_millisecond();
                let mut tx = self.write.begin().await?;
                insert_rows(
                    &mut tx,
                    "suppressions (brand_id, hash, at)",
                    e.suppress
                        .iter()
                        .map(|h| vec![Arg::S(b), Arg::S(h), Arg::I(at)])
                        .collect(),
                    " ON CONFLICT (brand_id, hash) DO NOTHING",
                )
                .await?;
                let members: Vec<&str> = e.profiles.iter().map(ProfileId::as_str).collect();
                let mut erased = Erased {
                    events: exec_in(&mut tx, "DELETE FROM tracked_events", None, brand, "profile_id", &members)
                        .await?,
                    identities: exec_in(
                        &mut tx,
                        "DELETE FROM profile_identities",
                        None,
                        brand,
                        "profile_id",
                        &members,
                    )
                    .await?,
                    orders: 0,
                };
                exec_in(&mut tx, "DELETE FROM profile_merges", None, brand, "survivor", &members).await?;
                exec_in(&mut tx, "DELETE FROM profiles", None, brand, "id", &members).await?;
                exec_in(&mut tx, "DELETE FROM segment_members", None, brand, "profile_id", &members)
                    .await?;
                // The person's orders keep what the factory and the accounts
                // need (lines, prices, tax, country) and lose who they are.
                let mut customers: Vec<String> = Vec::new();
                for (column, values) in [("email", &e.emails), ("phone", &e.phones)] {
                    let values: Vec<&str> = values.iter().map(String::as_str).collect();
                    let rows = texts_in_on(&mut *tx, "SELECT id FROM customers", brand, column, &values)
                        .await?;
                    for r in rows {
                        customers.push(text(&r, "id")?);
                    }
                }
                customers.sort();
                customers.dedup();
                for c in &customers {
                    sqlx::query(
                        "UPDATE customers SET email = $3, name = '(erased)', phone = NULL \
                         WHERE brand_id = $1 AND id = $2",
                    )
                    .bind(b)
                    .bind(c)
                    .bind(format!("erased:{c}"))
                    .execute(&mut *tx)
                    .await?;
                    let orders = sqlx::query(
                        "SELECT id, ship_to FROM orders WHERE brand_id = $1 AND customer_id = $2",
                    )
                    .bind(b)
                    .bind(c)
                    .fetch_all(&mut *tx)
                    .await?;
                    for o in &orders {
                        let id = text(o, "id")?;
                        let ship_to: Address = json(&text(o, "ship_to")?)?;
                        sqlx::query(
                            "UPDATE orders SET ship_to = $3, customer_name = NULL, \
                             customer_phone = NULL WHERE brand_id = $1 AND id = $2",
                        )
                        .bind(b)
                        .bind(&id)
                        .bind($crate::sql::to_json(&erased_address(&ship_to)))
                        .execute(&mut *tx)
                        .await?;
                        for l in sqlx::query(
                            "SELECT line_no, recipient FROM order_lines \
                             WHERE brand_id = $1 AND order_id = $2 AND recipient IS NOT NULL",
                        )
                        .bind(b)
                        .bind(&id)
                        .fetch_all(&mut *tx)
                        .await?
                        {
                            let r: Address = json(&text(&l, "recipient")?)?;
                            sqlx::query(
                                "UPDATE order_lines SET recipient = $4 \
                                 WHERE brand_id = $1 AND order_id = $2 AND line_no = $3",
                            )
                            .bind(b)
                            .bind(&id)
                            .bind(int(&l, "line_no")?)
                            .bind($crate::sql::to_json(&erased_address(&r)))
                            .execute(&mut *tx)
                            .await?;
                        }
                        erased.orders += 1;
                    }
                }
                audit(&mut tx, audit_entry).await?;
                tx.commit().await?;
                Ok(erased)
            }
        }
    };
}

pub(crate) use impl_profiles;
