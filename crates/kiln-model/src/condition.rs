//! The condition language inside `if`/`then` strings:
//! `shape = conical and not (engraving or size in (L, XL))`.
//!
//! Parsing and checking are separate so that a syntax error stops only its
//! own string, while checking against the options reports every bad name.

use rust_decimal::Decimal;

use crate::{CmpOp, Expr, OptionDef, OptionKind};

/// A word with its byte offset inside the condition string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    pub text: String,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Set(Word),
    /// `opt = v`, `opt != v`, `opt in (..)`, `opt not in (..)`; `op_at` is the
    /// operator's offset, for errors about the operator itself.
    In {
        opt: Word,
        values: Vec<Word>,
        negated: bool,
        op: &'static str,
        op_at: usize,
    },
    Cmp {
        opt: Word,
        op: CmpOp,
        op_at: usize,
        value: Word,
    },
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// A syntax error at a byte offset in the condition string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub at: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Eq,
    Ne,
    Cmp(CmpOp),
    Word(String),
    Quoted(String),
    End,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Eq => "`=`".into(),
        Tok::Ne => "`!=`".into(),
        Tok::Cmp(op) => format!("`{}`", cmp_text(*op)),
        Tok::Word(w) => format!("`{w}`"),
        Tok::Quoted(w) => format!("'{w}'"),
        Tok::End => "the end of the condition".into(),
    }
}

pub(crate) fn cmp_text(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '#')
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let tok = match c {
            c if c.is_whitespace() => continue,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => {
                // Accept `==` as a courtesy to programmers.
                if it.peek().is_some_and(|(_, c)| *c == '=') {
                    it.next();
                }
                Tok::Eq
            }
            '!' if it.peek().is_some_and(|(_, c)| *c == '=') => {
                it.next();
                Tok::Ne
            }
            '<' | '>' => {
                let eq = it.peek().is_some_and(|(_, c)| *c == '=');
                if eq {
                    it.next();
                }
                Tok::Cmp(match (c, eq) {
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    _ => CmpOp::Ge,
                })
            }
            '\'' | '"' => {
                let mut s = String::new();
                loop {
                    match it.next() {
                        Some((_, q)) if q == c => break,
                        Some((_, ch)) => s.push(ch),
                        None => {
                            return Err(SyntaxError {
                                at: i,
                                message: "unterminated quoted value".into(),
                            });
                        }
                    }
                }
                Tok::Quoted(s)
            }
            c if is_word_char(c) => {
                let mut s = String::from(c);
                while let Some((_, ch)) = it.peek().copied() {
                    if !is_word_char(ch) {
                        break;
                    }
                    s.push(ch);
                    it.next();
                }
                Tok::Word(s)
            }
            c => {
                return Err(SyntaxError {
                    at: i,
                    message: format!("unexpected character `{c}`"),
                });
            }
        };
        out.push((tok, i));
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

const KEYWORDS: [&str; 4] = ["and", "or", "not", "in"];

