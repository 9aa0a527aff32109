//! `[[table]]`: extensional constraints, their tuples written as text.

use super::*;

/// `[[table]]`: an extensional constraint. `supports` or `conflicts` holds the
/// tuples as text, one per line (or separated by `|`), values separated by
/// spaces, in `scope` order.
pub(super) fn tables(ctx: &mut Ctx, n: &Node, options: &[OptionDef]) -> Vec<TableConstraint> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (i, item) in ctx.tables(n, "table").into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("table {}", i + 1);
        ctx.keys(
            t,
            &["id", "scope", "supports", "conflicts", "message"],
            &what,
        );
        let id = match get(t, "id") {
            Some(v) => {
                let id = ctx.string(v, "id").unwrap_or_default();
                let at = ctx.content(v, &id);
                unique(ctx, &mut seen, &id, at, "table id");
                id
            }
            None => format!("table-{}", i + 1),
        };
        let mut scope = Vec::new();
        let mut ok = true;
        if let Some(v) = ctx.require(t, "scope", item.span.start, &what) {
            match &v.val {
                Val::Array(items) if !items.is_empty() => {
                    for it in items {
                        let Some(name) = ctx.string(it, "scope") else {
                            ok = false;
                            continue;
                        };
                        let at = ctx.content(it, &name);
                        match options.iter().position(|o| o.id == name) {
                            None => {
                                ctx.err(
                                    at,
                                    format!("unknown option `{name}` in the scope of {what}"),
                                );
                                ok = false;
                            }
                            Some(k) if options[k].kind.values().is_empty() => {
                                ctx.err(
                                    at,
                                    format!(
                                        "option `{name}` in a table must be a choice or colour"
                                    ),
                                );
                                ok = false;
                            }
                            Some(k) if scope.contains(&k) => {
                                ctx.err(
                                    at,
                                    format!("option `{name}` is twice in the scope of {what}"),
                                );
                                ok = false;
                            }
                            Some(k) => scope.push(k),
                        }
                    }
                }
                _ => {
                    ctx.err(
                        v.span.start,
                        "`scope` must be a non-empty list of option ids",
                    );
                    ok = false;
                }
            }
        } else {
            ok = false;
        }
        let (kind, body) = match (get(t, "supports"), get(t, "conflicts")) {
            (Some(v), None) => (TableKind::Supports, v),
            (None, Some(v)) => (TableKind::Conflicts, v),
            (Some(_), Some(v)) => {
                ctx.err(
                    v.span.start,
                    format!("{what} has both `supports` and `conflicts`"),
                );
                continue;
            }
            (None, None) => {
                ctx.err(
                    item.span.start,
                    format!("missing `supports` or `conflicts` in {what}"),
                );
                continue;
            }
        };
        let Some(text) = ctx.string(
            body,
            if kind == TableKind::Supports {
                "supports"
            } else {
                "conflicts"
            },
        ) else {
            continue;
        };
        let message = ctx.opt_string(t, "message").unwrap_or_else(|| id.clone());
        if !ok {
            continue;
        }
        let mut tuples = Vec::new();
        let mut dedup = std::collections::HashSet::new();
        let mut bad = false;
        for (off, raw) in tuple_texts(&text) {
            let words: Vec<(usize, &str)> = words(raw).collect();
            if words.is_empty() {
                continue;
            }
            if words.len() != scope.len() {
                let at = ctx.lines.in_string(body.span.start, &text, off);
                ctx.err(
                    at,
                    format!(
                        "a tuple of {what} has {} values; its scope has {}",
                        words.len(),
                        scope.len()
                    ),
                );
                bad = true;
                continue;
            }
            let mut tuple = Vec::with_capacity(scope.len());
            for (&k, (w_off, w)) in scope.iter().zip(&words) {
                match options[k].kind.values().iter().position(|v| v.id == *w) {
                    Some(x) => tuple.push(x as u32),
                    None => {
                        let at = ctx.lines.in_string(body.span.start, &text, off + w_off);
                        ctx.err(at, format!("`{w}` is not a value of `{}`", options[k].id));
                        bad = true;
                    }
                }
            }
            if tuple.len() == scope.len() && dedup.insert(tuple.clone()) {
                tuples.extend(tuple);
            }
        }
        if bad {
            continue;
        }
        out.push(TableConstraint {
            id,
            scope,
            kind,
            tuples,
            message,
            span: ctx.span(item.span.start),
        });
    }
    out
}

/// Tuples of a table body with their byte offsets: split at newlines and `|`.
pub(super) fn tuple_texts(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.char_indices()
        .filter(|(_, c)| *c == '\n' || *c == '|')
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            let s = (start, &text[start..end]);
            start = end + 1;
            s
        })
}

/// Whitespace-separated words with their byte offsets.
pub(super) fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split_ascii_whitespace()
        .map(move |w| (w.as_ptr() as usize - s.as_ptr() as usize, w))
}
