//! Quantities in model files: a plain amount, or one amount per value of an option.

use super::*;

/// `qty`/`minutes`: a number, or a table keyed by one option's values.
pub(crate) fn quantity(
    ctx: &mut Ctx,
    n: &Node,
    key: &str,
    by: Option<&Node>,
    options: &[OptionDef],
) -> Quantity {
    let Val::Table(entries) = &n.val else {
        if let Some(b) = by {
            ctx.err(
                b.span.start,
                format!("`by` applies only when `{key}` is a table of values"),
            );
        }
        return Quantity::Fixed(ctx.amount(n, key).unwrap_or_default());
    };
    let enumerable =
        |o: &&OptionDef| matches!(o.kind, OptionKind::Choice { .. } | OptionKind::Color { .. });
    let opt = match by {
        Some(b) => {
            let s = ctx.string(b, "by").unwrap_or_default();
            let word = condition::Word {
                text: s.clone(),
                at: ctx.content(b, &s),
            };
            let mut errs = Vec::new();
            let o = lookup(options, &word, &mut |at, m| errs.push((at, m)));
            for (at, m) in errs {
                ctx.err(at, m);
            }
            match o {
                Some(o) if !enumerable(&o) => {
                    ctx.err(
                        word.at,
                        format!(
                            "`by` needs a choice or color option; `{}` is a {} option",
                            o.id,
                            o.kind.name()
                        ),
                    );
                    None
                }
                o => o,
            }
        }
        None => {
            let fits: Vec<&OptionDef> = options
                .iter()
                .filter(enumerable)
                .filter(|o| {
                    entries
                        .iter()
                        .all(|(k, _)| domain_value(o, &k.name).is_some())
                })
                .collect();
            match fits.as_slice() {
                [o] => Some(*o),
                [] => {
                    ctx.err(
                        n.span.start,
                        format!(
                            "the keys of `{key}` are not the values of any one option; name the option with `by`"
                        ),
                    );
                    None
                }
                many => {
                    let names: Vec<&str> = many.iter().map(|o| o.id.as_str()).collect();
                    ctx.err(
                        n.span.start,
                        format!(
                            "the keys of `{key}` fit several options ({}); name one with `by`",
                            names.join(", ")
                        ),
                    );
                    None
                }
            }
        }
    };
    let mut given: Vec<(String, Decimal)> = Vec::new();
    for (k, v) in entries {
        let amount = ctx.amount(v, key).unwrap_or_default();
        match opt {
            Some(o) => match domain_value(o, &k.name) {
                Some(id) => given.push((id, amount)),
                None => ctx.err(k.span.start, not_a_value(o, &k.name)),
            },
            None => given.push((k.name.clone(), amount)),
        }
    }
    let Some(o) = opt else {
        return Quantity::ByValue {
            option: String::new(),
            by_value: given,
        };
    };
    let missing: Vec<&str> = o
        .kind
        .values()
        .iter()
        .filter(|v| !given.iter().any(|(g, _)| *g == v.id))
        .map(|v| v.id.as_str())
        .collect();
    if !missing.is_empty() {
        ctx.err(
            n.span.start,
            format!(
                "`{key}` has no entry for {} of option `{}` ({})",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                o.id,
                value_list(o)
            ),
        );
    }
    // Canonical order: the option's value order, whatever the file's.
    let by_value = o
        .kind
        .values()
        .iter()
        .filter_map(|v| given.iter().find(|(g, _)| *g == v.id).cloned())
        .collect();
    Quantity::ByValue {
        option: o.id.clone(),
        by_value,
    }
}