pub(crate) fn is_keyword(w: &str) -> bool {
    KEYWORDS.contains(&w)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

/// Deep enough for any sane condition, shallow enough to never blow the stack.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn at(&self) -> usize {
        self.toks[self.pos].1
    }
    fn bump(&mut self) -> (Tok, usize) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w == kw)
    }
    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.toks.get(self.pos + n), Some((Tok::Word(w), _)) if w == kw)
    }
    fn err<T>(&self, message: String) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            at: self.at(),
            message,
        })
    }

    fn or(&mut self) -> Result<Cond, SyntaxError> {
        let mut items = vec![self.and()?];
        while self.is_kw("or") {
            self.bump();
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Cond::And(Vec::new()))
        } else {
            Cond::Or(items)
        })
    }

    fn and(&mut self) -> Result<Cond, SyntaxError> {
        let mut items = vec![self.unary()?];
        while self.is_kw("and") {
            self.bump();
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Cond::And(Vec::new()))
        } else {
            Cond::And(items)
        })
    }

    fn unary(&mut self) -> Result<Cond, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("condition is nested too deeply".into());
        }
        let out = if self.is_kw("not") {
            self.bump();
            self.unary().map(|c| Cond::Not(Box::new(c)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        out
    }

    fn primary(&mut self) -> Result<Cond, SyntaxError> {
        match self.peek().clone() {
            Tok::LParen => {
                let open = self.at();
                self.bump();
                let inner = self.or()?;
                if *self.peek() != Tok::RParen {
                    return Err(SyntaxError {
                        at: open,
                        message: "unclosed `(`".into(),
                    });
                }
                self.bump();
                Ok(inner)
            }
            Tok::Word(w) if !is_keyword(&w) => {
                let opt = Word {
                    text: w,
                    at: self.at(),
                };
                self.bump();
                self.after_option(opt)
            }
            t => self.err(format!("expected an option name, found {}", describe(&t))),
        }
    }

    fn after_option(&mut self, opt: Word) -> Result<Cond, SyntaxError> {
        let op_at = self.at();
        match self.peek().clone() {
            Tok::Eq | Tok::Ne => {
                let negated = *self.peek() == Tok::Ne;
                self.bump();
                let v = self.value()?;
                Ok(Cond::In {
                    opt,
                    values: vec![v],
                    negated,
                    op: if negated { "!=" } else { "=" },
                    op_at,
                })
            }
            Tok::Cmp(op) => {
                self.bump();
                let value = self.value()?;
                Ok(Cond::Cmp {
                    opt,
                    op,
                    op_at,
                    value,
                })
            }
            Tok::Word(w) if w == "in" => {
                self.bump();
                let values = self.list()?;
                Ok(Cond::In {
                    opt,
                    values,
                    negated: false,
                    op: "in",
                    op_at,
                })
            }
            Tok::Word(w) if w == "not" && self.is_kw_at(1, "in") => {
                self.bump();
                self.bump();
                let values = self.list()?;
                Ok(Cond::In {
                    opt,
                    values,
                    negated: true,
                    op: "not in",
                    op_at,
                })
            }
            Tok::End | Tok::RParen => Ok(Cond::Set(opt)),
            Tok::Word(w) if w == "and" || w == "or" => Ok(Cond::Set(opt)),
            t => self.err(format!(
                "expected `=`, `!=`, `in`, a comparison, `and`, `or` or the end after `{}`, found {}",
                opt.text,
                describe(&t)
            )),
        }
    }

    fn value(&mut self) -> Result<Word, SyntaxError> {
        let at = self.at();
        match self.peek().clone() {
            Tok::Word(w) if !is_keyword(&w) => {
                self.bump();
                Ok(Word { text: w, at })
            }
            Tok::Quoted(w) => {
                self.bump();
                // Point past the opening quote, at the value itself.
                Ok(Word {
                    text: w,
                    at: at + 1,
                })
            }
            t => self.err(format!("expected a value, found {}", describe(&t))),
        }
    }

    fn list(&mut self) -> Result<Vec<Word>, SyntaxError> {
        if *self.peek() != Tok::LParen {
            return self.err(format!(
                "expected `(` to start a list of values, found {}",
                describe(self.peek())
            ));
        }
        self.bump();
        let mut out = vec![self.value()?];
        loop {
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                    out.push(self.value()?);
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(out);
                }
                t => return self.err(format!("expected `,` or `)`, found {}", describe(t))),
            }
        }
    }
}

/// Parses a condition string into an unchecked tree.
pub(crate) fn parse(src: &str) -> Result<Cond, SyntaxError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    if *p.peek() == Tok::End {
        return p.err("empty condition".into());
    }
    let c = p.or()?;
    if *p.peek() != Tok::End {
        let t = p.peek().clone();
        return p.err(format!(
            "unexpected {} (conditions join with `and` and `or`)",
            describe(&t)
        ));
    }
    Ok(c)
}

