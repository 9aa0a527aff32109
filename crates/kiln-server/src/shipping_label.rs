//! A shipment's label as one SVG document, 100 × 150 mm (the 4 × 6 inch
//! thermal label): the brand, the address, the carrier and service, the
//! tracking number as a Code 128 barcode with the number under it, and the
//! packing list: every parcel's packaging, weight and contents.

use std::fmt::Write as _;

use kiln_app::shipping::ShipmentLabel;

use crate::barcode::{BarcodeError, code128_svg, xml_escape};

/// Width of the label in SVG units (one unit = 0.25 mm).
const WIDTH: u32 = 400;
/// One text line.
const LINE: u32 = 22;

/// The label of `l`, as a standalone SVG.
pub fn label_svg(l: &ShipmentLabel) -> Result<String, BarcodeError> {
    let s = &l.shipment;
    let mut body = String::new();
    let mut y = 34;
    let text = |body: &mut String, y: &mut u32, size: u32, weight: &str, t: &str| {
        let _ = write!(
            body,
            r#"<text x="20" y="{y}" font-size="{size}" font-weight="{weight}">{}</text>"#,
            xml_escape(t)
        );
        *y += LINE.max(size + 6);
    };
    text(&mut body, &mut y, 18, "bold", &l.brand_name);
    y += 6;
    text(&mut body, &mut y, 13, "normal", "SHIP TO");
    let a = &l.ship_to;
    text(&mut body, &mut y, 18, "bold", &a.name);
    text(&mut body, &mut y, 16, "normal", &a.line1);
    if let Some(l2) = a.line2.as_deref().filter(|v| !v.is_empty()) {
        text(&mut body, &mut y, 16, "normal", l2);
    }
    text(
        &mut body,
        &mut y,
        16,
        "normal",
        &format!("{} {}", a.postal_code, a.city),
    );
    text(&mut body, &mut y, 18, "bold", &a.country);
    y += 8;
    let _ = write!(
        body,
        r##"<line x1="20" y1="{y}" x2="380" y2="{y}" stroke="#000" stroke-width="2"/>"##
    );
    y += 28;
    let carrier = match &l.service_name {
        Some(service) => format!("{} · {service}", l.carrier_name),
        None => l.carrier_name.clone(),
    };
    text(&mut body, &mut y, 16, "bold", &carrier);
    let bars = code128_svg(&s.tracking_number)?;
    let _ = write!(
        body,
        "{}",
        bars.replacen(
            "<svg ",
            &format!(r#"<svg x="20" y="{y}" width="360" height="90" preserveAspectRatio="none" "#),
            1
        )
    );
    y += 90 + 22;
    let _ = write!(
        body,
        r#"<text x="200" y="{y}" font-size="16" text-anchor="middle" font-family="monospace">{}</text>"#,
        xml_escape(&s.tracking_number)
    );
    y += LINE + 6;
    text(
        &mut body,
        &mut y,
        12,
        "normal",
        &format!("Order {}", s.order_id),
    );
    if let Some(p) = s.promised_date {
        text(
            &mut body,
            &mut y,
            12,
            "normal",
            &format!("Promised for {p}"),
        );
    }
    let _ = write!(
        body,
        r##"<line x1="20" y1="{y}" x2="380" y2="{y}" stroke="#000" stroke-width="1"/>"##
    );
    y += 24;
    text(&mut body, &mut y, 14, "bold", "PACKING LIST");
    let name_of = |line: i64| {
        l.contents
            .iter()
            .find(|(n, ..)| *n == line)
            .map(|(_, name, sku, _)| (name.as_str(), sku.as_str()))
    };
    // A line's units and product, then its SKU in small type under it; each
    // cut to the label's width.
    let item = |body: &mut String, y: &mut u32, line: i64, units: String, name: &str, sku: &str| {
        text(
            body,
            y,
            12,
            "normal",
            &fit(&format!("Line {line} · {units} × {name}"), 52),
        );
        *y -= 6;
        text(body, y, 10, "normal", &fit(sku, 62));
    };
    if s.parcels.is_empty() {
        for (line, name, sku, units) in &l.contents {
            item(&mut body, &mut y, *line, units.to_string(), name, sku);
        }
    }
    let n = s.parcels.len();
    for (i, p) in s.parcels.iter().enumerate() {
        let kg = (p.weight_g / rust_decimal::Decimal::ONE_THOUSAND).round_dp(2);
        text(
            &mut body,
            &mut y,
            12,
            "bold",
            &format!("Parcel {} of {n} · {} · {kg} kg", i + 1, p.packaging),
        );
        for c in &p.contents {
            let (name, sku) = name_of(c.line_no).unwrap_or(("", p.sku.as_str()));
            item(&mut body, &mut y, c.line_no, c.units.to_string(), name, sku);
        }
    }
    let height = (y + 10).max(600);
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100mm" height="{mm}mm" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Shipping label {label}" font-family="sans-serif"><rect width="{WIDTH}" height="{height}" fill="#fff"/>{body}</svg>"##,
        mm = height / 4,
        label = xml_escape(&s.tracking_number),
    ))
}

/// `t` cut to `max` characters, with an ellipsis when cut.
fn fit(t: &str, max: usize) -> String {
    if t.chars().count() <= max {
        return t.to_string();
    }
    let mut out: String = t.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The label as an `image/svg+xml` response; a tracking number a barcode
/// cannot carry is a conflict to fix on the shipment.
pub(crate) fn svg_response(
    l: &ShipmentLabel,
) -> Result<axum::response::Response, kiln_app::error::Error> {
    use axum::response::IntoResponse;
    let svg = label_svg(l).map_err(|e| {
        kiln_app::error::Error::Conflict(format!(
            "the tracking number cannot be printed as a barcode: {e}"
        ))
    })?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
