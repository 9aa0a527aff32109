//! Product models: what a brand declares about a customizable product.
//!
//! A model file is TOML (see `docs/model-format.md`). [`parse_product`] and
//! [`parse_factory`] turn source text into the resolved types below, reporting
//! every problem as a [`Diagnostic`] with line and column. [`check`] validates a
//! set of files together (a product's work centres and materials may be declared
//! in a separate factory file).
//!
//! This crate is pure: no I/O beyond what callers hand it as strings.

mod expr;
mod types;

pub use expr::{Assignment, CmpOp, Expr, Truth};
pub use types::*;
