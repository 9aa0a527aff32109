//! `[[price]]`: price rules, by option value, by quantity, and quantity breaks.

use super::*;

pub(super) fn prices(ctx: &mut Ctx, n: &Node, options: &[OptionDef]) -> Vec<PriceRule> {
    let mut out = Vec::new();
    for (i, item) in ctx.tables(n, "price").into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("price {}", i + 1);
        ctx.keys(
            t,
            &[
                "label",
                "if",
                "add",
                "per_char_of",
                "min_quantity",
                "quantity_of",
            ],
            &what,
        );
        let condition = opt_condition(ctx, t, "if", options);
        let add = ctx
            .require(t, "add", item.span.start, &what)
            .and_then(|v| ctx.decimal(v, "add"))
            .unwrap_or_default();
        let per_char_of = get(t, "per_char_of").and_then(|v| {
            let s = ctx.string(v, "per_char_of")?;
            let word = condition::Word {
                text: s.clone(),
                at: ctx.content(v, &s),
            };
            let mut errs = Vec::new();
            let o = lookup(options, &word, &mut |at, m| errs.push((at, m)));
            for (at, m) in errs {
                ctx.err(at, m);
            }
            if let Some(o) = o
                && !matches!(o.kind, OptionKind::Text { .. })
            {
                ctx.err(
                    word.at,
                    format!(
                        "`per_char_of` needs a text option; `{}` is a {} option",
                        o.id,
                        o.kind.name()
                    ),
                );
            }
            Some(s)
        });
        let label =
            ctx.opt_string(t, "label")
                .unwrap_or_else(|| match get(t, "if").map(|v| &v.val) {
                    Some(Val::Str(s)) => s.clone(),
                    _ => format!("price-{}", i + 1),
                });
        let min_quantity = match get(t, "min_quantity") {
            Some(v) => {
                let n = ctx.u32(v, "min_quantity").unwrap_or(1);
                if n == 0 {
                    ctx.err(v.span.start, "`min_quantity` is at least 1");
                }
                n.max(1)
            }
            None => 1,
        };
        let quantity_of = match get(t, "quantity_of") {
            Some(v) => {
                let s = ctx.string(v, "quantity_of").unwrap_or_default();
                match s.as_str() {
                    "line" => QuantityOf::Line,
                    "order" => QuantityOf::Order,
                    _ => {
                        let at = ctx.content(v, &s);
                        ctx.err(
                            at,
                            format!("`quantity_of` is \"line\" or \"order\", not `{s}`"),
                        );
                        QuantityOf::Line
                    }
                }
            }
            None => QuantityOf::Line,
        };
        if let Some(v) = get(t, "quantity_of")
            && get(t, "min_quantity").is_none()
        {
            ctx.err(
                v.span.start,
                "`quantity_of` needs a `min_quantity`: the units from which the price holds",
            );
        }
        out.push(PriceRule {
            label,
            condition,
            add,
            per_char_of,
            min_quantity,
            quantity_of,
            span: ctx.span(item.span.start),
        });
    }
    out
}
