//! Conditions over a configuration, as written in rules, prices, BOM lines,
//! operations and preview layers: `shape = conical and not engraving`.

use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn holds(self, left: Decimal, right: Decimal) -> bool {
        match self {
            CmpOp::Lt => left < right,
            CmpOp::Le => left <= right,
            CmpOp::Gt => left > right,
            CmpOp::Ge => left >= right,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Const(bool),
    /// The option has a value (it is not left out).
    Set(String),
    /// The option's value is one of these (a choice or colour option).
    In(String, Vec<String>),
    /// A number option compared with a constant.
    Cmp(String, CmpOp, Decimal),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// What an option holds in a (possibly partial) configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Truth {
    True,
    False,
    /// Depends on options not decided yet.
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// A configuration as seen by [`Expr::eval`].
pub trait Assignment {
    /// `None` while the option is undecided; `Some(None)` when it is decided to
    /// be left out; `Some(Some(value))` otherwise. A number option's value is its
    /// decimal text.
    fn value(&self, option: &str) -> Option<Option<&str>>;
}

impl Expr {
    pub fn always() -> Expr {
        Expr::Const(true)
    }

    /// Every option the expression mentions, in order of first mention.
    pub fn options(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_options(&mut out);
        out
    }

    fn collect_options<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Const(_) => {}
            Expr::Set(o) | Expr::In(o, _) | Expr::Cmp(o, _, _) => {
                if !out.contains(&o.as_str()) {
                    out.push(o);
                }
            }
            Expr::Not(e) => e.collect_options(out),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.collect_options(out)),
        }
    }

    /// Three-valued evaluation: `Unknown` only if undecided options matter.
    pub fn eval(&self, a: &dyn Assignment) -> Truth {
        match self {
            Expr::Const(b) => bool_truth(*b),
            Expr::Set(o) => match a.value(o) {
                None => Truth::Unknown,
                Some(v) => bool_truth(v.is_some()),
            },
            Expr::In(o, values) => match a.value(o) {
                None => Truth::Unknown,
                Some(None) => Truth::False,
                Some(Some(v)) => bool_truth(values.iter().any(|x| x == v)),
            },
            Expr::Cmp(o, op, rhs) => match a.value(o) {
                None => Truth::Unknown,
                Some(None) => Truth::False,
                Some(Some(v)) => match v.parse::<Decimal>() {
                    Ok(n) => bool_truth(op.holds(n, *rhs)),
                    Err(_) => Truth::False,
                },
            },
            Expr::Not(e) => e.eval(a).not(),
            Expr::And(es) => {
                let mut out = Truth::True;
                for e in es {
                    match e.eval(a) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::True => {}
                    }
                }
                out
            }
            Expr::Or(es) => {
                let mut out = Truth::False;
                for e in es {
                    match e.eval(a) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::False => {}
                    }
                }
                out
            }
        }
    }

    /// Two-valued evaluation on a complete configuration.
    pub fn holds(&self, a: &dyn Assignment) -> bool {
        self.eval(a) == Truth::True
    }
}

fn bool_truth(b: bool) -> Truth {
    if b { Truth::True } else { Truth::False }
}

impl Assignment for std::collections::BTreeMap<String, String> {
    /// A map holds a complete configuration: a missing key is a left-out option.
    fn value(&self, option: &str) -> Option<Option<&str>> {
        Some(self.get(option).map(String::as_str))
    }
}
