//! Material requirements planning.
//!
//! - [`MrpPlan`]: multi-level, time-phased MRP over a BOM with low-level codes, lead times,
//!   minimum order quantities and lot sizes, kept current by net change. It produces purchase
//!   suggestions, planned manufacturing orders and the shortages of each demand line.
//! - [`net_requirements`]: the single-level netting the order flow runs for one order
//!   against the live stock position.

mod error;
mod netting;
mod plan;
mod units;

// The plan's inputs and outputs speak in these; re-exported so callers need no direct
// dependency on the same versions.
pub use error::MrpError;
pub use jiff::civil::Date;
pub use netting::{
    GrossRequirement, MaterialPosition, NetRequirement, PurchaseSuggestion, material_release,
    net_requirements,
};
pub use plan::{
    BomLine, DemandLine, Item, MrpInput, MrpPlan, NetChange, OpenPurchaseOrder, PeriodRecord,
    PlanSummary, PlannedSupply, Shortage, Source,
};
pub use rust_decimal::Decimal;
