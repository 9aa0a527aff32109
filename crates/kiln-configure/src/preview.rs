//! The SVG preview: every layer whose condition holds, with `{option}`
//! placeholders replaced by the option's XML-escaped value.

use kiln_model::{Product, Quantity};
use rust_decimal::Decimal;

use crate::Selections;

pub(crate) fn svg(product: &Product, config: &Selections) -> String {
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{}">"#,
        escape(&product.preview.view_box)
    );
    let transform = scale_of(product, config);
    for layer in &product.preview.layers {
        if layer.condition.holds(config) {
            let wrap = transform.as_deref().filter(|_| layer.scaled);
            if let Some(t) = wrap {
                out.push_str(&format!(r#"<g transform="{t}">"#));
            }
            match layer.fit {
                None => substitute(&layer.svg, product, config, &mut out),
                Some(width) => {
                    let mut drawn = String::new();
                    substitute(&layer.svg, product, config, &mut drawn);
                    out.push_str(&fit(&drawn, width));
                }
            }
            if wrap.is_some() {
                out.push_str("</g>");
            }
        }
    }
    out.push_str("</svg>");
    out
}

/// The `transform` that draws the chosen size in proportion, or `None` when
/// it is drawn as it is (no `[preview.scale]`, no value chosen, factor 1).
fn scale_of(product: &Product, config: &Selections) -> Option<String> {
    let scale = product.preview.scale.as_ref()?;
    let factor = match &scale.factor {
        Quantity::Fixed(f) => *f,
        Quantity::ByValue { option, by_value } => {
            let chosen = config.get(option)?;
            by_value.iter().find(|(v, _)| v == chosen)?.1
        }
    };
    if factor == Decimal::ONE {
        return None;
    }
    let (x, y) = scale.origin;
    Some(format!(
        "translate({x} {y}) scale({}) translate({} {})",
        factor.normalize(),
        -x,
        -y
    ))
}

/// Only `{id}` of a declared option is a placeholder; other braces (CSS in a
/// `<style>` layer, say) are copied as they are.
fn substitute(svg: &str, product: &Product, config: &Selections, out: &mut String) {
    let mut rest = svg;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if product.option(&after[..close]).is_some() => {
                if let Some(v) = config.get(&after[..close]) {
                    out.push_str(&escape(v));
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// A layer with `fit`: when its first `<text>` would be wider than `width`
/// (estimated from its `font-size` and the widths of its letters), it gets
/// `textLength`, so the browser draws it narrower instead of past the
/// drawing's edge. Shorter texts keep their natural spacing.
fn fit(svg: &str, width: u32) -> String {
    let Some(open) = svg.find("<text") else {
        return svg.to_string();
    };
    let Some(gt) = svg[open..].find('>').map(|k| open + k) else {
        return svg.to_string();
    };
    let tag = &svg[open..gt];
    let content = svg[gt + 1..].split("</text>").next().unwrap_or_default();
    let size = attribute(tag, "font-size")
        .and_then(|v| v.trim_end_matches("px").parse::<f64>().ok())
        .unwrap_or(16.0);
    if text_width(&unescape(content), size) <= f64::from(width) {
        return svg.to_string();
    }
    let at = open + "<text".len();
    format!(
        r#"{} textLength="{width}" lengthAdjust="spacingAndGlyphs"{}"#,
        &svg[..at],
        &svg[at..]
    )
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// Roughly how wide `text` is drawn at `size`: narrow, wide and capital
/// letters apart (a serif or sans face; generous, so a fit is never late).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | 'I' | '.' | ',' | '\'' | '!' | ' ' | '|' => 0.32,
            'W' | 'M' | 'm' | 'w' | '@' | '%' | '&' => 0.95,
            c if c.is_uppercase() => 0.72,
            c if c.is_ascii_digit() => 0.55,
            _ => 0.56,
        })
        .sum::<f64>()
        * size
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Escapes the five characters XML gives a meaning, for text and attribute
/// values (the preview's placeholders, labels drawn as SVG).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_fitted_and_a_short_one_left_alone() {
        let layer = |t: &str| format!(r#"<text x="100" font-size="8">{t}</text>"#);
        assert_eq!(fit(&layer("Ada"), 52), layer("Ada"));
        let wide = fit(&layer("WWWWWWWWWWWW"), 52);
        assert_eq!(
            wide,
            r#"<text textLength="52" lengthAdjust="spacingAndGlyphs" x="100" font-size="8">WWWWWWWWWWWW</text>"#
        );
        // Entities count as the character they stand for.
        assert_eq!(fit(&layer("A &amp; B"), 52), layer("A &amp; B"));
        assert_eq!(fit("<rect/>", 10), "<rect/>");
    }
}
