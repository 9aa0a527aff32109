use jiff::civil::Date;
use serde::Serialize;

/// Why a plan could not be made. Serializable so the server can return it as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanError {
    /// A routing step names a work centre with no calendar: the model and factory disagree.
    #[error("unknown work centre `{work_center}`")]
    UnknownWorkCenter { work_center: String },
    /// The work centre has no free minutes left for the step within the search horizon.
    #[error(
        "no capacity on work centre `{work_center}` for operation `{operation}` \
         within {horizon_days} days from {release}"
    )]
    NoCapacity {
        operation: String,
        work_center: String,
        release: Date,
        horizon_days: u32,
    },
    /// A gross requirement names a material with no stock position.
    #[error("unknown material `{material}`")]
    UnknownMaterial { material: String },
    /// Two stock positions for one material would make netting ambiguous.
    #[error("material `{material}` has more than one stock position")]
    DuplicateMaterial { material: String },
    /// Negative requirements have no meaning in netting and would hide shortages.
    #[error("negative quantity for material `{material}`")]
    NegativeQuantity { material: String },
    /// Date arithmetic left the supported calendar range (years -9999..=9999).
    #[error("date out of range")]
    DateOutOfRange,
}
