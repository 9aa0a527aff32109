//! `kiln import sales --format online-retail FILE`: a retailer's
//! transaction export loaded into a running server through the tracking
//! API, as any client of it would: each invoice an `Order Completed` (a
//! cancelled one, `C...`, an `Order Refunded`) of the customer
//! (`CustomerID` as their user id; a guest invoice under an anonymous id
//! of its own), with the invoice's country as its store. A bad line is
//! reported with its line number and skipped, never the file. The message
//! id is the invoice's: importing the file again adds nothing.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};

#[derive(clap::Subcommand)]
pub enum ImportCommand {
    /// Sales transactions, as tracked events of each customer and store.
    Sales(SalesArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The UCI Online Retail export: InvoiceNo, StockCode, Description,
    /// Quantity, InvoiceDate, UnitPrice, CustomerID, Country.
    OnlineRetail,
}

#[derive(clap::Args)]
pub struct SalesArgs {
    #[arg(long, value_enum)]
    format: Format,
    /// The file (`.gz` is read as gzip).
    file: PathBuf,
    /// The platform, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    url: String,
    #[arg(long)]
    brand: String,
    /// A write key (`kiln_wk_...`), or a brand key with `profiles:write` to
    /// make one.
    #[arg(long, env = "KILN_KEY")]
    key: String,
    /// The currency of the file's prices.
    #[arg(long, default_value = "GBP")]
    currency: String,
}

pub fn run(cmd: ImportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ImportCommand::Sales(args) => tokio::runtime::Runtime::new()?.block_on(sales(args)),
    }
}

/// Products one event carries: a bigger invoice is sent in parts, each
/// under Segment's 32 KB.
const PRODUCTS_PER_EVENT: usize = 100;
/// Bytes of events per batch request, under Segment's 500 KB.
const BATCH_BYTES: usize = 400 * 1024;

/// One line of the export, checked.
#[derive(Debug)]
struct Line {
    invoice: String,
    stock_code: String,
    description: String,
    quantity: i64,
    at: String,
    price: f64,
    customer: Option<String>,
    country: String,
}

fn parse_line(r: &csv::StringRecord) -> Result<Line, String> {
    let get = |i: usize, name: &str| -> Result<&str, String> {
        r.get(i)
            .map(str::trim)
            .ok_or_else(|| format!("no {name} column"))
    };
    let invoice = get(0, "InvoiceNo")?;
    if invoice.is_empty() {
        return Err("InvoiceNo is empty".into());
    }
    let quantity: i64 = get(3, "Quantity")?.parse().map_err(|_| {
        format!(
            "Quantity `{}` is not a whole number",
            get(3, "Quantity").unwrap_or("")
        )
    })?;
    let date = get(4, "InvoiceDate")?;
    let at = date
        .parse::<jiff::civil::DateTime>()
        .map_err(|_| format!("InvoiceDate `{date}` is not a date and time"))?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| e.to_string())?
        .timestamp()
        .to_string();
    let price: f64 = get(5, "UnitPrice")?.parse().map_err(|_| {
        format!(
            "UnitPrice `{}` is not a number",
            get(5, "UnitPrice").unwrap_or("")
        )
    })?;
    if !price.is_finite() {
        return Err("UnitPrice is not a number".into());
    }
    let customer = get(6, "CustomerID")?;
    let customer = (!customer.is_empty()).then(|| customer.trim_end_matches(".0").to_string());
    Ok(Line {
        invoice: invoice.to_string(),
        stock_code: get(1, "StockCode")?.to_string(),
        description: get(2, "Description")?.to_string(),
        quantity,
        at,
        price,
        customer,
        country: get(7, "Country")?.to_string(),
    })
}

