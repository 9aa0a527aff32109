//! The SVG preview: every layer whose condition holds, with `{option}`
//! placeholders replaced by the option's XML-escaped value.

use kiln_model::Product;

use crate::Selections;

pub(crate) fn svg(product: &Product, config: &Selections) -> String {
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{}">"#,
        escape(&product.preview.view_box)
    );
    for layer in &product.preview.layers {
        if layer.condition.holds(config) {
            substitute(&layer.svg, product, config, &mut out);
        }
    }
    out.push_str("</svg>");
    out
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

fn escape(s: &str) -> String {
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
