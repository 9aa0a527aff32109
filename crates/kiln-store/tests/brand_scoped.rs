//! Every query on a brand's table names the brand (issue 15 §1): under
//! Citus, where each table is distributed by `brand_id`, a statement without
//! it runs on every node, and on any database it is one `WHERE` away from
//! reading another brand's rows. This test reads the store's SQL as written
//! (every string literal of `src/` that starts a statement) and the tables
//! the migrations make, and fails on a statement that touches a table with a
//! `brand_id` column without naming `brand_id`, unless it goes through a
//! helper that adds the brand (`texts_in`, `texts_in_on`, `exec_in`) or is listed below
//! with the reason it must cross brands.

use std::collections::BTreeSet;
use std::path::Path;

/// Statements that may cross brands, each with why: `(file, the statement's
/// beginning, reason)`.
const CROSS_BRAND: &[(&str, &str, &str)] = &[
    (
        "src/sql/leases.rs",
        "UPDATE brand_leases SET expires_at = {now} - 1 WHERE holder = $1",
        "a clean shutdown gives back every lease this process holds, whatever the brand",
    ),
    (
        "src/sql/profiles.rs",
        "SELECT * FROM write_keys WHERE key_hash = $1",
        "a tracking request names no brand: its write key says which",
    ),
    (
        "src/sql/staff.rs",
        "SELECT {STAFF_COLUMNS} FROM staff WHERE {clause}",
        "the callers' clauses name the brand, except signing in by email, before the brand is known",
    ),
    (
        "src/sql/staff.rs",
        "SELECT COUNT(*) FROM staff WHERE email = $1",
        "an email signs in to one brand only: checked across brands when staff is invited",
    ),
    (
        "src/sql/staff.rs",
        "UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2",
        "a session is found by its cookie's hash before the brand is known",
    ),
    (
        "src/sql/staff.rs",
        "UPDATE staff_sessions SET revoked_at = $1 WHERE token_hash = $2",
        "signing out by the cookie's hash, before the brand is known",
    ),
    (
        "src/sql/staff.rs",
        "UPDATE staff_tokens SET used_at = $1 WHERE token_hash = $2",
        "an invitation or reset link is found by its token's hash before the brand is known",
    ),
    (
        "src/sql/webhooks.rs",
        "UPDATE webhook_deliveries SET next_attempt_at = ",
        "the delivery worker claims due deliveries of every brand at once",
    ),
    (
        "src/sql/webhooks.rs",
        "SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d",
        "the delivery worker's next wake-up, across brands",
    ),
    (
        "src/sql/webhooks.rs",
        "UPDATE webhook_endpoints SET enabled = 0",
        "the delivery worker records attempts of every brand in one batch (endpoint ids are unique)",
    ),
    (
        "src/sql/webhooks.rs",
        "UPDATE webhook_deliveries SET state = ",
        "the delivery worker records attempts of every brand in one batch (delivery ids are unique)",
    ),
    (
        "src/sql/webhooks.rs",
        "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE endpoint_id = $2",
        "the delivery worker, after a delivery, brings an endpoint's backlog forward (endpoint ids are unique)",
    ),
];

/// Helpers that add `brand_id = ...` to the statement they are given.
const BRAND_HELPERS: &[&str] = &["texts_in(", "texts_in_on(", "exec_in("];

