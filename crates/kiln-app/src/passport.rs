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
    LineRef, OperationStatus, OrderId, PassportKey, Unit, WorkOrder, WorkOrderId, WorkOrderStatus,
};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::Serialize;
use serde_json::{Value, json};
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

/// The key passports are signed with now.
struct Signer {
    kid: String,
    pair: Ed25519KeyPair,
}

impl Signer {
    /// A compact JWS of `payload`: `header.payload.signature`, base64url.
    fn sign(&self, payload: &Value) -> String {
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
            let der = STANDARD
                .decode(secret)
                .map_err(|e| Error::internal_from("a passport key is not base64", e))?;
            let pair = Ed25519KeyPair::from_pkcs8(&der)
                .map_err(|e| Error::internal(format!("a passport key does not load: {e}")))?;
            return Ok(Signer {
                kid: key.kid.clone(),
                pair,
            });
        }
        let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|e| Error::internal(format!("no passport key could be made: {e}")))?;
        let pair = Ed25519KeyPair::from_pkcs8(der.as_ref())
            .map_err(|e| Error::internal(format!("a new passport key does not load: {e}")))?;
        let key = PassportKey {
            kid: format!(
                "{}-{}",
                rt.brand.slug,
                &uuid::Uuid::now_v7().simple().to_string()[..12]
            ),
            public_key: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            created_at: time::now(),
            revoked_at: None,
        };
        self.store
            .add_passport_key(&rt.brand.id, &key, &STANDARD.encode(der.as_ref()))
            .await?;
        Ok(Signer { kid: key.kid, pair })
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
                .map(|(k, _)| Jwk {
                    kty: "OKP",
                    crv: "Ed25519",
                    x: k.public_key,
                    kid: k.kid,
                    use_: "sig",
                    alg: "EdDSA",
                })
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
        let signer = self.signer(rt).await?;
        let lines = self.store.order_lines_of(b, &wo.id).await?;
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

/// A unit as the API shows its passport.
fn view(unit: Unit) -> PassportView {
    let payload = unit
        .passport
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|p| serde_json::from_slice(&p).ok())
        .unwrap_or(Value::Null);
    PassportView {
        serial: unit.serial,
        kid: unit.kid,
        passport: unit.passport,
        payload,
    }
}
