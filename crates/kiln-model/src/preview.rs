//! `[preview]` of a product file: the view box, the layers drawn when their
//! condition holds (with `{option}` placeholders and `fit`), and
//! `[preview.scale]`, which draws the product in proportion to one option.

use rust_decimal::Decimal;

use crate::condition;
use crate::ctx::{Ctx, get};
use crate::parse::{DEFAULT_VIEW_BOX, opt_condition, quantity};
use crate::tree::{Node, Val};
use crate::{OptionDef, Preview, PreviewLayer, PreviewScale, Quantity};

pub(crate) fn preview(ctx: &mut Ctx, n: &Node, options: &[OptionDef]) -> Preview {
    let mut p = Preview {
        view_box: DEFAULT_VIEW_BOX.into(),
        layers: Vec::new(),
        scale: None,
    };
    let Some(t) = ctx.table(n, "preview") else {
        return p;
    };
    ctx.keys(t, &["view_box", "layer", "scale"], "[preview]");
    if let Some(s) = get(t, "scale") {
        p.scale = preview_scale(ctx, s, options);
    }
    if let Some(v) = get(t, "view_box")
        && let Some(s) = ctx.string(v, "view_box")
    {
        let nums = s
            .split_whitespace()
            .filter_map(|x| x.parse::<f64>().ok())
            .count();
        if nums != 4 || s.split_whitespace().count() != 4 {
            let at = ctx.content(v, &s);
            ctx.err(
                at,
                format!("`view_box` must be four numbers like \"{DEFAULT_VIEW_BOX}\""),
            );
        }
        p.view_box = s;
    }
    let Some(layers) = get(t, "layer") else {
        return p;
    };
    for (i, item) in ctx.tables(layers, "layer").into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("preview layer {}", i + 1);
        ctx.keys(t, &["svg", "if", "fit", "scale"], &what);
        let scaled = get(t, "scale")
            .and_then(|v| ctx.boolean(v, "scale"))
            .unwrap_or(true);
        let svg = match ctx.require(t, "svg", item.span.start, &what) {
            Some(v) => {
                let s = ctx.string(v, "svg").unwrap_or_default();
                for (off, name) in placeholders(&s) {
                    if !options.iter().any(|o| o.id == name) {
                        let at = ctx.lines.in_string(v.span.start, &s, off);
                        ctx.err(
                            at,
                            format!(
                                "unknown option `{name}` in placeholder (options are: {})",
                                condition::option_list(options)
                            ),
                        );
                    }
                }
                s
            }
            None => String::new(),
        };
        let condition = opt_condition(ctx, t, "if", options);
        let fit = get(t, "fit").and_then(|v| match ctx.u32(v, "fit") {
            Some(0) => {
                ctx.err(v.span.start, "`fit` is a width of at least 1");
                None
            }
            w => w,
        });
        if fit.is_some() && !svg.contains("<text") {
            ctx.err(
                item.span.start,
                format!("{what} has `fit` but no <text> to fit"),
            );
        }
        p.layers.push(PreviewLayer {
            svg,
            condition,
            fit,
            scaled,
            span: ctx.span(item.span.start),
        });
    }
    p
}

/// The largest factor `[preview.scale]` takes: past it a drawing leaves any
/// sensible view box.
const MAX_SCALE: Decimal = Decimal::from_parts(5, 0, 0, false, 0);

/// `[preview.scale]`: `factor` per value (with an optional `by`, as a BOM's
/// `qty`), each above 0 and at most 5, and `origin = [x, y]`.
fn preview_scale(ctx: &mut Ctx, n: &Node, options: &[OptionDef]) -> Option<PreviewScale> {
    let t = ctx.table(n, "scale")?;
    ctx.keys(t, &["by", "factor", "origin"], "[preview.scale]");
    let factor = match ctx.require(t, "factor", n.span.start, "[preview.scale]") {
        Some(v) => {
            let q = quantity(ctx, v, "factor", get(t, "by"), options);
            let values: Vec<Decimal> = match &q {
                Quantity::Fixed(d) => vec![*d],
                Quantity::ByValue { by_value, .. } => by_value.iter().map(|(_, d)| *d).collect(),
            };
            if values.iter().any(|d| d.is_zero() || *d > MAX_SCALE) {
                ctx.err(v.span.start, "every `factor` is above 0 and at most 5");
            }
            q
        }
        None => return None,
    };
    let origin = match get(t, "origin") {
        None => (Decimal::from(100), Decimal::from(100)),
        Some(o) => {
            let xy = match &o.val {
                Val::Array(items) if items.len() == 2 => {
                    let x = ctx.decimal(&items[0], "origin");
                    let y = ctx.decimal(&items[1], "origin");
                    x.zip(y)
                }
                _ => {
                    ctx.err(o.span.start, "`origin` is two numbers, `[x, y]`");
                    None
                }
            };
            xy?
        }
    };
    Some(PreviewScale { factor, origin })
}

/// `{name}` placeholders in an SVG fragment with the byte offset of `name`.
/// Only a brace directly around one word counts, so CSS blocks (`{ fill: red }`)
/// pass through untouched.
pub(crate) fn placeholders(svg: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(i) = svg[rest..].find('{') {
        let start = rest + i + 1;
        let len = svg[start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(svg.len() - start);
        if len > 0 && svg[start + len..].starts_with('}') {
            out.push((start, &svg[start..start + len]));
        }
        rest = start;
    }
    out
}
