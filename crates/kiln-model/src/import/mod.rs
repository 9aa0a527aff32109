//! Standard configuration formats in: XCSP 2.1 (extensional constraints) and
//! DIMACS CNF. Both become an ordinary [`Product`] whose constraints are
//! [`TableConstraint`]s, so imported and native models share one engine. A
//! malformed file fails with a [`Diagnostic`] at the offending line (and
//! column where the format has one); nothing here panics on bad input.

mod dimacs;
mod export;
mod xcsp;

pub use dimacs::import_dimacs;
pub use export::to_toml;
pub use xcsp::import_xcsp;

use crate::{Diagnostic, OptionDef, OptionKind, Product, Span, Value};

/// The model formats `kiln model` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Xcsp,
    Dimacs,
}

impl Format {
    /// By file extension: `.xml` is XCSP 2.1, `.cnf`/`.dimacs` DIMACS, anything
    /// else the native TOML format.
    pub fn of(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".xml") {
            Format::Xcsp
        } else if lower.ends_with(".cnf") || lower.ends_with(".dimacs") {
            Format::Dimacs
        } else {
            Format::Toml
        }
    }
}

/// Reads a product in whichever format `file`'s extension names.
pub fn load_product(file: &str, source: &str) -> Result<Product, Vec<Diagnostic>> {
    match Format::of(file) {
        Format::Toml => crate::parse_product(file, source),
        Format::Xcsp => import_xcsp(file, source).map_err(|d| vec![d]),
        Format::Dimacs => import_dimacs(file, source).map_err(|d| vec![d]),
    }
}

pub(crate) fn diag(
    file: &str,
    line: usize,
    column: usize,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        span: Span {
            line: line as u32,
            column: column as u32,
        },
        message: message.into(),
    }
}

/// An empty product named after the file, ready for options and tables.
pub(crate) fn product(file: &str, name: &str) -> Product {
    let stem = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("imported");
    let id: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Product {
        id: if id.is_empty() { "imported".into() } else { id },
        name: if name.is_empty() {
            stem.to_owned()
        } else {
            name.to_owned()
        },
        description: format!("imported from {file}"),
        currency: "EUR".into(),
        base_price: Default::default(),
        ship_days: 0,
        warranty_months: 0,
        gtin: None,
        components: Vec::new(),
        options: Vec::new(),
        rules: Vec::new(),
        tables: Vec::new(),
        prices: Vec::new(),
        bom: Vec::new(),
        operations: Vec::new(),
        repair_operations: Vec::new(),
        assemblies: Vec::new(),
        parcel: None,
        preview: crate::Preview {
            view_box: crate::parse::DEFAULT_VIEW_BOX.into(),
            layers: Vec::new(),
            scale: None,
        },
        span: Span { line: 1, column: 1 },
    }
}

pub(crate) fn choice(id: &str, name: &str, values: &[String], line: usize) -> OptionDef {
    OptionDef {
        id: id.to_owned(),
        name: name.to_owned(),
        aliases: Vec::new(),
        kind: OptionKind::Choice {
            values: values
                .iter()
                .map(|v| Value {
                    id: v.clone(),
                    label: v.clone(),
                })
                .collect(),
        },
        optional: false,
        default: None,
        span: Span {
            line: line as u32,
            column: 1,
        },
    }
}
