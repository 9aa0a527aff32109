//! XCSP 2.1 instances with extensional constraints: `<domains>`,
//! `<variables>`, `<relations>` (`supports` or `conflicts`) and
//! `<constraints>` referring to them. Each variable becomes a choice option
//! whose value ids are the integers as written (`-1`, the joker of optional
//! variables in the Renault models, is an ordinary value); each constraint a
//! [`TableConstraint`] named as in the file.

use std::collections::HashMap;

use roxmltree::{Document, Node};

use super::{choice, diag, product};
use crate::{Diagnostic, Product, TableConstraint, TableKind};

/// Parses an XCSP 2.1 instance.
pub fn import_xcsp(file: &str, source: &str) -> Result<Product, Diagnostic> {
    let doc = Document::parse(source).map_err(|e| {
        let p = e.pos();
        diag(file, p.row as usize, p.col as usize, format!("XML: {e}"))
    })?;
    // Line starts, so a position is a binary search (roxmltree's own
    // `text_pos_at` scans from the start of the document).
    let starts: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let at = |n: Node, off: usize| {
        let o = (n.range().start + off).min(source.len());
        let line = starts.partition_point(|&s| s <= o).max(1);
        let col = source
            .get(starts[line - 1]..o)
            .map_or(1, |s| s.chars().count() + 1);
        (line, col)
    };
    let err = |n: Node, msg: String| {
        let (l, c) = at(n, 0);
        diag(file, l, c, msg)
    };
    let root = doc.root_element();
    if root.tag_name().name() != "instance" {
        return Err(err(
            root,
            format!("expected <instance>, found <{}>", root.tag_name().name()),
        ));
    }
    let name = root
        .children()
        .find(|n| n.has_tag_name("presentation"))
        .and_then(|p| p.attribute("name"))
        .unwrap_or("");
    let mut p = product(file, name);

    // Domains: name -> values as written, in order.
    let mut domains: HashMap<&str, (Vec<i64>, Node)> = HashMap::new();
    for d in root.descendants().filter(|n| n.has_tag_name("domain")) {
        let dname = attr(file, &doc, d, "name")?;
        let (text, base) = text_of(d);
        let mut values = Vec::new();
        for (off, w) in words(text) {
            let (l, c) = at(base.unwrap_or(d), off);
            let bad = || {
                diag(
                    file,
                    l,
                    c,
                    format!("`{w}` is not an integer or a range a..b"),
                )
            };
            if let Some((a, b)) = w.split_once("..") {
                let (a, b) = (
                    a.parse::<i64>().map_err(|_| bad())?,
                    b.parse::<i64>().map_err(|_| bad())?,
                );
                if b < a || b - a > 1_000_000 {
                    return Err(diag(
                        file,
                        l,
                        c,
                        format!("range `{w}` is empty or too large"),
                    ));
                }
                values.extend(a..=b);
            } else {
                values.push(w.parse::<i64>().map_err(|_| bad())?);
            }
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != values.len() {
            return Err(err(d, format!("domain `{dname}` lists a value twice")));
        }
        if values.is_empty() {
            return Err(err(d, format!("domain `{dname}` is empty")));
        }
        if domains.insert(dname, (values, d)).is_some() {
            return Err(err(d, format!("duplicate domain `{dname}`")));
        }
    }

    // Variables, each with a value -> index map.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut value_index: Vec<HashMap<i64, u32>> = Vec::new();
    for v in root.descendants().filter(|n| n.has_tag_name("variable")) {
        let vname = attr(file, &doc, v, "name")?;
        let dname = attr(file, &doc, v, "domain")?;
        let Some((values, _)) = domains.get(dname) else {
            return Err(err(
                v,
                format!("variable `{vname}`: unknown domain `{dname}`"),
            ));
        };
        if index.insert(vname, p.options.len()).is_some() {
            return Err(err(v, format!("duplicate variable `{vname}`")));
        }
        let texts: Vec<String> = values.iter().map(i64::to_string).collect();
        value_index.push(
            values
                .iter()
                .enumerate()
                .map(|(k, &x)| (x, k as u32))
                .collect(),
        );
        let line = at(v, 0).0;
        p.options.push(choice(vname, vname, &texts, line));
    }

    // Relations: name -> (kind, arity, flat tuples).
    let mut relations: HashMap<&str, (TableKind, usize, Vec<i64>)> = HashMap::new();
    for r in root.descendants().filter(|n| n.has_tag_name("relation")) {
        let rname = attr(file, &doc, r, "name")?;
        let arity: usize = attr(file, &doc, r, "arity")?
            .trim()
            .parse()
            .map_err(|_| err(r, format!("relation `{rname}`: `arity` is not a number")))?;
        let kind = match r.attribute("semantics") {
            Some("supports") => TableKind::Supports,
            Some("conflicts") => TableKind::Conflicts,
            other => {
                return Err(err(
                    r,
                    format!(
                        "relation `{rname}`: semantics `{}` is not supports or conflicts",
                        other.unwrap_or("")
                    ),
                ));
            }
        };
        let (text, base) = text_of(r);
        let mut flat = Vec::new();
        let mut start = 0;
        for piece in text.split('|') {
            let ws: Vec<(usize, &str)> = words(piece).collect();
            if !ws.is_empty() {
                if ws.len() != arity {
                    let (l, c) = at(base.unwrap_or(r), start + ws[0].0);
                    return Err(diag(
                        file,
                        l,
                        c,
                        format!(
                            "relation `{rname}`: a tuple has {} values, arity is {arity}",
                            ws.len()
                        ),
                    ));
                }
                for (off, w) in ws {
                    let x = w.parse::<i64>().map_err(|_| {
                        let (l, c) = at(base.unwrap_or(r), start + off);
                        diag(
                            file,
                            l,
                            c,
                            format!("relation `{rname}`: `{w}` is not an integer"),
                        )
                    })?;
                    flat.push(x);
                }
            }
            start += piece.len() + 1;
        }
        if relations.insert(rname, (kind, arity, flat)).is_some() {
            return Err(err(r, format!("duplicate relation `{rname}`")));
        }
    }
    if root.descendants().any(|n| n.has_tag_name("predicate")) {
        let n = root
            .descendants()
            .find(|n| n.has_tag_name("predicate"))
            .unwrap_or(root);
        return Err(err(
            n,
            "intensional predicates are not supported: only extensional relations".into(),
        ));
    }

    for c in root.descendants().filter(|n| n.has_tag_name("constraint")) {
        let cname = attr(file, &doc, c, "name")?;
        let reference = attr(file, &doc, c, "reference")?;
        let scope_names: Vec<&str> = attr(file, &doc, c, "scope")?
            .split_ascii_whitespace()
            .collect();
        let Some((kind, arity, flat)) = relations.get(reference) else {
            return Err(err(
                c,
                format!(
                    "constraint `{cname}`: `{reference}` is not an extensional relation of this file"
                ),
            ));
        };
        if scope_names.len() != *arity || *arity == 0 {
            return Err(err(
                c,
                format!(
                    "constraint `{cname}`: scope has {} variables, relation arity is {arity}",
                    scope_names.len()
                ),
            ));
        }
        let mut vars = Vec::with_capacity(*arity);
        for s in &scope_names {
            vars.push(
                *index.get(s).ok_or_else(|| {
                    err(c, format!("constraint `{cname}`: unknown variable `{s}`"))
                })?,
            );
        }
        // A variable may occur twice in a scope: keep tuples that agree there.
        let mut scope: Vec<usize> = Vec::new();
        let mut pos: Vec<usize> = Vec::new();
        for &v in &vars {
            match scope.iter().position(|&u| u == v) {
                Some(k) => pos.push(k),
                None => {
                    pos.push(scope.len());
                    scope.push(v);
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut tuples = Vec::new();
        'tuples: for t in flat.chunks(*arity) {
            let mut out = vec![u32::MAX; scope.len()];
            for (k, &x) in t.iter().enumerate() {
                // Values outside the variable's domain can never be taken.
                let Some(&vi) = value_index[vars[k]].get(&x) else {
                    continue 'tuples;
                };
                if out[pos[k]] != u32::MAX && out[pos[k]] != vi {
                    continue 'tuples;
                }
                out[pos[k]] = vi;
            }
            if seen.insert(out.clone()) {
                tuples.extend(out);
            }
        }
        p.tables.push(TableConstraint {
            id: cname.to_owned(),
            scope,
            kind: *kind,
            tuples,
            message: format!("constraint {cname}"),
            span: {
                let (l, col) = at(c, 0);
                crate::Span {
                    line: l as u32,
                    column: col as u32,
                }
            },
        });
    }
    Ok(p)
}

fn attr<'a>(file: &str, doc: &Document, n: Node<'a, 'a>, key: &str) -> Result<&'a str, Diagnostic> {
    n.attribute(key).ok_or_else(|| {
        let p = doc.text_pos_at(n.range().start);
        diag(
            file,
            p.row as usize,
            p.col as usize,
            format!("<{}> needs a `{key}` attribute", n.tag_name().name()),
        )
    })
}

/// The element's text and the text node it comes from (for positions).
fn text_of<'a>(n: Node<'a, 'a>) -> (&'a str, Option<Node<'a, 'a>>) {
    match n.children().find(|c| c.is_text()) {
        Some(t) => (t.text().unwrap_or(""), Some(t)),
        None => ("", None),
    }
}

fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split_ascii_whitespace()
        .map(move |w| (w.as_ptr() as usize - s.as_ptr() as usize, w))
}
