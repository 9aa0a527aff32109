//! `[option.*]`: an option's kind, values (with aliases and colours) and default.

use super::*;

/// An option and where each of its aliases is written (for the product-wide
/// uniqueness check).
pub(super) fn option(
    ctx: &mut Ctx,
    key: &tree::Key,
    n: &Node,
) -> Option<(OptionDef, Vec<(String, usize)>)> {
    let id = key.name.clone();
    let what = format!("option `{id}`");
    if !valid_option_id(&id) {
        ctx.err(
            key.span.start,
            format!(
                "option id `{id}` must be one word of letters, digits, `_` or `-`, and not and/or/not/in"
            ),
        );
    }
    let t = ctx.table(n, &id)?;
    let kind_name = match get(t, "kind") {
        None => "choice".to_owned(),
        Some(k) => ctx.string(k, "kind")?,
    };
    let Some((_, specific)) = KINDS.iter().find(|(k, _)| *k == kind_name) else {
        let k = get(t, "kind")?;
        let at = ctx.content(k, &kind_name);
        ctx.err(
            at,
            format!("unknown option kind `{kind_name}` (kinds are: choice, color, text, number)"),
        );
        return None;
    };
    for (k, _) in t.iter() {
        let name = k.name.as_str();
        if OPTION_COMMON.contains(&name) || specific.contains(&name) {
            continue;
        }
        if let Some((other, _)) = KINDS.iter().find(|(_, keys)| keys.contains(&name)) {
            ctx.err(
                k.span.start,
                format!(
                    "`{name}` belongs to {other} options; {what} is a {kind_name} option (set `kind = \"{other}\"`?)"
                ),
            );
        } else {
            let mut allowed = OPTION_COMMON.to_vec();
            allowed.extend_from_slice(specific);
            ctx.err(
                k.span.start,
                format!(
                    "unknown key `{name}` in {what} (expected one of: {})",
                    allowed.join(", ")
                ),
            );
        }
    }
    let name = ctx.opt_string(t, "name").unwrap_or_else(|| id.clone());
    let aliases = aliases(ctx, t);
    let optional = get(t, "optional")
        .and_then(|v| ctx.boolean(v, "optional"))
        .unwrap_or(false);
    let at = n.span.start;
    let kind = match kind_name.as_str() {
        "choice" => OptionKind::Choice {
            values: values(ctx, t, "values", at, &what, false),
        },
        "color" => OptionKind::Color {
            values: values(ctx, t, "palette", at, &what, true),
        },
        "text" => OptionKind::Text {
            max_length: match ctx.require(t, "max_length", at, &what) {
                Some(v) => match ctx.u32(v, "max_length") {
                    Some(0) => {
                        ctx.err(v.span.start, "`max_length` must be at least 1");
                        1
                    }
                    Some(m) => m,
                    None => u32::MAX,
                },
                None => u32::MAX,
            },
            characters: get(t, "characters").and_then(|v| {
                let source = ctx.string(v, "characters")?;
                crate::text::Characters::parse(&source)
                    .map_err(|e| ctx.err(v.span.start, e))
                    .ok()
            }),
        },
        _ => {
            let min = ctx
                .require(t, "min", at, &what)
                .and_then(|v| ctx.decimal(v, "min"));
            let max_node = ctx.require(t, "max", at, &what);
            let max = max_node.and_then(|v| ctx.decimal(v, "max"));
            if let (Some(lo), Some(hi), Some(v)) = (min, max, max_node)
                && lo > hi
            {
                ctx.err(
                    v.span.start,
                    format!("`max` ({hi}) is below `min` ({lo}) in {what}"),
                );
            }
            OptionKind::Number {
                min: min.unwrap_or(Decimal::MIN),
                max: max.unwrap_or(Decimal::MAX),
                unit: ctx.opt_string(t, "unit").unwrap_or_default(),
            }
        }
    };
    let mut o = OptionDef {
        id,
        name,
        aliases: aliases.iter().map(|(a, _)| a.clone()).collect(),
        kind,
        optional,
        default: None,
        span: ctx.span(n.span.start),
    };
    if let Some(d) = get(t, "default") {
        o.default = default(ctx, d, &o);
    }
    Some((o, aliases))
}

