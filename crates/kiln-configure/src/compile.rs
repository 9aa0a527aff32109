//! Product -> finite-domain CSP.
//!
//! Every option becomes one variable whose domain is a list of *abstract*
//! values: the declared values of a choice/colour, `Present` for text, the
//! intervals a number's range is cut into by the rules' constants, plus
//! `Absent` when the option is optional. Rules only ever see abstract values,
//! so they are decided exactly without enumerating text or numbers.

use kiln_model::{Expr, OptionKind, Product, Truth};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Abstract {
    /// Index into the option's declared values.
    Value(usize),
    /// Some text (which one does not matter to the rules).
    Present,
    /// A point `[lo, lo]` or an open interval `(lo, hi)` of a number's range.
    Interval { lo: Decimal, hi: Decimal },
    /// An optional option left out.
    Absent,
}

impl Abstract {
    /// A number inside the interval: the point itself or the midpoint.
    pub(crate) fn representative(&self) -> Option<Decimal> {
        match self {
            Abstract::Interval { lo, hi } if lo == hi => Some(*lo),
            Abstract::Interval { lo, hi } => Some(((*lo + *hi) / Decimal::TWO).normalize()),
            _ => None,
        }
    }
    pub(crate) fn contains(&self, x: Decimal) -> bool {
        match self {
            Abstract::Interval { lo, hi } if lo == hi => x == *lo,
            Abstract::Interval { lo, hi } => *lo < x && x < *hi,
            _ => false,
        }
    }
}

pub(crate) struct Var {
    pub values: Vec<Abstract>,
    pub absent: Option<usize>,
    /// Offset and length of this variable's bitset in a flat domain vector.
    pub off: usize,
    pub words: usize,
}

impl Var {
    pub(crate) fn size(&self) -> usize {
        self.values.len()
    }
}

/// A rule compiled to "not condition or then" over abstract values.
pub(crate) struct CRule {
    /// Index into `Product::rules`.
    pub index: usize,
    pub expr: CExpr,
    pub vars: Vec<usize>,
    /// Per entry of `vars`: its values grouped by which of the rule's atoms
    /// they satisfy. Values in one class are interchangeable for this rule,
    /// so propagation tests one class at a time instead of every value.
    pub classes: Vec<Vec<Vec<u64>>>,
}

pub(crate) enum CExpr {
    Const(bool),
    /// The variable's value is in this set (same word layout as its domain).
    Atom(usize, Vec<u64>),
    Not(Box<CExpr>),
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
}

pub(crate) struct Csp {
    pub vars: Vec<Var>,
    pub rules: Vec<CRule>,
    /// Variable -> rules that mention it.
    pub watch: Vec<Vec<usize>>,
    pub total_words: usize,
}

pub(crate) fn compile(product: &Product) -> Csp {
    let mut vars = Vec::new();
    let mut off = 0;
    for (i, opt) in product.options.iter().enumerate() {
        let mut values: Vec<Abstract> = match &opt.kind {
            OptionKind::Choice { values } | OptionKind::Color { values } => {
                (0..values.len()).map(Abstract::Value).collect()
            }
            OptionKind::Text { .. } => vec![Abstract::Present],
            OptionKind::Number { min, max, .. } => intervals(product, i, *min, *max),
        };
        let absent = opt.optional.then(|| {
            values.push(Abstract::Absent);
            values.len() - 1
        });
        let words = values.len().div_ceil(64).max(1);
        vars.push(Var {
            values,
            absent,
            off,
            words,
        });
        off += words;
    }
    let mut watch = vec![Vec::new(); vars.len()];
    let rules = product
        .rules
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let whole = Expr::Or(vec![
                Expr::Not(Box::new(r.condition.clone())),
                r.then.clone(),
            ]);
            let expr = compile_expr(product, &vars, &whole);
            let mut rv = Vec::new();
            collect_vars(&expr, &mut rv);
            for &v in &rv {
                watch[v].push(index);
            }
            let classes = rv.iter().map(|&v| classes(&expr, v, &vars[v])).collect();
            CRule {
                index,
                expr,
                vars: rv,
                classes,
            }
        })
        .collect();
    Csp {
        vars,
        rules,
        watch,
        total_words: off,
    }
}

/// Cut `[min, max]` at every constant a rule compares this option with, so
/// every comparison is constant on each piece.
fn intervals(product: &Product, option: usize, min: Decimal, max: Decimal) -> Vec<Abstract> {
    let id = &product.options[option].id;
    let mut cuts = vec![min, max];
    for r in &product.rules {
        constants(&r.condition, id, &mut cuts);
        constants(&r.then, id, &mut cuts);
    }
    cuts.retain(|c| *c >= min && *c <= max);
    cuts.sort();
    cuts.dedup();
    let mut out = Vec::new();
    for (k, &c) in cuts.iter().enumerate() {
        out.push(Abstract::Interval { lo: c, hi: c });
        if let Some(&next) = cuts.get(k + 1) {
            out.push(Abstract::Interval { lo: c, hi: next });
        }
    }
    out
}