/// A store id from a country's name: `United Kingdom` is `united-kingdom`.
fn store_of(country: &str) -> String {
    let mut out = String::new();
    for c in country.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The events of one invoice's lines; `occurrence` counts the earlier runs
/// of lines of the same invoice in the file (they are not always together),
/// so that each run has message ids of its own, the same on every import.
fn invoice_events(lines: &[Line], currency: &str, occurrence: usize) -> Vec<Value> {
    let first = &lines[0];
    let refund = first.invoice.starts_with('C');
    let total: f64 = lines.iter().map(|l| l.price * l.quantity as f64).sum();
    let parts = lines.len().div_ceil(PRODUCTS_PER_EVENT);
    lines
        .chunks(PRODUCTS_PER_EVENT)
        .enumerate()
        .map(|(n, chunk)| {
            let mut e = json!({
                "type": "track",
                "event": if refund { "Order Refunded" } else { "Order Completed" },
                "messageId": match (occurrence, parts) {
                    (0, 1) => format!("retail-{}", first.invoice),
                    (0, _) => format!("retail-{}-{}", first.invoice, n + 1),
                    (k, _) => format!("retail-{}-run{}-{}", first.invoice, k + 1, n + 1),
                },
                "timestamp": first.at,
                "context": {"store_id": store_of(&first.country), "channel": "store", "library": {"name": "kiln import"}},
                "properties": {
                    "order_id": first.invoice, "currency": currency,
                    "total": format!("{total:.2}"), "part": n + 1, "parts": parts,
                    "products": chunk.iter().map(|l| json!({"product_id": l.stock_code, "name": l.description,
                        "quantity": l.quantity, "price": l.price})).collect::<Vec<_>>(),
                },
            });
            match &first.customer {
                Some(c) => e["userId"] = c.clone().into(),
                None => e["anonymousId"] = format!("guest-{}", first.invoice).into(),
            }
            e
        })
        .collect()
}

async fn write_key(http: &reqwest::Client, args: &SalesArgs) -> anyhow::Result<String> {
    if args.key.starts_with("kiln_wk_") {
        return Ok(args.key.clone());
    }
    let url = format!(
        "{}/api/v1/brands/{}/write-keys",
        args.url.trim_end_matches('/'),
        args.brand
    );
    let r = http
        .post(&url)
        .bearer_auth(&args.key)
        .json(&json!({"name": "kiln import sales"}))
        .send()
        .await
        .with_context(|| format!("reaching {url}"))?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "making a write key: {status} {}",
            body["detail"].as_str().unwrap_or("")
        );
    }
    body["write_key"]
        .as_str()
        .map(str::to_string)
        .context("the server answered without a write key")
}