/// An option's `aliases`: other names it answers to, each one word as an id
/// is (an imported DIMACS variable keeps its number this way).
pub(super) fn aliases(ctx: &mut Ctx, t: &Table) -> Vec<(String, usize)> {
    let Some(n) = get(t, "aliases") else {
        return Vec::new();
    };
    let Val::Array(items) = &n.val else {
        ctx.err(
            n.span.start,
            format!(
                "`aliases` must be a list of names, found {}",
                n.val.type_name()
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(a) = ctx.string(item, "aliases") {
            let at = ctx.content(item, &a);
            if valid_option_id(&a) {
                out.push((a, at));
            } else {
                ctx.err(
                    at,
                    format!(
                        "alias `{a}` must be one word of letters, digits, `_` or `-`, and not and/or/not/in"
                    ),
                );
            }
        }
    }
    out
}

/// A choice's `values` or a colour's `palette`: a list of ids, or a table of
/// id = label.
pub(super) fn values(
    ctx: &mut Ctx,
    t: &Table,
    key: &str,
    at: usize,
    what: &str,
    color: bool,
) -> Vec<Value> {
    let Some(n) = ctx.require(t, key, at, what) else {
        return Vec::new();
    };
    let mut raw: Vec<(String, String, usize)> = Vec::new();
    match &n.val {
        Val::Array(items) => {
            for item in items {
                if let Some(s) = ctx.string(item, key) {
                    let at = ctx.content(item, &s);
                    raw.push((s.clone(), s, at));
                }
            }
        }
        Val::Table(entries) => {
            for (k, v) in entries {
                if let Some(label) = ctx.string(v, key) {
                    raw.push((k.name.clone(), label, k.span.start));
                }
            }
        }
        _ => {
            ctx.err(
                n.span.start,
                format!(
                    "`{key}` must be a list of values or a table of value = label, found {}",
                    n.val.type_name()
                ),
            );
            return Vec::new();
        }
    }
    if raw.is_empty() && matches!(n.val, Val::Array(_) | Val::Table(_)) {
        ctx.err(n.span.start, format!("{what} has no values"));
    }
    let mut out: Vec<Value> = Vec::new();
    let mut seen = Vec::new();
    for (mut id, label, at) in raw {
        if color {
            if !is_hex_color(&id) {
                ctx.err(
                    at,
                    format!("palette entry `{id}` is not a `#rrggbb` colour"),
                );
                continue;
            }
            id = id.to_ascii_lowercase();
        } else if id.trim().is_empty() {
            ctx.err(at, format!("empty value in {what}"));
            continue;
        }
        let before = seen.len();
        unique(ctx, &mut seen, &id, at, "value");
        if seen.len() > before {
            out.push(Value { id, label });
        }
    }
    out
}

pub(super) fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn default(ctx: &mut Ctx, n: &Node, o: &OptionDef) -> Option<String> {
    match &o.kind {
        OptionKind::Choice { values } | OptionKind::Color { values } => {
            let s = ctx.string(n, "default")?;
            let id = domain_value(o, &s);
            // Without values the option is already reported; don't pile on.
            if id.is_none() && !values.is_empty() {
                let at = ctx.content(n, &s);
                ctx.err(at, format!("default {}", not_a_value(o, &s)));
            }
            id
        }
        OptionKind::Text {
            max_length,
            characters,
        } => {
            let s = ctx.string(n, "default")?;
            if let Err(bad) = crate::text::check_text(&s, characters.as_ref()) {
                ctx.err(n.span.start, format!("the default cannot hold {bad}"));
            }
            let len = s.chars().count();
            if len > *max_length as usize {
                ctx.err(
                    n.span.start,
                    format!(
                        "default is {len} characters; option `{}` allows {max_length}",
                        o.id
                    ),
                );
            }
            Some(s)
        }
        OptionKind::Number { min, max, .. } => {
            let d = ctx.decimal(n, "default")?;
            if d < *min || d > *max {
                ctx.err(
                    n.span.start,
                    format!("default {d} is outside {min}..{max} of option `{}`", o.id),
                );
            }
            Some(d.normalize().to_string())
        }
    }
}
