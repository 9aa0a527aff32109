//! Diagnostics collection and typed access to the spanned TOML tree.

use rust_decimal::Decimal;

use crate::condition::parse_decimal;
use crate::span::Lines;
use crate::tree::{Key, Node, Val};
use crate::{Diagnostic, Span};

pub(crate) type Table = [(Key, Node)];

/// One file being read: where errors go and how offsets become positions.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub lines: Lines<'a>,
    pub source: &'a str,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a str, source: &'a str) -> Self {
        Ctx {
            file,
            lines: Lines::new(source),
            source,
            diags: Vec::new(),
        }
    }

    pub fn span(&self, at: usize) -> Span {
        self.lines.span(at)
    }

    pub fn err(&mut self, at: usize, message: impl Into<String>) {
        let span = self.span(at);
        self.diags.push(Diagnostic {
            file: self.file.to_owned(),
            span,
            message: message.into(),
        });
    }

    /// Offset of the first character inside a string literal, where errors
    /// about the string's content point.
    pub fn content(&self, n: &Node, s: &str) -> usize {
        self.lines.in_string(n.span.start, s, 0)
    }

    /// Reports keys not in `allowed`; `what` names the table in the message.
    pub fn keys(&mut self, t: &Table, allowed: &[&str], what: &str) {
        for (k, _) in t {
            if !allowed.contains(&k.name.as_str()) {
                self.err(
                    k.span.start,
                    format!(
                        "unknown key `{}` in {what} (expected one of: {})",
                        k.name,
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    pub fn require<'t>(
        &mut self,
        t: &'t Table,
        key: &str,
        at: usize,
        what: &str,
    ) -> Option<&'t Node> {
        let n = get(t, key);
        if n.is_none() {
            self.err(at, format!("missing `{key}` in {what}"));
        }
        n
    }

    fn wrong_type(&mut self, n: &Node, key: &str, expected: &str) {
        self.err(
            n.span.start,
            format!("`{key}` must be {expected}, found {}", n.val.type_name()),
        );
    }

    pub fn table<'t>(&mut self, n: &'t Node, key: &str) -> Option<&'t Table> {
        match &n.val {
            Val::Table(t) => Some(t),
            _ => {
                self.wrong_type(n, key, "a table");
                None
            }
        }
    }

    /// An array of tables, e.g. every `[[rule]]`.
    pub fn tables<'t>(&mut self, n: &'t Node, key: &str) -> Vec<&'t Node> {
        match &n.val {
            Val::Array(items) => items
                .iter()
                .filter(|i| {
                    let ok = matches!(i.val, Val::Table(_));
                    if !ok {
                        self.wrong_type(i, key, "a table");
                    }
                    ok
                })
                .collect(),
            _ => {
                self.wrong_type(n, key, "an array of tables (`[[...]]`)");
                Vec::new()
            }
        }
    }

    pub fn string(&mut self, n: &Node, key: &str) -> Option<String> {
        match &n.val {
            Val::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(n, key, "a string");
                None
            }
        }
    }

    pub fn boolean(&mut self, n: &Node, key: &str) -> Option<bool> {
        match &n.val {
            Val::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(n, key, "true or false");
                None
            }
        }
    }

    pub fn u32(&mut self, n: &Node, key: &str) -> Option<u32> {
        match &n.val {
            Val::Int(i) => match u32::try_from(*i) {
                Ok(v) => Some(v),
                Err(_) => {
                    self.err(
                        n.span.start,
                        format!("`{key}` must be a whole number from 0 to {}", u32::MAX),
                    );
                    None
                }
            },
            _ => {
                self.wrong_type(n, key, "a whole number");
                None
            }
        }
    }

    /// Decimals may be strings (`"12.50"`, exact by construction) or TOML
    /// numbers; a float is read from its source text so `0.30` stays `0.30`.
    pub fn decimal(&mut self, n: &Node, key: &str) -> Option<Decimal> {
        let parsed = match &n.val {
            Val::Str(s) => match parse_decimal(s) {
                Some(d) => Some(d),
                None => {
                    let at = self.content(n, s);
                    self.err(at, format!("`{s}` is not a decimal number (`{key}`)"));
                    return None;
                }
            },
            Val::Int(i) => Some(Decimal::from(*i)),
            Val::Float(f) => self
                .source
                .get(n.span.clone())
                .and_then(parse_decimal)
                .or_else(|| parse_decimal(&f.to_string())),
            _ => {
                self.wrong_type(n, key, "a decimal number");
                return None;
            }
        };
        if parsed.is_none() {
            self.err(
                n.span.start,
                format!("`{key}` is not a decimal number we can represent"),
            );
        }
        parsed
    }

    /// A decimal that must not be negative (prices, quantities, minutes).
    pub fn amount(&mut self, n: &Node, key: &str) -> Option<Decimal> {
        let d = self.decimal(n, key)?;
        if d.is_sign_negative() && !d.is_zero() {
            self.err(n.span.start, format!("`{key}` must not be negative"));
            return None;
        }
        Some(d)
    }

    pub fn opt_string(&mut self, t: &Table, key: &str) -> Option<String> {
        get(t, key).and_then(|n| self.string(n, key))
    }
}

pub(crate) fn get<'t>(t: &'t Table, key: &str) -> Option<&'t Node> {
    t.iter().find(|(k, _)| k.name == key).map(|(_, n)| n)
}
