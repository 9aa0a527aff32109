//! `kiln model ...`: check product model files.

use std::process::ExitCode;

use anyhow::Context;
use kiln_model::Diagnostic;

#[derive(clap::Subcommand)]
pub enum ModelCommand {
    /// Report every error in the given model files as file:line:column.
    /// Give the factory file too: products' work centres and materials are
    /// checked against it.
    Check {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

pub fn run(cmd: ModelCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelCommand::Check { files } => check(&files),
    }
}

fn check(paths: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for p in paths {
        let source =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        files.push((p.display().to_string(), source));
    }
    let report = kiln_model::check(&files);
    let mut diagnostics = report.diagnostics.clone();
    // Rules that are fine one by one can still leave nothing to sell.
    for (name, source) in &files {
        if let Ok(product) = kiln_model::parse_product(name, source)
            && !kiln_configure::Configurator::new(&product).is_satisfiable()
        {
            diagnostics.push(Diagnostic {
                file: name.clone(),
                span: product.span,
                message: format!(
                    "the rules of `{}` together leave no valid configuration",
                    product.id
                ),
            });
        }
    }
    for d in &diagnostics {
        println!("{d}");
    }
    if diagnostics.is_empty() {
        println!(
            "ok: {} product(s), {} work centre(s), {} material(s)",
            report.products.len(),
            report.factory.work_centers.len(),
            report.factory.materials.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} error(s)", diagnostics.len());
        Ok(ExitCode::FAILURE)
    }
}
