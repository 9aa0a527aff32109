//! Product passports: every unit made gets a serial and a signed record of
//! what it is, made of and where and when it was made (no personal data),
//! checkable offline with the brand's published public keys.

use jiff::Timestamp;
use serde::Serialize;

use crate::{ClaimId, ClaimKind, ClaimStatus, OrderId, WorkOrderId};

/// One unit made: its serial, where it came from, and its passport as a
/// compact JWS (RFC 7515, EdDSA over Ed25519) signed with key `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unit {
    pub serial: String,
    pub work_order_id: WorkOrderId,
    pub order_id: OrderId,
    pub line_no: i64,
    #[serde(rename = "product")]
    pub product_id: String,
    pub sku: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub made_at: Timestamp,
    pub kid: String,
    /// The signed passport, a compact JWS whose payload says what the unit is.
    pub passport: String,
}

/// A brand's passport signing key as published: its id and the Ed25519
/// public key (32 bytes, base64url without padding, as a JWK's `x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassportKey {
    pub kid: String,
    pub public_key: String,
    pub created_at: Timestamp,
    /// Passports it signed are no longer to be trusted from then on.
    pub revoked_at: Option<Timestamp>,
}

/// A return or warranty claim on one unit, opened from its serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Claim {
    pub id: ClaimId,
    pub serial: String,
    pub order_id: OrderId,
    pub kind: ClaimKind,
    /// What the customer says is wrong.
    pub reason: String,
    /// The parts concerned, as the customer or clerk names them.
    pub parts: Vec<String>,
    /// Whether the unit's warranty still ran when the claim was opened.
    pub in_warranty: bool,
    pub status: ClaimStatus,
    /// Why it was decided so (required to reject).
    pub note: String,
    /// The repair or remake work order a decision made.
    pub work_order_id: Option<WorkOrderId>,
    /// The after-sales order (free of charge, channel `after_sales`) that
    /// carries a repair or remake through the factory and back to the
    /// customer.
    pub after_sales_order_id: Option<OrderId>,
    /// When the repaired or remade unit is promised, from the live schedule.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub promised_date: Option<jiff::civil::Date>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub decided_at: Option<Timestamp>,
}
