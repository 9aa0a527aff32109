//! Product models: what a brand declares about a customizable product.
//!
//! A model file is TOML (see `docs/model-format.md`). [`parse_product`] and
//! [`parse_factory`] turn source text into the resolved types below, reporting
//! every problem as a [`Diagnostic`] with line and column. [`check`] validates a
//! set of files together (a product's work centres and materials may be declared
//! in a separate factory file). [`diff()`] tells what changed between two
//! checked versions of a catalog.
//!
//! This crate is pure: no I/O beyond what callers hand it as strings.

mod assembly;
mod check;
mod condition;
mod ctx;
mod diff;
mod expr;
mod factory;
pub mod gtin;
pub mod import;
mod logistics;
mod parse;
mod preview;
mod span;
mod supply;
pub mod text;
mod tree;
mod types;

#[cfg(test)]
mod tests;

pub use assembly::{Assembly, AssemblyLine, AssemblyOperation, AssemblyUse, Expansion, Part};
pub use check::{CheckReport, check, resolve, resolve_in};
pub use diff::{CatalogDiff, Change, ChangeKind, Subject, diff};
pub use expr::{Assignment, CmpOp, Expr, Truth};
pub use import::{Format, import_dimacs, import_xcsp, load_product, to_toml};
pub use logistics::{Carrier, CarrierService, Packaging, Parcel, Rate, Zone, fits};
pub use parse::{parse_factory, parse_product};
pub use supply::{PriceBreak, Supplier};
pub use types::*;
