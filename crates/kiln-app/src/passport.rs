//! Product passports. When a work order's last operation completes, every
//! good unit gets a serial and a passport: what it is (product, SKU,
//! configuration, catalog version), what it is made of, which operations on
//! which machines made it and when, and its warranty. No personal data.
//!
//! A passport is a compact JWS (RFC 7515) signed with the brand's Ed25519 key
//! (`alg` `EdDSA`, RFC 8037) under a `kid`, so any JOSE library verifies it
//! against the brand's public JWK set. Keys are made on first use, kept in
//! the store, and published without their private half.
//!
//! Issuing runs after the completion is stored; a passport that could not be
//! issued then (a crash, a store error) is issued the next time the brand's
//! units are read ([`App::issue_missing_passports`]), so none is lost.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jiff::ToSpan as _;
use kiln_domain::{
    AuditAction, AuditEntry, ClaimStatus, LineRef, OperationStatus, OrderId, PassportKey, Unit,
    WorkOrder, WorkOrderId, WorkOrderStatus,
};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Digest as _;
use utoipa::ToSchema;

use crate::error::{Error, Found, Result};
use crate::runtime::BrandRuntime;
use crate::{App, time};

/// A brand's public keys as a JWK set (RFC 7517).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037): `kty` OKP, `crv` Ed25519, `x`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
}

/// A unit's passport: the JWS and, for convenience, its payload decoded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PassportView {
    pub serial: String,
    pub kid: String,
    /// The compact JWS: verify this, not `payload`.
    pub passport: String,
    #[schema(value_type = Object)]
    pub payload: Value,
}

/// A passport signing key: the brand's (from the store), or a fresh one
/// ([`Signer::generate`], for benchmarks and tests).
pub struct Signer {
    kid: String,
    pair: Ed25519KeyPair,
}

impl Signer {
    /// A new Ed25519 key under `kid`, with the JWK set that publishes it.
    pub fn generate(kid: &str) -> Result<(Signer, Jwks)> {
        let (signer, _) = Signer::fresh(kid)?;
        let jwks = Jwks {
            keys: vec![jwk(kid, signer.public_key())],
        };
        Ok((signer, jwks))
    }