async fn sales(args: SalesArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let reader = bar.wrap_read(file);
    let reader: Box<dyn Read> = if args.file.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let http = reqwest::Client::new();
    let key = write_key(&http, &args).await?;
    let endpoint = format!("{}/v1/batch", args.url.trim_end_matches('/'));
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let (mut lines_ok, mut bad, mut invoices, mut events) = (0u64, 0u64, 0u64, 0u64);
    // Refused, kept and already there, as the server answered.
    let mut answers = [0u64; 3];
    let add = |answers: &mut [u64; 3], a: [u64; 3]| (0..3).for_each(|i| answers[i] += a[i]);
    let mut invoice: Vec<Line> = Vec::new();
    let mut batch: Vec<String> = Vec::new();
    let mut batch_bytes = 0;
    // Batches go out two at a time while the file is read.
    let mut sending: Vec<tokio::task::JoinHandle<anyhow::Result<[u64; 3]>>> = Vec::new();
    let send = |calls: Vec<String>| {
        let (http, endpoint, key) = (http.clone(), endpoint.clone(), key.clone());
        tokio::spawn(async move {
            let body = format!("{{\"batch\":[{}]}}", calls.join(","));
            let r = http
                .post(&endpoint)
                .basic_auth(&key, Some(""))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await?;
            let status = r.status();
            let body: Value = r.json().await.unwrap_or_default();
            if !status.is_success() {
                bail!(
                    "the server refused a batch: {status} {}",
                    body["detail"].as_str().unwrap_or("")
                );
            }
            let count = |k: &str| body[k].as_u64().unwrap_or(0);
            Ok([
                body["rejected"].as_array().map_or(0, |r| r.len() as u64),
                count("kept"),
                count("duplicates"),
            ])
        })
    };
    let mut runs: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut flush_invoice = |invoice: &mut Vec<Line>,
                             batch: &mut Vec<String>,
                             batch_bytes: &mut usize,
                             invoices: &mut u64,
                             events: &mut u64| {
        if invoice.is_empty() {
            return;
        }
        let occurrence = runs.entry(invoice[0].invoice.clone()).or_insert(0);
        for e in invoice_events(invoice, &args.currency, *occurrence) {
            let text = e.to_string();
            *batch_bytes += text.len() + 1;
            batch.push(text);
            *events += 1;
        }
        *occurrence += 1;
        *invoices += 1;
        invoice.clear();
    };
    for (n, record) in csv.records().enumerate() {
        let line_no = n + 2; // the header is line 1
        let line = record
            .map_err(|e| e.to_string())
            .and_then(|r| parse_line(&r));
        match line {
            Ok(l) => {
                if invoice.first().is_some_and(|f| f.invoice != l.invoice) {
                    flush_invoice(
                        &mut invoice,
                        &mut batch,
                        &mut batch_bytes,
                        &mut invoices,
                        &mut events,
                    );
                }
                invoice.push(l);
                lines_ok += 1;
            }
            Err(e) => {
                bad += 1;
                bar.suspend(|| eprintln!("{}:{line_no}: {e}; line skipped", args.file.display()));
            }
        }
        if batch_bytes >= BATCH_BYTES {
            if sending.len() >= 2 {
                add(&mut answers, sending.remove(0).await??);
            }
            sending.push(send(std::mem::take(&mut batch)));
            batch_bytes = 0;
            bar.set_message(format!("{invoices} invoices"));
        }
    }
    flush_invoice(
        &mut invoice,
        &mut batch,
        &mut batch_bytes,
        &mut invoices,
        &mut events,
    );
    if !batch.is_empty() {
        sending.push(send(std::mem::take(&mut batch)));
    }
    for s in sending {
        add(&mut answers, s.await??);
    }
    let [refused, kept, duplicates] = answers;
    bar.finish_and_clear();
    println!(
        "read {} lines as {} invoices ({} events) in {:.1} s; {} bad lines skipped; \
         the server kept {} events, {} were there already (imported before), {} refused",
        lines_ok,
        invoices,
        events,
        start.elapsed().as_secs_f64(),
        bad,
        kept,
        duplicates,
        refused
    );
    Ok(if refused > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn a_line_parses_and_a_bad_one_says_why() {
        let l = parse_line(&record(&[
            "536365",
            "85123A",
            "WHITE HANGING HEART",
            "6",
            "2010-12-01 08:26:00",
            "2.55",
            "17850.0",
            "United Kingdom",
        ]))
        .unwrap();
        assert_eq!(l.customer.as_deref(), Some("17850"));
        assert_eq!(l.at, "2010-12-01T08:26:00Z");
        assert_eq!(store_of(&l.country), "united-kingdom");
        let bad = parse_line(&record(&[
            "536365",
            "85123A",
            "X",
            "six",
            "2010-12-01 08:26:00",
            "2.55",
            "",
            "France",
        ]));
        assert!(bad.unwrap_err().contains("Quantity `six`"));
    }

    #[test]
    fn a_big_invoice_goes_in_parts_under_segments_limit() {
        let lines: Vec<Line> = (0..250)
            .map(|i| Line {
                invoice: "C1".into(),
                stock_code: format!("S{i}"),
                description: "A LONG DESCRIPTION OF A THING".into(),
                quantity: -1,
                at: "2010-12-01T08:26:00Z".into(),
                price: 1.5,
                customer: None,
                country: "EIRE".into(),
            })
            .collect();
        let events = invoice_events(&lines, "GBP", 0);
        assert_eq!(
            invoice_events(&lines[..1], "GBP", 1)[0]["messageId"],
            "retail-C1-run2-1"
        );
        assert_eq!(events.len(), 3);
        assert!(events.iter().all(|e| e.to_string().len() < 32 * 1024));
        assert_eq!(events[0]["event"], "Order Refunded");
        assert_eq!(events[2]["messageId"], "retail-C1-3");
        assert_eq!(events[0]["anonymousId"], "guest-C1");
    }
}
