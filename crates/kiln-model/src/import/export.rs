//! A product's options and constraints as a native model file (TOML), so an
//! imported model can be kept, edited and checked like any other. Prices,
//! BOM, routing and preview are not written: imports have none.

use std::fmt::Write;

use crate::{OptionKind, Product, TableKind};

/// The product file text for `p`'s header, choice options, rules and tables.
pub fn to_toml(p: &Product) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", p.description.replace('\n', " "));
    let _ = writeln!(s, "[product]");
    let _ = writeln!(s, "id = {}", quote(&p.id));
    let _ = writeln!(s, "name = {}", quote(&p.name));
    let _ = writeln!(s, "currency = {}", quote(&p.currency));
    let _ = writeln!(s, "base_price = {}", quote(&p.base_price.to_string()));
    for o in &p.options {
        let _ = writeln!(s, "\n[option.{}]", key(&o.id));
        if o.name != o.id {
            let _ = writeln!(s, "name = {}", quote(&o.name));
        }
        if !o.aliases.is_empty() {
            let list: Vec<String> = o.aliases.iter().map(|a| quote(a)).collect();
            let _ = writeln!(s, "aliases = [{}]", list.join(", "));
        }
        match &o.kind {
            OptionKind::Choice { values } | OptionKind::Color { values } => {
                let key = if matches!(o.kind, OptionKind::Color { .. }) {
                    let _ = writeln!(s, "kind = \"color\"");
                    "palette"
                } else {
                    "values"
                };
                if values.iter().all(|v| v.id == v.label) {
                    let list: Vec<String> = values.iter().map(|v| quote(&v.id)).collect();
                    let _ = writeln!(s, "{key} = [{}]", list.join(", "));
                } else {
                    let list: Vec<String> = values
                        .iter()
                        .map(|v| format!("{} = {}", quote(&v.id), quote(&v.label)))
                        .collect();
                    let _ = writeln!(s, "{key} = {{ {} }}", list.join(", "));
                }
            }
            OptionKind::Text {
                max_length,
                characters,
            } => {
                let _ = writeln!(s, "kind = \"text\"\nmax_length = {max_length}");
                if let Some(c) = characters {
                    let _ = writeln!(s, "characters = {}", quote(&c.source));
                }
            }
            OptionKind::Number { min, max, unit } => {
                let _ = writeln!(
                    s,
                    "kind = \"number\"\nmin = {}\nmax = {}\nunit = {}",
                    quote(&min.to_string()),
                    quote(&max.to_string()),
                    quote(unit)
                );
            }
        }
        if o.optional {
            let _ = writeln!(s, "optional = true");
        }
        if let Some(d) = &o.default {
            let _ = writeln!(s, "default = {}", quote(d));
        }
    }
    if !p.rules.is_empty() {
        let _ = writeln!(
            s,
            "\n# Rules are kept by id and message only when the source was TOML;\n# write them back from the original file."
        );
    }
    for t in &p.tables {
        let _ = writeln!(s, "\n[[table]]");
        let _ = writeln!(s, "id = {}", quote(&t.id));
        let scope: Vec<String> = t.scope.iter().map(|&k| quote(&p.options[k].id)).collect();
        let _ = writeln!(s, "scope = [{}]", scope.join(", "));
        if t.message != t.id {
            let _ = writeln!(s, "message = {}", quote(&t.message));
        }
        let key = match t.kind {
            TableKind::Supports => "supports",
            TableKind::Conflicts => "conflicts",
        };
        let _ = write!(s, "{key} = \"\"\"");
        for k in 0..t.len() {
            s.push('\n');
            for (j, (&o, &v)) in t.scope.iter().zip(t.tuple(k)).enumerate() {
                if j > 0 {
                    s.push(' ');
                }
                s.push_str(&p.options[o].kind.values()[v as usize].id);
            }
        }
        let _ = writeln!(s, "\"\"\"");
    }
    s
}

fn key(id: &str) -> String {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        id.to_owned()
    } else {
        quote(id)
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
