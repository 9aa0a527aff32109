//! Brands join the platform; their keys are issued, listed, rotated and
//! revoked; every such action goes into the audit log.

use kiln_domain::{
    ApiKey, ApiKeyId, AuditAction, AuditEntry, AuditId, Brand, BrandId, Scope, Slug,
};
use kiln_store::NewApiKey;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, FieldError, NamedNotFound, Result};
use crate::keys::{self, Actor};
use crate::{App, time};

/// A key as issued: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The key itself: send it as `Authorization: Bearer <api_key>`.
    pub api_key: String,
}

/// Most keys one label may be.
const MAX_LABEL: usize = 100;

pub(crate) fn audit_entry(
    brand: Option<&BrandId>,
    actor: &Actor,
    action: AuditAction,
    subject: impl Into<String>,
    detail: impl Into<String>,
) -> AuditEntry {
    AuditEntry {
        id: AuditId::new(),
        brand_id: brand.cloned(),
        actor: actor.to_string(),
        action,
        subject: subject.into(),
        detail: detail.into(),
        at: time::now(),
    }
}

fn new_key(brand: &BrandId, label: &str, scopes: Vec<Scope>) -> (NewApiKey, String) {
    let secret = keys::new_secret(false);
    let key = ApiKey {
        id: ApiKeyId::new(),
        brand_id: brand.clone(),
        label: label.to_string(),
        scopes,
        prefix: keys::prefix(&secret),
        created_at: time::now(),
        expires_at: None,
        revoked_at: None,
    };
    (
        NewApiKey {
            key,
            hash: keys::hash(&secret),
        },
        secret,
    )
}

fn check_label(label: &str) -> Result<String> {
    let label = label.trim();
    if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
        return Err(Error::invalid(
            "/label",
            format!("a label is at most {MAX_LABEL} characters of text"),
        ));
    }
    Ok(label.to_string())
}

impl App {
    /// A new brand and its first key, which has every scope (`admin`).
    pub async fn create_brand(
        &self,
        actor: &Actor,
        slug: &str,
        name: &str,
    ) -> Result<(Brand, IssuedKey)> {
        let mut errors = Vec::new();
        let slug = match Slug::parse(slug.trim()) {
            Ok(s) => Some(s),
            Err(why) => {
                errors.push(FieldError::new("/slug", why));
                None
            }
        };
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new(
                "/name",
                "a name of 1 to 200 characters is required",
            ));
        }
        let Some(slug) = slug.filter(|_| errors.is_empty()) else {
            return Err(Error::invalid_fields(errors));
        };
        let brand = Brand {
            id: BrandId::new(),
            slug,
            name: name.to_string(),
        };
        let (key, secret) = new_key(&brand.id, "first key", vec![Scope::Admin]);
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::BrandCreated,
            brand.slug.as_str(),
            format!(
                "brand `{}` ({}) created with its first key {}",
                brand.slug, brand.name, key.key.id
            ),
        );
        self.store
            .create_brand(&brand, &key, &entry)
            .await
            .map_err(|e| match e {
                kiln_store::StoreError::Conflict(_) => {
                    Error::invalid("/slug", format!("the slug `{}` is taken", brand.slug))
                }
                other => other.into(),
            })?;
        Ok((
            brand,
            IssuedKey {
                key: key.key,
                api_key: secret,
            },
        ))
    }

    pub async fn brands(&self) -> Result<Vec<Brand>> {
        Ok(self.store.brands().await?)
    }

    /// Issues a key with the given scopes (at least one).
    pub async fn issue_key(
        &self,
        actor: &Actor,
        brand: &Brand,
        label: &str,
        scopes: Vec<Scope>,
    ) -> Result<IssuedKey> {
        let label = check_label(label)?;
        let mut scopes = scopes;
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(Error::invalid("/scopes", "a key needs at least one scope"));
        }
        let (key, secret) = new_key(&brand.id, &label, scopes);
        let names: Vec<&str> = key.key.scopes.iter().map(|s| s.as_str()).collect();
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::KeyIssued,
            key.key.id.as_str(),
            format!(
                "key {} `{label}` issued with {}",
                key.key.id,
                names.join(", ")
            ),
        );
        self.store.add_api_key(&key, &entry).await?;
        self.keys.clear();
        Ok(IssuedKey {
            key: key.key,
            api_key: secret,
        })
    }

    pub async fn api_keys(&self, brand: &Brand) -> Result<Vec<ApiKey>> {
        Ok(self.store.api_keys(&brand.id).await?)
    }

    /// Revokes a key: it is refused from the next request on.
    pub async fn revoke_key(&self, actor: &Actor, brand: &Brand, id: &ApiKeyId) -> Result<ApiKey> {
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::KeyRevoked,
            id.as_str(),
            format!("key {id} revoked"),
        );
        let revoked = self
            .store
            .revoke_api_key(&brand.id, id, time::now(), &entry)
            .await
            .or_not_found(|| format!("no API key `{id}`"));
        self.keys.clear();
        revoked
    }

    /// Issues a new key with the same label and scopes; the old one keeps
    /// working for `overlap_seconds`, so clients can switch without downtime.
    pub async fn rotate_key(
        &self,
        actor: &Actor,
        brand: &Brand,
        id: &ApiKeyId,
        overlap_seconds: i64,
    ) -> Result<(IssuedKey, ApiKey)> {
        if !(0..=keys::MAX_OVERLAP_SECONDS).contains(&overlap_seconds) {
            return Err(Error::invalid(
                "/overlap_seconds",
                format!("between 0 and {} seconds", keys::MAX_OVERLAP_SECONDS),
            ));
        }
        let old = self
            .store
            .api_keys(&brand.id)
            .await?
            .into_iter()
            .find(|k| &k.id == id)
            .ok_or_else(|| Error::NotFound(format!("no API key `{id}`")))?;
        if !old.active(time::now()) {
            return Err(Error::Conflict(format!("key {id} is revoked or expired")));
        }
        let (key, secret) = new_key(&brand.id, &old.label, old.scopes.clone());
        let expires = keys::after(time::now(), overlap_seconds);
        let entry = audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::KeyRotated,
            id.as_str(),
            format!(
                "key {id} rotated to {}; the old key works until {expires}",
                key.key.id
            ),
        );
        let old = self
            .store
            .rotate_api_key(id, expires, &key, &entry)
            .await
            .or_not_found(|| format!("no API key `{id}`"));
        self.keys.clear();
        let old = old?;
        Ok((
            IssuedKey {
                key: key.key,
                api_key: secret,
            },
            old,
        ))
    }

    /// The audit log: a brand's own, or every brand's for `None`.
    pub async fn audit_log(&self, brand: Option<&Brand>, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(self
            .store
            .audit_log(brand.map(|b| &b.id), limit.clamp(1, 1000))
            .await?)
    }
}