fn constants(e: &Expr, id: &str, out: &mut Vec<Decimal>) {
    match e {
        Expr::Cmp(o, _, c) if o == id => out.push(*c),
        Expr::Not(e) => constants(e, id, out),
        Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| constants(e, id, out)),
        _ => {}
    }
}

/// The concrete truth of an atom on one abstract value, via the model's own
/// evaluator so that compiled and uncompiled semantics cannot drift apart.
struct One<'a> {
    option: &'a str,
    value: Option<String>,
}

impl kiln_model::Assignment for One<'_> {
    fn value(&self, option: &str) -> Option<Option<&str>> {
        (option == self.option).then_some(self.value.as_deref())
    }
}

fn compile_expr(product: &Product, vars: &[Var], e: &Expr) -> CExpr {
    match e {
        Expr::Const(b) => CExpr::Const(*b),
        Expr::Set(o) | Expr::In(o, _) | Expr::Cmp(o, _, _) => {
            let Some(i) = product.options.iter().position(|x| &x.id == o) else {
                // An unknown option is never set: the atom is false.
                return CExpr::Const(false);
            };
            let opt = &product.options[i];
            let var = &vars[i];
            let mut set = vec![0u64; var.words];
            for (k, a) in var.values.iter().enumerate() {
                let value = match a {
                    Abstract::Value(v) => Some(opt.kind.values()[*v].id.clone()),
                    // Text is opaque to `In`/`Cmp`; any non-numeric stand-in works.
                    Abstract::Present => Some("\u{0}text".to_string()),
                    Abstract::Interval { .. } => a.representative().map(|d| d.to_string()),
                    Abstract::Absent => None,
                };
                let holds = match e {
                    // Colours are case-insensitive: `#1D3557` names `#1d3557`.
                    Expr::In(_, vals) if matches!(opt.kind, OptionKind::Color { .. }) => value
                        .as_deref()
                        .is_some_and(|v| vals.iter().any(|x| x.eq_ignore_ascii_case(v))),
                    _ => e.eval(&One { option: o, value }) == Truth::True,
                };
                if holds {
                    set[k / 64] |= 1 << (k % 64);
                }
            }
            CExpr::Atom(i, set)
        }
        Expr::Not(e) => CExpr::Not(Box::new(compile_expr(product, vars, e))),
        Expr::And(es) => CExpr::And(es.iter().map(|e| compile_expr(product, vars, e)).collect()),
        Expr::Or(es) => CExpr::Or(es.iter().map(|e| compile_expr(product, vars, e)).collect()),
    }
}

fn classes(expr: &CExpr, var: usize, v: &Var) -> Vec<Vec<u64>> {
    let mut atoms = Vec::new();
    collect_atoms(expr, var, &mut atoms);
    let mut groups: Vec<(Vec<bool>, Vec<u64>)> = Vec::new();
    for k in 0..v.size() {
        let sig: Vec<bool> = atoms
            .iter()
            .map(|a| a[k / 64] >> (k % 64) & 1 == 1)
            .collect();
        let at = match groups.iter().position(|(s, _)| *s == sig) {
            Some(at) => at,
            None => {
                groups.push((sig, vec![0; v.words]));
                groups.len() - 1
            }
        };
        groups[at].1[k / 64] |= 1 << (k % 64);
    }
    groups.into_iter().map(|(_, set)| set).collect()
}

fn collect_atoms<'a>(e: &'a CExpr, var: usize, out: &mut Vec<&'a Vec<u64>>) {
    match e {
        CExpr::Const(_) => {}
        CExpr::Atom(v, set) => {
            if *v == var {
                out.push(set)
            }
        }
        CExpr::Not(e) => collect_atoms(e, var, out),
        CExpr::And(es) | CExpr::Or(es) => es.iter().for_each(|e| collect_atoms(e, var, out)),
    }
}

fn collect_vars(e: &CExpr, out: &mut Vec<usize>) {
    match e {
        CExpr::Const(_) => {}
        CExpr::Atom(v, _) => {
            if !out.contains(v) {
                out.push(*v)
            }
        }
        CExpr::Not(e) => collect_vars(e, out),
        CExpr::And(es) | CExpr::Or(es) => es.iter().for_each(|e| collect_vars(e, out)),
    }
}
