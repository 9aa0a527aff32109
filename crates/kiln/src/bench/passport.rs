//! `kiln bench passport`: what a passport costs. Signs `--units` passports
//! the size of a demo mug's (with the label's signed summary and its QR code
//! drawn as SVG, as `GET .../qr.svg` does), then verifies them all offline on
//! one thread, as `kiln passport verify` does. The issue's goals: signing and
//! QR drawing at most 1 ms per unit, at least 10,000 verifications a second.

use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;

#[derive(clap::Args)]
pub struct PassportArgs {
    /// Passports to sign and verify.
    #[arg(long, default_value_t = 10_000)]
    units: usize,
}

pub fn run(args: PassportArgs) -> anyhow::Result<ExitCode> {
    let n = args.units.max(1);
    let (signer, jwks) = kiln_app::passport::Signer::generate("bench-1")?;
    let keys = serde_json::to_string(&jwks)?;
    let payload = |i: usize| {
        json!({
            "type": "kiln.passport", "version": 1, "serial": format!("{i:016X}"),
            "brand": "demo", "factory": "Kiln Demo Works",
            "product": { "id": "mug", "name": "Ceramic mug" },
            "sku": "MUG-L-TALL-1D3557-STRIPES",
            "configuration": { "size": "L", "shape": "tall", "glaze": "#1d3557", "pattern": "stripes" },
            "catalog_version": 1,
            "materials": [
                { "material": "stoneware-clay", "name": "Stoneware clay", "unit": "kg", "quantity": "0.46" },
                { "material": "glaze", "name": "Glaze (mixed to colour)", "unit": "kg", "quantity": "0.07" },
                { "material": "pattern-decal", "name": "Ceramic decal sheet", "unit": "pcs", "quantity": "1" },
                { "material": "mug-box", "name": "Mug gift box", "unit": "pcs", "quantity": "1" }
            ],
            "operations": (1..=6).map(|k| json!({
                "seq": k, "operation": format!("op-{k}"), "name": "Throw on the wheel",
                "work_center": "wheel", "machine": "wheel #1",
                "started_at": "2026-12-04T09:00:00Z", "completed_at": "2026-12-04T09:30:00Z", "done": true
            })).collect::<Vec<_>>(),
            "work_order": "wo_01a240c70f1e77529a6c1e15d1cc9ee0",
            "made_at": "2026-12-04T12:00:00Z", "warranty_until": "2028-12-04",
            "issued_at": "2026-12-04T12:00:01Z"
        })
    };

    // Sign each passport, its label summary, and draw the label's QR code.
    let start = Instant::now();
    let mut passports = Vec::with_capacity(n);
    let mut qr_bytes = 0;
    let (mut encode, mut draw) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for i in 0..n {
        let p = payload(i);
        let jws = signer.sign(&p);
        let summary = json!({
            "serial": p["serial"], "brand": "demo", "sku": p["sku"],
            "configuration": p["configuration"], "made_at": p["made_at"],
            "warranty_until": p["warranty_until"], "passport_sha256": "0".repeat(64),
        });
        let uri = format!(
            // The demo mug's label: a GTIN, so the longer root form.
            "https://kiln.example/01/09506000134352/21/{}?pp={}",
            p["serial"].as_str().unwrap_or_default(),
            signer.sign(&summary)
        );
        let t = Instant::now();
        let code = fast_qr::QRBuilder::new(uri.as_bytes())
            .ecl(fast_qr::ECL::L)
            .build()
            .map_err(|e| anyhow::anyhow!("no QR code: {e:?}"))?;
        encode += t.elapsed();
        let t = Instant::now();
        let svg = fast_qr::convert::svg::SvgBuilder::default().to_str(&code);
        draw += t.elapsed();
        qr_bytes += svg.len();
        passports.push(jws);
    }
    let issue = start.elapsed();

    // Verify them all offline, one thread.
    let start = Instant::now();
    let mut good = 0;
    for jws in &passports {
        if kiln_app::passport::verify(jws, &keys).is_ok() {
            good += 1;
        }
    }
    let verify = start.elapsed();
    let per_unit_ms = issue.as_secs_f64() * 1e3 / n as f64;
    let per_second = n as f64 / verify.as_secs_f64();
    println!(
        "passports: {n} signed with label summary and QR (SVG, {} KB each) in {:.2} s: {per_unit_ms:.3} ms per unit (goal <= 1 ms; QR encoding {:.3} ms, SVG {:.3} ms)",
        qr_bytes / n / 1024,
        issue.as_secs_f64(),
        encode.as_secs_f64() * 1e3 / n as f64,
        draw.as_secs_f64() * 1e3 / n as f64
    );
    println!(
        "verified offline, one thread: {good}/{n} in {:.2} s: {per_second:.0} per second (goal >= 10,000)",
        verify.as_secs_f64()
    );
    println!(
        "{}",
        json!({ "units": n, "sign_and_qr_ms_per_unit": per_unit_ms, "verify_per_second": per_second, "verified": good })
    );
    Ok(if good == n {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
