//! `kiln model ...`: check product model files.

use std::fmt::Write as _;
use std::process::ExitCode;

use std::path::{Path, PathBuf};

use anyhow::Context;
use kiln_configure::{Configurator, Reason, Selections};
use kiln_model::Product;
use serde_json::json;

#[derive(clap::Subcommand)]
pub enum ModelCommand {
    /// Report every error in the given model files as file:line:column.
    /// Give the factory file too: products' work centres and materials are
    /// checked against it.
    Check {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Print the exact number of valid configurations (one decimal integer).
    Count { file: PathBuf },
    /// Print the values of every option still possible given the selections.
    Domains {
        file: PathBuf,
        /// A selection, OPTION=VALUE; repeat for more.
        #[arg(long = "set", value_name = "OPTION=VALUE")]
        set: Vec<String>,
        /// Print one JSON object: {"consistent": .., "domains": {..}}.
        #[arg(long)]
        json: bool,
    },
    /// Explain why OPTION=VALUE is not available given the selections.
    Explain {
        file: PathBuf,
        #[arg(long = "set", value_name = "OPTION=VALUE")]
        set: Vec<String>,
        #[arg(long, value_name = "OPTION=VALUE")]
        why: String,
        #[arg(long)]
        json: bool,
    },
    /// Convert an XCSP 2.1 (.xml) or DIMACS (.cnf, .dimacs) model to a native
    /// model file (TOML).
    Import {
        file: PathBuf,
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
}

pub fn run(cmd: ModelCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelCommand::Check { files } => check(&files),
        ModelCommand::Count { file } => {
            let c = configurator(&file)?;
            emit(&format!("{}\n", c.count()?))?;
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Domains { file, set, json } => domains(&file, &set, json),
        ModelCommand::Explain {
            file,
            set,
            why,
            json,
        } => explain(&file, &set, &why, json),
        ModelCommand::Import { file, output } => {
            let product = load(&file)?;
            std::fs::write(&output, kiln_model::to_toml(&product))
                .with_context(|| format!("writing {}", output.display()))?;
            println!(
                "{}: {} options, {} tables",
                output.display(),
                product.options.len(),
                product.tables.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads a model in any format `kiln model` takes (by extension).
pub fn load(path: &Path) -> anyhow::Result<Product> {
    Ok(read(path)?.1)
}

fn read(path: &Path) -> anyhow::Result<(String, Product)> {
    let source =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display().to_string();
    let product = kiln_model::load_product(&name, &source).map_err(|ds| {
        let lines: Vec<String> = ds.iter().map(|d| d.to_string()).collect();
        anyhow::anyhow!("{}", lines.join("\n"))
    })?;
    Ok((source, product))
}

/// The model's configurator, its compilation kept on disk between calls
/// (see `compiled_cache`).
fn configurator(path: &Path) -> anyhow::Result<Configurator> {
    let (source, product) = read(path)?;
    Ok(crate::compiled_cache::configurator(path, &source, &product))
}

fn selections(set: &[String]) -> anyhow::Result<Selections> {
    let mut out = Selections::new();
    for s in set {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("`{s}`: expected OPTION=VALUE"))?;
        out.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    Ok(out)
}

fn reason_json(r: &Reason) -> serde_json::Value {
    json!({
        "selections": r.selections.iter().map(|(k, v)| json!({"option": k, "value": v})).collect::<Vec<_>>(),
        "rules": r.rules.iter().map(|x| json!({"id": x.id, "message": x.message})).collect::<Vec<_>>(),
    })
}

fn reason_text(r: &Reason) -> String {
    let sel: Vec<String> = r
        .selections
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let rules: Vec<String> = r
        .rules
        .iter()
        .map(|x| {
            if x.message == x.id {
                x.id.clone()
            } else {
                format!("{} ({})", x.id, x.message)
            }
        })
        .collect();
    format!(
        "selections: {}\nrules: {}",
        if sel.is_empty() {
            "(none: never possible)".into()
        } else {
            sel.join(", ")
        },
        rules.join(", ")
    )
}

fn domains(file: &Path, set: &[String], as_json: bool) -> anyhow::Result<ExitCode> {
    let c = configurator(file)?;
    let d = c.domains(&selections(set)?)?;
    let mut out = String::new();
    if as_json {
        let mut doms = serde_json::Map::new();
        for (k, vs) in &d.domains {
            doms.insert(k.clone(), json!(vs));
        }
        let mut j = json!({"consistent": d.consistent, "domains": doms});
        if let Some(r) = &d.conflict {
            j["conflict"] = reason_json(r);
        }
        let _ = writeln!(out, "{j}");
    } else if d.consistent {
        for (k, vs) in &d.domains {
            let _ = writeln!(out, "{k}: {}", vs.join(" "));
        }
    } else {
        let _ = writeln!(out, "inconsistent selections");
        if let Some(r) = &d.conflict {
            let _ = writeln!(out, "{}", reason_text(r));
        }
    }
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn explain(file: &Path, set: &[String], why: &str, as_json: bool) -> anyhow::Result<ExitCode> {
    let c = configurator(file)?;
    let (option, value) = why
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--why `{why}`: expected OPTION=VALUE"))?;
    let r = c.explain(&selections(set)?, option.trim(), value.trim())?;
    let out = match (r, as_json) {
        (None, true) => json!({"available": true}).to_string(),
        (None, false) => format!("{why} is available"),
        (Some(r), true) => json!({"available": false, "reason": reason_json(&r)}).to_string(),
        (Some(r), false) => format!("{why} is not available\n{}", reason_text(&r)),
    };
    emit(&format!("{out}\n"))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to standard output; a reader that stopped early (`| head`)
/// is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to standard output"))
        }
        _ => Ok(()),
    }
}

fn check(paths: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for p in paths {
        let source =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        files.push((p.display().to_string(), source));
    }
    // The model checks, and rules that together leave nothing to sell: the
    // same check publishing a catalog makes.
    let checked = kiln_configure::check_catalog(&files);
    let report = &checked.report;
    let diagnostics = &report.diagnostics;
    for d in diagnostics {
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
