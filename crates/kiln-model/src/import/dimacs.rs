//! DIMACS CNF. Variable `n` becomes a choice option with values `0` and `1`;
//! clause `k` becomes the conflicts table `ck` whose one tuple is the
//! assignment that falsifies it.
//!
//! Feature models name their variables in comments (`c 12 N_100002__F_100011`,
//! FeatureIDE's convention). A variable whose comment names it with one word
//! that could be an option id (letters, digits, `_`, `-`; not a number, not a
//! keyword) and that no other variable shares takes that word as its id and
//! keeps its number as an alias, so both name it. Any other variable's id is
//! its number, with the comment's text (if any) as its display name.

use super::{choice, diag, product};
use crate::{Diagnostic, Product, Span, TableConstraint, TableKind};

/// Parses a DIMACS CNF file.
pub fn import_dimacs(file: &str, source: &str) -> Result<Product, Diagnostic> {
    let mut p = product(file, "");
    let mut header: Option<(usize, usize)> = None;
    let mut names: Vec<Option<String>> = Vec::new();
    let mut clause: Vec<i64> = Vec::new();
    let mut clause_line = 0;
    let mut clauses: Vec<(Vec<i64>, usize)> = Vec::new();
    for (ln, line) in source.lines().enumerate() {
        let ln = ln + 1;
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('c') {
            // `c 12 Name` names variable 12.
            let rest = rest.trim();
            if let Some((n, name)) = rest.split_once(char::is_whitespace)
                && let Ok(n) = n.parse::<usize>()
                && (1..=10_000_000).contains(&n)
                && !name.trim().is_empty()
            {
                if names.len() < n {
                    names.resize(n, None);
                }
                names[n - 1] = Some(name.trim().to_owned());
            }
            continue;
        }
        if t.starts_with('%') {
            break; // SATLIB files end with `%` then `0`
        }
        if t.starts_with('p') {
            let col = line.len() - t.len() + 1;
            if header.is_some() {
                return Err(diag(file, ln, col, "second `p cnf` line"));
            }
            let w: Vec<&str> = t.split_whitespace().collect();
            let parsed = match w[..] {
                ["p", "cnf", v, c] => v.parse::<usize>().ok().zip(c.parse::<usize>().ok()),
                _ => None,
            };
            let Some((v, c)) = parsed else {
                return Err(diag(file, ln, col, "expected `p cnf VARIABLES CLAUSES`"));
            };
            if v > 10_000_000 {
                return Err(diag(file, ln, col, "too many variables"));
            }
            header = Some((v, c));
            continue;
        }
        for w in t.split_whitespace() {
            let col = w.as_ptr() as usize - line.as_ptr() as usize + 1;
            let Some((nv, _)) = header else {
                return Err(diag(file, ln, col, "a clause before the `p cnf` line"));
            };
            let x: i64 = w
                .parse()
                .map_err(|_| diag(file, ln, col, format!("`{w}` is not a literal")))?;
            if x.unsigned_abs() as usize > nv {
                return Err(diag(
                    file,
                    ln,
                    col,
                    format!("literal {x} names a variable above the declared {nv}"),
                ));
            }
            if clause.is_empty() {
                clause_line = ln;
            }
            if x == 0 {
                clauses.push((std::mem::take(&mut clause), clause_line));
            } else {
                clause.push(x);
            }
        }
    }
    let Some((nv, nc)) = header else {
        return Err(diag(
            file,
            source.lines().count().max(1),
            1,
            "no `p cnf` line",
        ));
    };
    if !clause.is_empty() {
        clauses.push((clause, clause_line));
    }
    if clauses.len() != nc {
        return Err(diag(
            file,
            source.lines().count().max(1),
            1,
            format!(
                "the header declares {nc} clauses, the file has {}",
                clauses.len()
            ),
        ));
    }
    names.resize(nv, None);
    let bits = ["0".to_string(), "1".to_string()];
    let ids = option_ids(&names);
    for (v, (name, id)) in names.into_iter().zip(ids).enumerate() {
        let number = (v + 1).to_string();
        let mut o = choice(
            id.as_deref().unwrap_or(&number),
            name.as_deref().unwrap_or(&number),
            &bits,
            1,
        );
        if id.is_some() {
            o.aliases.push(number);
        }
        p.options.push(o);
    }
    for (k, (lits, line)) in clauses.into_iter().enumerate() {
        let mut scope: Vec<usize> = Vec::new();
        let mut tuple: Vec<u32> = Vec::new();
        let mut tautology = false;
        for x in lits {
            let var = x.unsigned_abs() as usize - 1;
            // The falsifying value: 0 for a positive literal, 1 for a negative.
            let falsify = u32::from(x < 0);
            match scope.iter().position(|&s| s == var) {
                Some(i) if tuple[i] != falsify => tautology = true,
                Some(_) => {}
                None => {
                    scope.push(var);
                    tuple.push(falsify);
                }
            }
        }
        if tautology {
            continue;
        }
        let span = Span {
            line: line as u32,
            column: 1,
        };
        let id = format!("c{}", k + 1);
        let table = if scope.is_empty() {
            // The empty clause: nothing satisfies it.
            if nv == 0 {
                return Err(diag(
                    file,
                    line,
                    1,
                    "an empty clause in a formula without variables",
                ));
            }
            TableConstraint {
                id: id.clone(),
                scope: vec![0],
                kind: TableKind::Supports,
                tuples: Vec::new(),
                message: format!("clause {} (line {line})", k + 1),
                span,
            }
        } else {
            TableConstraint {
                id,
                scope,
                kind: TableKind::Conflicts,
                tuples: tuple,
                message: format!("clause {} (line {line})", k + 1),
                span,
            }
        };
        p.tables.push(table);
    }
    Ok(p)
}

/// Per variable, the id its comment name gives it, if any: the name's one
/// word when it is a valid option id, not a number and used by no other
/// variable.
fn option_ids(names: &[Option<String>]) -> Vec<Option<String>> {
    let word = |n: &Option<String>| -> Option<String> {
        let n = n.as_deref()?;
        let ok = !n.bytes().all(|b| b.is_ascii_digit()) && crate::parse::valid_option_id(n);
        ok.then(|| n.to_owned())
    };
    let words: Vec<Option<String>> = names.iter().map(word).collect();
    let mut uses: std::collections::HashMap<&str, usize> = Default::default();
    for w in words.iter().flatten() {
        *uses.entry(w).or_default() += 1;
    }
    words
        .iter()
        .map(|w| w.clone().filter(|w| uses[w.as_str()] == 1))
        .collect()
}
