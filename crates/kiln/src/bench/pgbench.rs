//! `kiln bench orders --compare-pgbench URL`: PostgreSQL's own benchmark on
//! the same database, right after Kiln's run, as the yardstick the orders
//! per second are compared with. Each pgbench transaction inserts three rows
//! (an order, its line, its booking) into tables of its own, from as many
//! clients as the orders run had; the tables are dropped after.

use std::process::Command;

use anyhow::Context;

/// What pgbench measured.
pub struct Pgbench {
    pub tps: f64,
    pub p99_ms: Option<f64>,
}

const TABLES: [&str; 3] = [
    "kiln_pgbench_orders",
    "kiln_pgbench_lines",
    "kiln_pgbench_bookings",
];

/// Runs pgbench against `url` for `seconds` with `clients`.
pub fn run(url: &str, clients: usize, seconds: f64) -> anyhow::Result<Pgbench> {
    let create: String = TABLES
        .iter()
        .map(|t| {
            format!(
                "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id BIGSERIAL PRIMARY KEY, \
                 n BIGINT NOT NULL, body TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now());"
            )
        })
        .collect();
    psql(url, &create)?;
    // A directory of our own for the script and pgbench's per-transaction logs.
    let dir = std::env::temp_dir().join(format!(
        "kiln-pgbench-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)?;
    let result = measure(url, clients, seconds, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = psql(
        url,
        &TABLES
            .iter()
            .map(|t| format!("DROP TABLE IF EXISTS {t};"))
            .collect::<String>(),
    );
    result
}

fn measure(
    url: &str,
    clients: usize,
    seconds: f64,
    dir: &std::path::Path,
) -> anyhow::Result<Pgbench> {
    let script = dir.join("three-inserts.sql");
    let mut body = String::from("\\set n random(1, 1000000000)\nBEGIN;\n");
    for t in TABLES {
        body.push_str(&format!(
            "INSERT INTO {t} (n, body) VALUES (:n, 'one row of an order');\n"
        ));
    }
    body.push_str("END;\n");
    std::fs::write(&script, body)?;
    let out = Command::new(pgbench())
        .current_dir(dir)
        .args(["-n", "-r", "-M", "prepared", "-l"])
        .args(["-c", &clients.to_string(), "-j", "2"])
        .args(["-T", &format!("{}", seconds.ceil().max(1.0) as u64)])
        .arg("-f")
        .arg(&script)
        .arg(url)
        .output()
        .context("running pgbench (apt-get install postgresql-client)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let tps = text
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("tps = ")?;
            rest.split_whitespace().next()?.parse::<f64>().ok()
        })
        .with_context(|| format!("no `tps = ` line in pgbench's output: {text}"))?;
    Ok(Pgbench {
        tps,
        p99_ms: p99_from_logs(dir),
    })
}

/// `pgbench` on the `PATH`, else Debian's, which keeps it in
/// `/usr/lib/postgresql/<version>/bin` (the newest version there).
fn pgbench() -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("pgbench"))
        .find(|p| p.is_file());
    if let Some(p) = on_path {
        return p;
    }
    let mut debian: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let p = e.path().join("bin/pgbench");
            p.is_file().then_some((version, p))
        })
        .collect();
    debian.sort();
    debian.pop().map_or_else(|| "pgbench".into(), |(_, p)| p)
}

/// The 99th percentile of the transactions' latencies in pgbench's per
/// transaction logs (`-l`: the third field is the latency in microseconds).
fn p99_from_logs(dir: &std::path::Path) -> Option<f64> {
    let mut latencies: Vec<u64> = Vec::new();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with("pgbench_log")
        {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).ok()?;
        latencies.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok()),
        );
    }
    if latencies.is_empty() {
        return None;
    }
    latencies.sort_unstable();
    let i = ((latencies.len() - 1) as f64 * 0.99).round() as usize;
    Some(latencies[i] as f64 / 1000.0)
}

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", sql, url])
        .output()
        .context("running psql (apt-get install postgresql-client)")?;
    anyhow::ensure!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