#[test]
fn every_query_on_a_brand_table_names_the_brand() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (branded, all) = tables(&root.join("migrations"));
    assert!(
        branded.len() > 40,
        "only {} brand tables found",
        branded.len()
    );
    assert_eq!(
        all.difference(&branded).cloned().collect::<Vec<_>>(),
        // Reference tables under Citus: small, read before the brand is
        // known (a key, a slug, a failed sign-in's account or address).
        ["admin_keys", "brands", "sign_in_failures"],
        "a new table without brand_id: is it a reference table?"
    );
    let mut missing = Vec::new();
    let mut allowed_used = BTreeSet::new();
    let mut seen = 0;
    for file in rust_files(&root.join("src")) {
        let name = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let src = std::fs::read_to_string(&file).unwrap();
        for (at, line, text) in literals(&src) {
            let head = text.trim_start();
            let starts = ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"];
            if !starts
                .iter()
                .any(|k| head.len() >= k.len() && head[..k.len()].eq_ignore_ascii_case(k))
            {
                continue;
            }
            seen += 1;
            let touched: Vec<String> = referenced(head)
                .into_iter()
                .filter(|t| branded.contains(t))
                .collect();
            if touched.is_empty() || head.contains("brand_id") {
                continue;
            }
            // The call it is passed to, just before or after it.
            let around = &src[src[..at].rfind('\n').map_or(0, |i| {
                src[..i]
                    .rfind('\n')
                    .map_or(0, |j| src[..j].rfind('\n').unwrap_or(0))
            })..(at + text.len() + 200).min(src.len())];
            if BRAND_HELPERS.iter().any(|h| around.contains(h)) {
                continue;
            }
            // The longest listed beginning that fits (one may begin another).
            let listed = CROSS_BRAND
                .iter()
                .enumerate()
                .filter(|(_, (f, start, _))| *f == name && head.starts_with(start))
                .max_by_key(|(_, (_, start, _))| start.len())
                .map(|(i, _)| i);
            match listed {
                Some(i) => {
                    allowed_used.insert(i);
                }
                None => missing.push(format!(
                    "{name}:{line}: {touched:?}: {}",
                    &head[..head.len().min(120)]
                )),
            }
        }
    }
    assert!(
        seen > 200,
        "only {seen} statements read: is the scanner broken?"
    );
    assert!(
        missing.is_empty(),
        "statements on brand tables without brand_id (add the brand, or list the statement in \
         CROSS_BRAND with why it must cross brands):\n{}",
        missing.join("\n")
    );
    let stale: Vec<&str> = (0..CROSS_BRAND.len())
        .filter(|i| !allowed_used.contains(i))
        .map(|i| CROSS_BRAND[i].1)
        .collect();
    assert!(
        stale.is_empty(),
        "CROSS_BRAND lists statements no longer there: {stale:?}"
    );
}

#[test]
fn the_scanner_reads_continued_and_raw_literals() {
    let src = "let a = \"SELECT x \\\n     FROM orders WHERE id = $1\";\n// \"DELETE FROM orders\"\nlet c = '\"';\nlet b = r#\"UPDATE orders SET y = \"z\"\"#;";
    let found: Vec<String> = literals(src).into_iter().map(|(_, _, t)| t).collect();
    assert_eq!(
        found,
        [
            "SELECT x FROM orders WHERE id = $1",
            "UPDATE orders SET y = \"z\""
        ]
    );
    assert_eq!(referenced(&found[0]), ["orders"]);
}

/// Tables made by the migrations: those with a `brand_id` column, and all.
fn tables(dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut branded = BTreeSet::new();
    let mut all = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let sql = std::fs::read_to_string(&f).unwrap();
        let mut rest = sql.as_str();
        while let Some(i) = rest.find("CREATE TABLE ") {
            rest = &rest[i + "CREATE TABLE ".len()..];
            let name: String = rest
                .trim_start_matches("IF NOT EXISTS ")
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let body = &rest[..rest.find("\n);").unwrap_or(rest.len())];
            if body.contains("brand_id") {
                branded.insert(name.clone());
            }
            all.insert(name);
        }
        for line in sql.lines() {
            if let Some(r) = line.trim().strip_prefix("ALTER TABLE ")
                && let Some((table, change)) = r.split_once(' ')
                && change.contains("ADD COLUMN brand_id")
            {
                branded.insert(table.to_string());
            }
        }
    }
    (branded, all)
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The tables a statement names after `FROM`, `JOIN`, `INTO` or `UPDATE`.
fn referenced(sql: &str) -> Vec<String> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let mut out = Vec::new();
    for w in words.windows(2) {
        if ["FROM", "JOIN", "INTO", "UPDATE"]
            .iter()
            .any(|k| w[0].eq_ignore_ascii_case(k))
        {
            let t: String = w[1]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// Every string literal of Rust source (plain, with `\` line continuations
/// and escapes, or raw `r#"..."#`), outside comments and char literals:
/// `(byte offset, line, text)`.
fn literals(src: &str) -> Vec<(usize, usize, String)> {
    let b = src.as_bytes();
    let line_of = |i: usize| src[..i].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            i = src[i..].find('\n').map_or(b.len(), |j| i + j);
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal such as '"' or '\n'.
            i = src[i + 1..].find('\'').map_or(b.len(), |j| i + 1 + j + 1);
        } else if b[i..].starts_with(b"r#\"") {
            let end = src[i + 3..].find("\"#").map_or(b.len(), |j| i + 3 + j);
            out.push((i, line_of(i), src[i + 3..end].to_string()));
            i = end + 2;
        } else if b[i] == b'"' {
            let start = i;
            let mut text = String::new();
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    if b[i + 1] == b'\n' {
                        i += 2;
                        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                            i += 1;
                        }
                        continue;
                    }
                    text.push_str(&src[i..i + 2]);
                    i += 2;
                    continue;
                }
                let ch = src[i..].chars().next().unwrap();
                text.push(ch);
                i += ch.len_utf8();
            }
            out.push((start, line_of(start), text));
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}
