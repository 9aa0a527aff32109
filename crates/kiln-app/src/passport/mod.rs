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

mod jose;
pub mod lots;
mod payload;

use jose::jwk;
pub use jose::{Signer, VerifyError, find_jws, verify};
pub(crate) use payload::payload_of;
use payload::{LotsOf, Source, payload, view};

/// Materials' ledgers read while issuing one work order's passports.
#[derive(Default)]
struct Ledgers {
    /// The work order's orders: whose consumption each ledger reads.
    orders: Vec<OrderId>,
    /// The materials as first declared, with their opening stock.
    seeded: Option<Vec<kiln_store::MaterialRow>>,
    by_material: HashMap<String, lots::Ledger>,
}

use std::collections::HashMap;
use std::sync::Arc;

use kiln_domain::{
    AuditAction, AuditEntry, ClaimStatus, Decimal, LineRef, Order, OrderId, PassportKey, Unit,
    WorkOrderId, WorkOrderStatus,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Digest as _;
use utoipa::ToSchema;

use crate::error::{Error, Found, Result};
use crate::runtime::{BrandRuntime, Catalog};
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
        let brand = self.brand_record(slug).await?;
        let entry = crate::brands::audit_entry(
            Some(&brand.id),
            actor,
            AuditAction::PassportKeyRevoked,
            kid,
            "passports signed with it no longer verify",
        );
        if self
            .store
            .revoke_passport_key(&brand.id, kid, time::now(), &entry)
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
        let brand = self.brand_record(slug).await?;
        let keys = self.store.passport_keys(&brand.id).await?;
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
        let mut catalogs: HashMap<i64, Option<Arc<Catalog>>> = HashMap::new();
        let mut orders: Vec<OrderId> = lines.iter().map(|l| l.order.clone()).collect();
        orders.sort_unstable();
        orders.dedup();
        let mut ledgers = Ledgers {
            orders,
            ..Ledgers::default()
        };
        let asked: Vec<&OrderId> = ledgers.orders.iter().collect();
        let orders: HashMap<OrderId, Order> = self
            .store
            .orders_by_id(b, &asked)
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        for (line_ref, machines) in lines.iter().zip(machines) {
            let Some(order) = orders.get(&line_ref.order) else {
                continue;
            };
            let Some(line) = order.lines.iter().find(|l| l.line_no == line_ref.line_no) else {
                continue;
            };
            let lots = self.lots(rt, order, &mut ledgers).await?;
            let catalog = match catalogs.get(&line.catalog_version) {
                Some(c) => c.clone(),
                None => {
                    let c = self.ordered_from(rt, line.catalog_version).await;
                    catalogs.insert(line.catalog_version, c.clone());
                    c
                }
            };
            let src = Source {
                rt,
                catalog: catalog.as_deref().unwrap_or(&rt.catalog),
                wo: &wo,
                made_at,
            };
            for _ in 0..line.quantity.min(good) {
                let serial = new_serial();
                let payload = payload(&src, line, &machines, &lots, &serial);
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

    /// The lots `order` drew of each material it needs, first in first out
    /// (see `lots`). `ledgers` keeps each material's ledger, read once for
    /// all the orders of a work order: its receipts and those orders'
    /// consumption, never the material's whole history.
    async fn lots(
        &self,
        rt: &BrandRuntime,
        order: &Order,
        ledgers: &mut Ledgers,
    ) -> Result<LotsOf> {
        let mut out = LotsOf::new();
        for r in &order.requirements {
            if !ledgers.by_material.contains_key(&r.material) {
                if ledgers.seeded.is_none() {
                    ledgers.seeded = Some(self.store.materials(&rt.brand.id).await?);
                }
                let opening = ledgers
                    .seeded
                    .iter()
                    .flatten()
                    .find(|m| m.id == r.material)
                    .map_or(Decimal::ZERO, |m| m.on_hand);
                let orders: Vec<&OrderId> = ledgers.orders.iter().collect();
                let ledger = self
                    .store
                    .material_ledger(&rt.brand.id, &r.material, &orders)
                    .await?;
                ledgers
                    .by_material
                    .insert(r.material.clone(), lots::Ledger::new(opening, &ledger));
            }
            out.insert(
                r.material.clone(),
                ledgers.by_material[&r.material].drawn(order.id.as_str(), r.gross),
            );
        }
        Ok(out)
    }

    /// The catalog of `version`, compiled off the async workers, when it is
    /// not the brand's current one; `None` (use the current) when that
    /// version cannot be read or no longer compiles, which is logged.
    pub(crate) async fn ordered_from(
        &self,
        rt: &BrandRuntime,
        version: i64,
    ) -> Option<Arc<Catalog>> {
        if version == rt.catalog.version {
            return None;
        }
        let files = match self.store.catalog(&rt.brand.id, Some(version)).await {
            Ok(Some((_, files))) => files,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %Error::from(e).chain(), "{}: catalog version {version} not read; passports use the current one", rt.brand.slug);
                return None;
            }
        };
        let files = files.into_iter().map(|f| (f.name, f.source)).collect();
        match crate::runtime::compile_off_thread(version, files).await {
            Ok(Ok(c)) => Some(Arc::new(c)),
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(
                    "{}: catalog version {version} no longer compiles; passports use the current one",
                    rt.brand.slug
                );
                None
            }
        }
    }

    /// For each line, the machine each routing step ran on (`wheel #2`), as
    /// the live schedule booked it; empty where it no longer knows.
    async fn machines(&self, rt: &BrandRuntime, lines: &[LineRef]) -> Vec<Vec<Option<String>>> {
        let plan = rt.plan.lock().await;
        lines
            .iter()
            .map(|l| {
                // Work done ahead of plan left its machine: the one it had.
                let left = |k: usize| {
                    plan.made_on
                        .get(l)
                        .and_then(|ops| ops.iter().find(|m| m.op == k))
                        .map(|m| machine_name(&m.work_centre, m.machine))
                };
                plan.schedule
                    .order(l)
                    .map(|p| {
                        p.bookings
                            .iter()
                            .enumerate()
                            .map(|(k, b)| b.as_ref().map(machine_label).or_else(|| left(k)))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// How a passport names the machine an operation was booked on: "kiln #1".
fn machine_label(b: &kiln_plan::live::Booking) -> String {
    machine_name(&b.work_centre, b.machine)
}

/// Machine `machine` (0-based) of `work_centre`, as a passport names it.
fn machine_name(work_centre: &str, machine: u16) -> String {
    format!("{work_centre} #{}", u32::from(machine) + 1)
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
        let base = base.trim_end_matches('/');
        let path = match full["product"]["gtin"].as_str() {
            Some(gtin) => format!("{base}/01/{gtin}/21/{}", unit.serial),
            None => format!("{base}/shop/{}/21/{}", rt.brand.slug, unit.serial),
        };
        Ok(format!("{path}?pp={}", signer.sign(&summary)))
    }

    /// The brand whose unit `serial` carries GTIN `gtin` on its passport:
    /// where a GS1 Digital Link URI at the server's root
    /// (`/01/{gtin}/21/{serial}`) leads. A GTIN is given as 8 to 14 digits
    /// and compared as GS1's 14.
    pub async fn resolve_digital_link(
        &self,
        gtin: &str,
        serial: &str,
    ) -> Result<kiln_domain::Slug> {
        let gtin = kiln_model::gtin::gtin14(gtin).map_err(Error::NotFound)?;
        for brand in self.store.brands_with_unit(serial).await? {
            let Some(unit) = self.store.unit(&brand.id, serial).await? else {
                continue;
            };
            if payload_of(&unit)["product"]["gtin"].as_str() == Some(gtin.as_str()) {
                return Ok(brand.slug);
            }
        }
        Err(Error::NotFound(format!(
            "no unit with GTIN {gtin} and serial `{serial}`"
        )))
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
