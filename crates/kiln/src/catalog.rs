//! `kiln catalog push DIR`: publish a directory of model files to a brand
//! over the API, as a product manager's tooling or CI would.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Subcommand)]
pub enum CatalogCommand {
    /// Publish every `.toml` file of DIR as the brand's next catalog version.
    /// Errors print as `file:line:column: message`; any error exits non-zero.
    Push {
        dir: PathBuf,
        /// The platform, e.g. `http://127.0.0.1:8080`.
        #[arg(long)]
        url: String,
        /// The brand's slug.
        #[arg(long)]
        brand: String,
        /// A key of the brand with the `catalog:write` scope.
        #[arg(long, env = "KILN_KEY")]
        key: String,
    },
}

pub fn run(cmd: CatalogCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CatalogCommand::Push {
            dir,
            url,
            brand,
            key,
        } => push(&dir, &url, &brand, &key),
    }
}

fn push(dir: &PathBuf, url: &str, brand: &str, key: &str) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            files.push(serde_json::json!({"name": name, "source": source}));
        }
    }
    if files.is_empty() {
        anyhow::bail!("no .toml model files in {}", dir.display());
    }
    files.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let endpoint = format!(
        "{}/api/v1/brands/{brand}/catalog",
        url.trim_end_matches('/')
    );
    let runtime = tokio::runtime::Runtime::new()?;
    let (status, body): (u16, serde_json::Value) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .put(&endpoint)
            .bearer_auth(key)
            .json(&serde_json::json!({ "files": files }))
            .send()
            .await
            .with_context(|| format!("sending to {endpoint}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        anyhow::Ok((status, body))
    })?;
    if status == 201 {
        let version = &body["version"];
        let products: Vec<&str> = body["products"]
            .as_array()
            .map(|p| p.iter().filter_map(|p| p["id"].as_str()).collect())
            .unwrap_or_default();
        println!(
            "published version {version} of {brand}: {} ({} changes)",
            products.join(", "),
            body["changes"].as_array().map_or(0, Vec::len)
        );
        for c in body["changes"].as_array().into_iter().flatten() {
            if let Some(detail) = c["detail"].as_str() {
                println!("  {detail}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    let mut printed = false;
    for e in &errors {
        if let (Some(file), Some(line), Some(column), Some(message)) = (
            e["file"].as_str(),
            e["line"].as_u64(),
            e["column"].as_u64(),
            e["message"].as_str(),
        ) {
            eprintln!("{file}:{line}:{column}: {message}");
            printed = true;
        } else if let (Some(path), Some(message)) = (e["path"].as_str(), e["message"].as_str()) {
            eprintln!("{path}: {message}");
            printed = true;
        }
    }
    if !printed {
        let detail = body["detail"].as_str().unwrap_or("no detail");
        eprintln!("error: the platform answered {status}: {detail}");
    }
    Ok(ExitCode::FAILURE)
}