    /// A new key under `kid` and its private half as base64 PKCS#8, to store.
    fn fresh(kid: &str) -> Result<(Signer, String)> {
        let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|e| Error::internal(format!("no passport key could be made: {e}")))?;
        let secret = STANDARD.encode(der.as_ref());
        Ok((Signer::load(kid, &secret)?, secret))
    }

    /// The public key, base64url: a JWK's `x`.
    fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref())
    }

    /// A stored key: its private half as base64 PKCS#8.
    fn load(kid: &str, secret: &str) -> Result<Signer> {
        let der = STANDARD
            .decode(secret)
            .map_err(|e| Error::internal_from("a passport key is not base64", e))?;
        let pair = Ed25519KeyPair::from_pkcs8(&der)
            .map_err(|e| Error::internal(format!("a passport key does not load: {e}")))?;
        Ok(Signer {
            kid: kid.to_string(),
            pair,
        })
    }

    /// A compact JWS of `payload`: `header.payload.signature`, base64url.
    pub fn sign(&self, payload: &Value) -> String {
        let header = json!({ "alg": "EdDSA", "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self.pair.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// An Ed25519 public key (base64url) as a JWK for signatures.
fn jwk(kid: &str, x: String) -> Jwk {
    Jwk {
        kty: "OKP",
        crv: "Ed25519",
        x,
        kid: kid.to_string(),
        use_: "sig",
        alg: "EdDSA",
    }
}

/// A serial: 16 capital hexadecimal characters (64 random bits), within a
/// GS1 serial number's 20 characters.
fn new_serial() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase()
}

impl App {
    /// The brand's newest key not revoked, made (and stored) if it has none.
    async fn signer(&self, rt: &BrandRuntime) -> Result<Signer> {
        let keys = self.store.passport_keys(&rt.brand.id).await?;
        if let Some((key, secret)) = keys.iter().rev().find(|(k, _)| k.revoked_at.is_none()) {
            return Signer::load(&key.kid, secret);
        }
        self.new_key(rt, None).await
    }

    /// A new signing key for the brand, stored (with the audit entry of a
    /// rotation when there is one): passports are signed with it from now on.
    async fn new_key(&self, rt: &BrandRuntime, entry: Option<&AuditEntry>) -> Result<Signer> {
        let kid = format!(
            "{}-{}",
            rt.brand.slug,
            &uuid::Uuid::now_v7().simple().to_string()[..12]
        );
        let (signer, secret) = Signer::fresh(&kid)?;
        let key = PassportKey {
            kid,
            public_key: signer.public_key(),
            created_at: time::now(),
            revoked_at: None,
        };
        self.store
            .add_passport_key(&rt.brand.id, &key, &secret, entry)
            .await?;
        Ok(signer)
    }

    /// Rotates the brand's passport key: new passports are signed with a new
    /// key; the old one stays published, so passports it signed still verify.
    pub async fn rotate_passport_key(&self, actor: &crate::Actor, slug: &str) -> Result<Jwks> {
        let rt = self.brand(slug).await?;
        let entry = crate::brands::audit_entry(
            Some(&rt.brand.id),
            actor,
            AuditAction::PassportKeyRotated,
            "passport key",
            "a new passport signing key; the previous ones stay published",
        );
        let signer = self.new_key(&rt, Some(&entry)).await?;
        let mut keys = self.passport_keys(slug).await?;
        keys.keys.retain(|k| k.kid == signer.kid);
        Ok(keys)
    }

    /// Revokes a passport key (a leaked one): it leaves the published set, so
    /// passports it signed no longer verify; a later passport is signed with
    /// the newest key left, or a new one.
    pub async fn revoke_passport_key(
        &self,
        actor: &crate::Actor,
        slug: &str,
        kid: &str,
    ) -> Result<()> {
        let rt = self.brand(slug).await?;
        let entry = crate::brands::audit_entry(
            Some(&rt.brand.id),
            actor,
            AuditAction::PassportKeyRevoked,
            kid,
            "passports signed with it no longer verify",
        );
        if self
            .store
            .revoke_passport_key(&rt.brand.id, kid, time::now(), &entry)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(format!("no passport key `{kid}` in use")))
        }
    }

    /// The brand's public passport keys, revoked ones left out: what anyone
    /// verifies a passport with, offline.
    pub async fn passport_keys(&self, slug: &str) -> Result<Jwks> {
        let rt = self.brand(slug).await?;
        let keys = self.store.passport_keys(&rt.brand.id).await?;
        Ok(Jwks {
            keys: keys
                .into_iter()
                .filter(|(k, _)| k.revoked_at.is_none())
                .map(|(k, _)| jwk(&k.kid, k.public_key))
                .collect(),
        })
    }

    /// One unit's passport, by serial.
    pub async fn passport(&self, slug: &str, serial: &str) -> Result<PassportView> {
        let rt = self.brand(slug).await?;
        self.issue_missing(&rt).await;
        let unit = self
            .store
            .unit(&rt.brand.id, serial)
            .await
            .found(|| format!("no unit with serial `{serial}`"))?;
        Ok(view(unit))
    }

    /// The units a work order made.
    pub async fn units_of_work_order(&self, slug: &str, wo: &WorkOrderId) -> Result<Vec<Unit>> {
        let rt = self.brand(slug).await?;
        self.issue_missing(&rt).await;
        Ok(self.store.units_of_work_order(&rt.brand.id, wo).await?)
    }

    /// The units made for an order.
    pub async fn units_of_order(&self, slug: &str, order: &OrderId) -> Result<Vec<Unit>> {
        let rt = self.brand(slug).await?;
        self.issue_missing(&rt).await;
        Ok(self.store.units_of_order(&rt.brand.id, order).await?)
    }

    /// Issues the passports of every done work order that has none yet.
    pub async fn issue_missing_passports(&self, slug: &str) -> Result<usize> {
        let rt = self.brand(slug).await?;
        let mut issued = 0;
        for wo in self.store.work_orders_without_units(&rt.brand.id).await? {
            issued += self.issue_passports(&rt, &wo).await?.len();
        }
        Ok(issued)
    }

    /// Like [`App::issue_missing_passports`], logging instead of failing: a
    /// read must not fail because a passport could not be issued.
    async fn issue_missing(&self, rt: &BrandRuntime) {
        if let Err(e) = self.issue_missing_passports(rt.brand.slug.as_str()).await {
            tracing::warn!(error = %e.chain(), "{}: passports not issued", rt.brand.slug);
        }
    }

    /// Serials and signed passports for the good units of a done work order,
    /// given to its order lines in order. Nothing when it has units already.
    pub(crate) async fn issue_passports(
        &self,
        rt: &BrandRuntime,
        wo: &WorkOrderId,
    ) -> Result<Vec<Unit>> {
        let b = &rt.brand.id;
        let wo = self
            .store
            .work_order(b, wo)
            .await
            .found(|| format!("no work order `{wo}`"))?;
        if wo.status != WorkOrderStatus::Done
            || !self.store.units_of_work_order(b, &wo.id).await?.is_empty()
        {
            return Ok(Vec::new());
        }
        let scrapped: i64 = wo.operations.iter().map(|o| o.scrap).sum();
        let mut good = (wo.quantity - scrapped).max(0);
        let lines = self.store.order_lines_of(b, &wo.id).await?;
        if lines.is_empty() || good == 0 {
            // Nothing good: no unit to give a passport.
            return Ok(Vec::new());
        }
        let claims = self.store.claims_of_work_order(b, &wo.id).await?;
        if claims.iter().any(|c| c.status == ClaimStatus::Repair) {
            // A repaired unit keeps its serial and passport; the claim is
            // its history.
            return Ok(Vec::new());
        }
        let signer = self.signer(rt).await?;
        let machines = self.machines(rt, &lines).await;
        let made_at = wo
            .operations
            .iter()
            .filter_map(|o| o.completed_at)
            .max()
            .unwrap_or_else(time::now);
        let mut units = Vec::new();
        for (line_ref, machines) in lines.iter().zip(machines) {
            let Some(order) = self.store.order(b, &line_ref.order).await? else {
                continue;
            };
            let Some(line) = order.lines.iter().find(|l| l.line_no == line_ref.line_no) else {
                continue;
            };
            for _ in 0..line.quantity.min(good) {
                let serial = new_serial();
                let payload = payload(rt, &wo, line, &machines, &serial, made_at);
                units.push(Unit {
                    passport: signer.sign(&payload),
                    serial,
                    work_order_id: wo.id.clone(),
                    order_id: order.id.clone(),
                    line_no: line.line_no,
                    product_id: line.product_id.clone(),
                    sku: line.sku.clone(),
                    made_at,
                    kid: signer.kid.clone(),
                });
            }
            good -= line.quantity.min(good);
        }
        self.store.add_units(b, &units).await?;
        Ok(units)
    }

    /// For each line, the machine each routing step ran on (`wheel #2`), as
    /// the live schedule booked it; empty where it no longer knows.
    async fn machines(&self, rt: &BrandRuntime, lines: &[LineRef]) -> Vec<Vec<Option<String>>> {
        let plan = rt.plan.lock().await;
        lines
            .iter()
            .map(|l| {
                plan.schedule
                    .order(l)
                    .map(|p| {
                        p.bookings
                            .iter()
                            .map(|b| {
                                b.as_ref()
                                    .map(|b| format!("{} #{}", b.work_centre, b.machine + 1))
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// What one unit is, made of and made by: the passport's payload.
fn payload(
    rt: &BrandRuntime,
    wo: &WorkOrder,
    line: &kiln_domain::OrderLine,
    machines: &[Option<String>],
    serial: &str,
    made_at: jiff::Timestamp,
) -> Value {
    let product = rt.catalog.product(&line.product_id);
    let materials: Vec<Value> = product
        .and_then(|c| c.configure_unexplained(&line.selections).ok())
        .map(|o| {
            o.bom
                .iter()
                .map(|m| {
                    let spec = rt.catalog.factory.material(&m.material);
                    json!({
                        "material": m.material,
                        "name": spec.map_or(m.material.as_str(), |s| s.name.as_str()),
                        "unit": spec.map_or("", |s| s.unit.as_str()),
                        "quantity": m.qty.normalize().to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let operations: Vec<Value> = wo
        .operations
        .iter()
        .enumerate()
        .map(|(k, op)| {
            json!({
                "seq": op.seq,
                "operation": op.operation,
                "name": op.name,
                "work_center": op.work_center,
                "machine": machines.get(k).cloned().flatten(),
                "started_at": op.started_at.map(|t| t.to_string()),
                "completed_at": op.completed_at.map(|t| t.to_string()),
                "done": op.status == OperationStatus::Done,
            })
        })
        .collect();
    let months = product.map_or(0, |c| c.product().warranty_months);
    let warranty_until = (months > 0)
        .then(|| {
            time::day_of(made_at)
                .checked_add(i64::from(months).months())
                .ok()
        })
        .flatten()
        .map(|d| d.to_string());
    json!({
        "type": "kiln.passport",
        "version": 1,
        "serial": serial,
        "brand": rt.brand.slug.as_str(),
        "factory": rt.brand.name,
        "product": {
            "id": line.product_id,
            "name": product.map_or(line.product_id.as_str(), |c| c.product().name.as_str()),
        },
        "sku": line.sku,
        "configuration": line.selections,
        "catalog_version": line.catalog_version,
        "materials": materials,
        "operations": operations,
        "work_order": wo.id.as_str(),
        "made_at": made_at.to_string(),
        "warranty_until": warranty_until,
        "issued_at": time::now().to_string(),
    })
}

/// The payload of a unit's stored passport (the server's own signature).
pub(crate) fn payload_of(unit: &Unit) -> Value {
    unit.passport
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|p| serde_json::from_slice(&p).ok())
        .unwrap_or(Value::Null)
}

/// A unit as the API shows its passport.
fn view(unit: Unit) -> PassportView {
    let payload = payload_of(&unit);
    PassportView {
        serial: unit.serial,
        kid: unit.kid,
        passport: unit.passport,
        payload,
    }
}

/// Why a passport is not to be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a compact JWS (header.payload.signature in base64url)")]
    Malformed,
    #[error("the JWS uses `{0}`, not EdDSA (Ed25519)")]
    Algorithm(String),
    #[error("signed with key `{0}`, which is not among the brand's keys (unknown or revoked)")]
    UnknownKey(String),
    #[error("the signature does not match: the passport was changed or not signed by that key")]
    BadSignature,
    #[error("the key set is not a JWK set of Ed25519 keys: {0}")]
    Keys(String),
}

/// Checks a compact JWS against a JWK set (JSON), offline: EdDSA over
/// Ed25519 (`alg` `EdDSA` or `Ed25519`), a `kid` that the set holds, and the
/// signature. The payload, parsed, when all holds.
pub fn verify(jws: &str, jwks: &str) -> std::result::Result<Value, VerifyError> {
    let keys: Value = serde_json::from_str(jwks).map_err(|e| VerifyError::Keys(e.to_string()))?;
    let keys = keys["keys"]
        .as_array()
        .ok_or_else(|| VerifyError::Keys("no `keys` array".into()))?;
    let parts: Vec<&str> = jws.trim().split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(VerifyError::Malformed);
    };
    let decode = |x: &str| {
        URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| VerifyError::Malformed)
    };
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| VerifyError::Malformed)?;
    let alg = header["alg"].as_str().unwrap_or_default();
    if alg != "EdDSA" && alg != "Ed25519" {
        return Err(VerifyError::Algorithm(alg.to_string()));
    }
    let kid = header["kid"].as_str().unwrap_or_default();
    let key = keys
        .iter()
        .find(|k| k["kid"] == kid && k["kty"] == "OKP" && k["crv"] == "Ed25519")
        .ok_or_else(|| VerifyError::UnknownKey(kid.to_string()))?;
    let public = key["x"]
        .as_str()
        .and_then(|x| URL_SAFE_NO_PAD.decode(x).ok())
        .ok_or_else(|| VerifyError::Keys(format!("key `{kid}` has no base64url `x`")))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public)
        .verify(format!("{h}.{p}").as_bytes(), &decode(s)?)
        .map_err(|_| VerifyError::BadSignature)?;
    serde_json::from_slice(&decode(p)?).map_err(|_| VerifyError::Malformed)
}

/// The first compact JWS in a text (a URI, say), percent-decoded first.
pub fn find_jws(text: &str) -> Option<String> {
    let decoded = percent_decode(text);
    decoded
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .find(|t| t.starts_with("eyJ") && t.split('.').count() == 3)
        .map(str::to_string)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) if hex.iter().all(u8::is_ascii_hexdigit) => {
                let h = std::str::from_utf8(hex).unwrap_or("00");
                out.push(u8::from_str_radix(h, 16).unwrap_or(b'?'));
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl App {
    /// What a unit's label carries: its GS1 Digital Link URI under `base`
    /// (`{base}/shop/{brand}/21/{serial}`), with a signed summary of its
    /// passport (serial, SKU, configuration, dates and the SHA-256 of the
    /// full passport) in `pp`, short enough for a QR code a phone reads.
    pub async fn label_uri(&self, slug: &str, serial: &str, base: &str) -> Result<String> {
        let rt = self.brand(slug).await?;
        let unit = self
            .store
            .unit(&rt.brand.id, serial)
            .await
            .found(|| format!("no unit with serial `{serial}`"))?;
        let full = payload_of(&unit);
        let digest = sha2::Sha256::digest(unit.passport.as_bytes());
        let summary = json!({
            "serial": unit.serial,
            "brand": rt.brand.slug.as_str(),
            "sku": unit.sku,
            "configuration": full["configuration"],
            "made_at": full["made_at"],
            "warranty_until": full["warranty_until"],
            "passport_sha256": hex::encode(digest),
        });
        let signer = self.signer_with(&rt, &unit.kid).await?;
        Ok(format!(
            "{}/shop/{}/21/{}?pp={}",
            base.trim_end_matches('/'),
            rt.brand.slug,
            unit.serial,
            signer.sign(&summary)
        ))
    }

    /// The key with id `kid`, to sign a unit's summary with the key that
    /// signed its passport.
    async fn signer_with(&self, rt: &BrandRuntime, kid: &str) -> Result<Signer> {
        let keys = self.store.passport_keys(&rt.brand.id).await?;
        let (key, secret) = keys
            .into_iter()
            .find(|(k, _)| k.kid == kid && k.revoked_at.is_none())
            .ok_or_else(|| Error::Conflict(format!("passport key `{kid}` is revoked or gone")))?;
        Signer::load(&key.kid, &secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_jws_in_a_percent_encoded_uri() {
        let uri = "https://x.example/shop/demo/21/ABC?pp=eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln%20";
        assert_eq!(
            find_jws(uri).as_deref(),
            Some("eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln")
        );
        assert_eq!(find_jws("https://x.example/21/ABC"), None);
    }

    #[test]
    fn verify_refuses_what_is_not_an_eddsa_jws_under_a_known_key() {
        let keys = r#"{"keys":[]}"#;
        assert_eq!(verify("nope", keys), Err(VerifyError::Malformed));
        let hs = format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#));
        assert_eq!(
            verify(&hs, keys),
            Err(VerifyError::Algorithm("HS256".into()))
        );
        let ed = format!(
            "{}.e30.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","kid":"k1"}"#)
        );
        assert_eq!(verify(&ed, keys), Err(VerifyError::UnknownKey("k1".into())));
        assert!(matches!(verify(&ed, "[]"), Err(VerifyError::Keys(_))));
    }
}
