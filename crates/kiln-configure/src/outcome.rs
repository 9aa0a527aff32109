//! What the configurator answers: the outcome of a configuration (its options'
//! states, price, BOM, routing and preview), reasons for unavailable values, and
//! the errors of selections it cannot read.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::Selections;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectionError {
    #[error("unknown option `{option}`")]
    UnknownOption { option: String },
    /// One option named twice, by its id and an alias (`1` and `N_100000`).
    #[error("`{option}` is selected twice (also as `{other}`)")]
    SelectedTwice { option: String, other: String },
    #[error("`{value}` is not a value of `{option}` (allowed: {})", allowed.join(", "))]
    UnknownValue {
        option: String,
        value: String,
        allowed: Vec<String>,
    },
    #[error("`{option}` takes at most {max_length} characters")]
    TextTooLong { option: String, max_length: u32 },
    /// A character the option does not take: `bad` says which and where,
    /// `allowed` the option's `characters` when it has them.
    #[error("`{option}` cannot hold {bad}{}", allowed.as_ref().map(|a| format!(" (it takes {a})")).unwrap_or_default())]
    TextNotAllowed {
        option: String,
        bad: kiln_model::text::BadCharacter,
        allowed: Option<String>,
    },
    #[error("`{value}` is not a number (option `{option}`)")]
    NotANumber { option: String, value: String },
    #[error("{value} is outside {min}..{max} (option `{option}`)")]
    OutOfRange {
        option: String,
        value: String,
        min: Decimal,
        max: Decimal,
    },
}

impl SelectionError {
    /// The option at fault, so the API can point at `/selections/<option>`.
    pub fn option(&self) -> &str {
        match self {
            SelectionError::UnknownOption { option }
            | SelectionError::SelectedTwice { option, .. }
            | SelectionError::UnknownValue { option, .. }
            | SelectionError::TextTooLong { option, .. }
            | SelectionError::TextNotAllowed { option, .. }
            | SelectionError::NotANumber { option, .. }
            | SelectionError::OutOfRange { option, .. } => option,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outcome {
    /// The selections are consistent with the rules.
    pub valid: bool,
    /// `valid`, and every option that is not left out has a concrete value in
    /// `configuration` (a required text without default has none).
    pub complete: bool,
    /// When valid: the selections plus, for unselected options, the
    /// lexicographically first valid completion (defaults first, optional
    /// options left out when possible). When invalid: the selections as given.
    pub configuration: Selections,
    pub options: Vec<OptionState>,
    /// When invalid: a minimal conflicting subset of the selections.
    pub conflict: Option<Reason>,
    /// When complete and valid.
    pub sku: Option<String>,
    /// When complete and valid.
    pub price: Option<PriceBreakdown>,
    /// Per unit, for the completed configuration; empty when invalid.
    pub bom: Vec<BomRequirement>,
    /// For the completed configuration; empty when invalid.
    pub routing: Vec<RoutingStep>,
    /// Always drawn from `configuration`.
    pub preview_svg: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptionState {
    pub id: String,
    pub name: String,
    /// `choice`, `color`, `text` or `number`.
    pub kind: &'static str,
    pub optional: bool,
    /// The explicit selection (normalised: colours as declared, numbers canonical).
    pub selected: Option<String>,
    /// The effective value in `configuration`.
    pub value: Option<String>,
    /// Empty for text and number options.
    pub values: Vec<ValueState>,
    /// Optional, and leaving it out still extends to a valid configuration.
    pub can_be_omitted: bool,
    pub max_length: Option<u32>,
    pub min: Option<Decimal>,
    pub max: Option<Decimal>,
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueState {
    pub id: String,
    pub label: String,
    /// Some complete valid configuration has this value and agrees with the
    /// explicit selections of every other option.
    pub available: bool,
    /// Set exactly when not available.
    pub reason: Option<Reason>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// A minimal subset of the explicit selections, as (option, value).
    pub selections: Vec<(String, String)>,
    /// A minimal set of rules that already forbids it given those selections.
    pub rules: Vec<RuleRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleRef {
    pub id: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceBreakdown {
    pub currency: String,
    pub base: Decimal,
    pub lines: Vec<PriceLine>,
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceLine {
    pub label: String,
    pub amount: Decimal,
    /// A quantity break's threshold: this line holds from so many units on
    /// (of the line, or of the product in the whole order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_units: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BomRequirement {
    pub material: String,
    pub qty: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingStep {
    pub operation: String,
    pub name: String,
    pub work_center: String,
    pub minutes: Decimal,
    pub setup_minutes: Decimal,
}