/// Lists the option ids for "unknown option" errors.
pub(crate) fn option_list(options: &[OptionDef]) -> String {
    options
        .iter()
        .map(|o| o.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn value_list(o: &OptionDef) -> String {
    o.kind
        .values()
        .iter()
        .map(|v| v.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds the option a word names, reporting an unknown one.
pub(crate) fn lookup<'o>(
    options: &'o [OptionDef],
    w: &Word,
    report: &mut dyn FnMut(usize, String),
) -> Option<&'o OptionDef> {
    let found = options.iter().find(|o| o.id == w.text);
    if found.is_none() {
        report(
            w.at,
            format!(
                "unknown option `{}` (options are: {})",
                w.text,
                option_list(options)
            ),
        );
    }
    found
}

/// Colour values compare case-insensitively; everything else exactly.
pub(crate) fn domain_value(o: &OptionDef, text: &str) -> Option<String> {
    let text = match o.kind {
        OptionKind::Color { .. } => text.to_ascii_lowercase(),
        _ => text.to_owned(),
    };
    o.kind.values().iter().any(|v| v.id == text).then_some(text)
}

pub(crate) fn not_a_value(o: &OptionDef, text: &str) -> String {
    format!(
        "`{text}` is not a value of option `{}` ({})",
        o.id,
        value_list(o)
    )
}

/// Checks a parsed condition against the product's options, reporting every
/// problem, and builds the engine's [`Expr`].
pub(crate) fn resolve(
    c: &Cond,
    options: &[OptionDef],
    report: &mut dyn FnMut(usize, String),
) -> Expr {
    match c {
        Cond::Set(w) => {
            lookup(options, w, report);
            Expr::Set(w.text.clone())
        }
        Cond::In {
            opt,
            values,
            negated,
            op,
            op_at,
        } => {
            let mut out = Vec::new();
            if let Some(o) = lookup(options, opt, report) {
                match o.kind {
                    OptionKind::Choice { .. } | OptionKind::Color { .. } => {
                        for v in values {
                            match domain_value(o, &v.text) {
                                Some(id) => out.push(id),
                                None => report(v.at, not_a_value(o, &v.text)),
                            }
                        }
                    }
                    OptionKind::Number { .. } => report(
                        *op_at,
                        format!(
                            "`{op}` does not apply to number option `{}`; compare it with <, <=, > or >=",
                            o.id
                        ),
                    ),
                    OptionKind::Text { .. } => report(
                        *op_at,
                        format!(
                            "`{op}` does not apply to text option `{}`; test whether it is set with `{}` or `not {}`",
                            o.id, o.id, o.id
                        ),
                    ),
                }
            }
            let e = Expr::In(opt.text.clone(), out);
            if *negated { Expr::Not(Box::new(e)) } else { e }
        }
        Cond::Cmp {
            opt,
            op,
            op_at,
            value,
        } => {
            let n = parse_decimal(&value.text);
            if let Some(o) = lookup(options, opt, report) {
                if !matches!(o.kind, OptionKind::Number { .. }) {
                    report(
                        *op_at,
                        format!(
                            "`{}` needs a number option; `{}` is a {} option",
                            cmp_text(*op),
                            o.id,
                            o.kind.name()
                        ),
                    );
                } else if n.is_none() {
                    report(value.at, format!("`{}` is not a number", value.text));
                }
            }
            Expr::Cmp(opt.text.clone(), *op, n.unwrap_or_default())
        }
        Cond::Not(inner) => Expr::Not(Box::new(resolve(inner, options, report))),
        Cond::And(cs) => Expr::And(cs.iter().map(|c| resolve(c, options, report)).collect()),
        Cond::Or(cs) => Expr::Or(cs.iter().map(|c| resolve(c, options, report)).collect()),
    }
}

/// Strict decimal syntax: `-12.50`, `3`, `1_000`. No exponents, no commas, so
/// that `1,20` is an error rather than a surprise.
pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
    let t = s.trim().replace('_', "");
    let digits = t.strip_prefix(['-', '+']).unwrap_or(&t);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return None;
    }
    t.strip_prefix('+').unwrap_or(&t).parse::<Decimal>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, at: usize) -> Word {
        Word {
            text: text.into(),
            at,
        }
    }

    #[test]
    fn precedence_and_forms() {
        let c = parse("a = x or not b and c in (p, 'q r')").unwrap();
        let Cond::Or(items) = c else { panic!() };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1], Cond::And(v) if matches!(v[0], Cond::Not(_))));
        let c = parse("size not in (S, M)").unwrap();
        assert!(matches!(c, Cond::In { negated: true, .. }));
        let c = parse("chest >= 120.5").unwrap();
        assert_eq!(
            c,
            Cond::Cmp {
                opt: w("chest", 0),
                op: CmpOp::Ge,
                op_at: 6,
                value: w("120.5", 9)
            }
        );
        assert!(matches!(
            parse("(glaze = #1d3557)").unwrap(),
            Cond::In { values, .. } if values == vec![w("#1d3557", 9)]
        ));
    }

    #[test]
    fn syntax_errors_have_offsets() {
        assert_eq!(parse("").unwrap_err().at, 0);
        assert_eq!(parse("a = ").unwrap_err().at, 4);
        assert_eq!(parse("(a = b").unwrap_err().at, 0);
        assert_eq!(parse("a = b c").unwrap_err().at, 6);
        assert_eq!(parse("a @ b").unwrap_err().at, 2);
        assert_eq!(parse("a in b").unwrap_err().at, 5);
        assert!(parse(&"not ".repeat(500)).is_err());
        assert!(parse(&format!("{}a{}", "(".repeat(500), ")".repeat(500))).is_err());
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("12.50"), Some(Decimal::new(1250, 2)));
        assert_eq!(parse_decimal("-3"), Some(Decimal::from(-3)));
        assert_eq!(parse_decimal("1,20"), None);
        assert_eq!(parse_decimal("1e3"), None);
        assert_eq!(parse_decimal("."), None);
        assert_eq!(parse_decimal("99999999999999999999999999999999999"), None);
    }
}
