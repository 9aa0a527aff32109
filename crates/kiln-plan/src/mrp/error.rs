use rust_decimal::Decimal;
use serde::Serialize;

/// Why a multi-level plan could not be made or changed. A failed change leaves the plan
/// as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MrpError {
    #[error("item `{item}` is listed more than once")]
    DuplicateItem { item: String },
    #[error("unknown item `{item}` in {context}")]
    UnknownItem { item: String, context: &'static str },
    /// The items in BOM order, the first repeated at the end.
    #[error("BOM cycle: {}", items.join(" → "))]
    BomCycle { items: Vec<String> },
    #[error("purchased item `{item}` has BOM components; mark it as made")]
    PurchasedWithComponents { item: String },
    #[error("negative {what} for item `{item}`")]
    NegativeQuantity { item: String, what: &'static str },
    #[error("{what} {value} for item `{item}` is more precise than the planner keeps")]
    TooPrecise {
        item: String,
        what: &'static str,
        value: Decimal,
    },
    #[error("{what} for item `{item}` is too large")]
    QuantityTooLarge { item: String, what: &'static str },
    #[error("quantities of item `{item}` overflow while planning")]
    Overflow { item: String },
    #[error("demand line {id} is already in the plan")]
    DuplicateDemand { id: u64 },
    #[error("no demand line {id} in the plan")]
    UnknownDemand { id: u64 },
    #[error("the plan would span {days} days; at most {max}")]
    HorizonTooLong { days: i64, max: i64 },
    #[error("date out of range")]
    DateOutOfRange,
}
