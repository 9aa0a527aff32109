//! A product whose rules together leave no valid configuration: nothing of
//! it can be sold. [`Configurator::conflict`] names a minimal set of the
//! rules and tables that conflict (each one without the others leaves some
//! configuration), found like the configurator's minimal reasons
//! (QuickXplain over the constraints, with no selection), and the required
//! options they leave without a value. [`check_satisfiable`] says it as one
//! diagnostic per conflicting rule at the rule's own line and column, and
//! [`check_catalog`] is the check `kiln model check` and publishing a
//! catalog share, so both report exactly the same errors.
//!
//! Only rules and tables are constraints the engine can leave out. What an
//! option allows (its values, its range, whether it may be left out) is the
//! ground they conflict on; when a conflict holds only because an option is
//! required, the diagnostics say so.

use kiln_model::{CheckReport, Diagnostic, Product};

use crate::Configurator;
use crate::compile;
use crate::explain::quickxplain;
use crate::search::Engine;

/// Why a product has no valid configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// A minimal set of rules and tables that together leave no valid
    /// configuration: without any one of them, the others leave some. In
    /// file order. Empty only if an option has no value at all (which
    /// `kiln_model::check` already refuses).
    pub rules: Vec<ConflictingRule>,
    /// Required options these rules leave without a value: were any one of
    /// them optional, leaving it out would satisfy all of `rules`. Only
    /// options that the conflicting rules (not tables) constrain.
    pub required: Vec<String>,
}

/// One rule or table of a [`Conflict`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictingRule {
    pub kind: RuleKind,
    pub id: String,
    pub message: String,
    pub span: kiln_model::Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// A `[[rule]]`.
    Rule,
    /// A `[[table]]` (extensional constraint).
    Table,
}

impl RuleKind {
    fn word(self, many: bool) -> &'static str {
        match (self, many) {
            (RuleKind::Rule, false) => "rule",
            (RuleKind::Rule, true) => "rules",
            (RuleKind::Table, false) => "table",
            (RuleKind::Table, true) => "tables",
        }
    }
}

impl ConflictingRule {
    /// `rule `id``, with the rule's message when it says more than the id.
    fn named(&self) -> String {
        let word = self.kind.word(false);
        if self.message.is_empty() || self.message == self.id {
            format!("{word} `{}`", self.id)
        } else {
            format!("{word} `{}` ({})", self.id, self.message)
        }
    }
}

impl Configurator {
    /// `None` when the product has a valid configuration; otherwise a
    /// minimal set of rules and tables that leaves none.
    pub fn conflict(&self) -> Option<Conflict> {
        if self.is_satisfiable() {
            return None;
        }
        let core = minimal_unsatisfiable(&self.engine)?;
        let product = &self.product;
        let n = product.rules.len();
        let rules = core
            .iter()
            .map(|&c| match product.rules.get(c) {
                Some(r) => ConflictingRule {
                    kind: RuleKind::Rule,
                    id: r.id.clone(),
                    message: r.message.clone(),
                    span: r.span,
                },
                None => {
                    let t = &product.tables[c - n];
                    ConflictingRule {
                        kind: RuleKind::Table,
                        id: t.id.clone(),
                        message: t.message.clone(),
                        span: t.span,
                    }
                }
            })
            .collect();
        // Options the conflicting rules constrain. Tables list values, and
        // leaving an option out is no value of theirs: those are not asked.
        let mut in_tables = vec![false; product.options.len()];
        let mut candidates: Vec<usize> = Vec::new();
        for &c in &core {
            for &v in self.engine.constraint_vars(c) {
                if c >= n {
                    in_tables[v] = true;
                } else if !candidates.contains(&v) {
                    candidates.push(v);
                }
            }
        }
        candidates.sort_unstable();
        let required = candidates
            .into_iter()
            .filter(|&v| !in_tables[v] && !product.options[v].optional)
            .filter(|&v| satisfiable_if_optional(product, &core, v))
            .map(|v| product.options[v].id.clone())
            .collect();
        Some(Conflict { rules, required })
    }
}

/// A minimal set of constraints (rules, then tables) that alone has no
/// solution; `None` if all of them together have one. Empty when an option
/// has no value even without constraints.
fn minimal_unsatisfiable(engine: &Engine) -> Option<Vec<usize>> {
    let n = engine.constraints();
    let none = vec![None; engine.csp.vars.len()];
    let mut on = vec![true; n];
    let mut core = engine.solve(&none, &on).err()?;
    // The constraints a refutation went through refute it alone, and a
    // refutation with only those may go through fewer: shrink cheaply
    // before minimising.
    loop {
        on.iter_mut().for_each(|a| *a = false);
        core.iter().for_each(|&c| on[c] = true);
        match engine.solve(&none, &on) {
            Err(fewer) if fewer.len() < core.len() => core = fewer,
            _ => break,
        }
    }
    let mut bad = |set: &[usize]| {
        on.iter_mut().for_each(|a| *a = false);
        set.iter().for_each(|&c| on[c] = true);
        engine.solve(&none, &on).is_err()
    };
    let mut rules = quickxplain(&mut bad, &[], &core);
    rules.sort_unstable();
    Some(rules)
}

/// Whether the constraints `core` alone have a solution once option
/// `option` may be left out.
fn satisfiable_if_optional(product: &Product, core: &[usize], option: usize) -> bool {
    let n = product.rules.len();
    let mut options = product.options.clone();
    options[option].optional = true;
    let only = Product {
        id: product.id.clone(),
        name: product.name.clone(),
        description: String::new(),
        currency: product.currency.clone(),
        base_price: product.base_price,
        ship_days: product.ship_days,
        warranty_months: product.warranty_months,
        gtin: product.gtin.clone(),
        components: Vec::new(),
        options,
        rules: core
            .iter()
            .filter(|&&c| c < n)
            .map(|&c| product.rules[c].clone())
            .collect(),
        tables: core
            .iter()
            .filter(|&&c| c >= n)
            .map(|&c| product.tables[c - n].clone())
            .collect(),
        prices: Vec::new(),
        bom: Vec::new(),
        operations: Vec::new(),
        repair_operations: Vec::new(),
        assemblies: Vec::new(),
        parcel: None,
        preview: Default::default(),
        span: product.span,
    };
    let csp = compile::compile(&only);
    let engine = if only.tables.is_empty() {
        Engine::new(csp)
    } else {
        Engine::with_tables(&only, csp)
    };
    engine.satisfiable()
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Others named in one diagnostic; past this, "and N more".
const NAMED: usize = 6;

/// The rules and tables other than one, as a sentence names them:
/// `rules `a` and `b``, `rule `a` and table `t``.
fn others(all: &[ConflictingRule], me: usize) -> String {
    let rest: Vec<&ConflictingRule> = all
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != me)
        .map(|(_, r)| r)
        .collect();
    let same = rest.windows(2).all(|w| w[0].kind == w[1].kind);
    let mut names: Vec<String> = rest
        .iter()
        .take(NAMED)
        .map(|r| {
            if same {
                format!("`{}`", r.id)
            } else {
                format!("{} `{}`", r.kind.word(false), r.id)
            }
        })
        .collect();
    if rest.len() > NAMED {
        names.push(format!("{} more", rest.len() - NAMED));
    }
    let list = and_list(&names);
    if same {
        format!("{} {list}", rest[0].kind.word(rest.len() > 1))
    } else {
        list
    }
}

/// Diagnostics for a product with no valid configuration, in `file`: one
/// per rule or table of a minimal conflicting set, at its own line and
/// column; none when the product has a valid configuration.
pub fn check_satisfiable(file: &str, configurator: &Configurator) -> Vec<Diagnostic> {
    let Some(conflict) = configurator.conflict() else {
        return Vec::new();
    };
    let product = configurator.product();
    let id = &product.id;
    let at = |span, message| Diagnostic {
        file: file.to_owned(),
        span,
        message,
    };
    if conflict.rules.is_empty() {
        return vec![at(
            product.span,
            format!(
                "`{id}` has no valid configuration even without its rules: an option has no value to choose"
            ),
        )];
    }
    let required: Vec<String> = conflict.required.iter().map(|o| format!("`{o}`")).collect();
    let outcome = match &required[..] {
        [] => None,
        [one] => Some(format!(
            "the required option {one} without a value, so `{id}` has no valid configuration"
        )),
        _ => Some(format!(
            "one of the required options {} without a value, so `{id}` has no valid configuration",
            and_list(&required)
        )),
    };
    let mut out: Vec<Diagnostic> = conflict
        .rules
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let message = match (conflict.rules.len(), &outcome) {
                (1, None) => format!(
                    "{} can never hold, so `{id}` has no valid configuration",
                    r.named()
                ),
                (1, Some(o)) => format!("{} leaves {o}", r.named()),
                (_, None) => format!(
                    "{} conflicts with {}: together they leave no valid configuration of `{id}`",
                    r.named(),
                    others(&conflict.rules, k)
                ),
                (_, Some(o)) => format!(
                    "{} conflicts with {}: together they leave {o}",
                    r.named(),
                    others(&conflict.rules, k)
                ),
            };
            at(r.span, message)
        })
        .collect();
    out.sort_by_key(|d| (d.span.line, d.span.column));
    out
}

/// Model files checked as a catalog: [`kiln_model::check`], every product
/// that checks compiled, and [`check_satisfiable`] for each. Both `kiln
/// model check` and publishing a catalog go through here, so a refused
/// upload lists exactly the errors `kiln model check` prints.
pub struct CheckedCatalog {
    /// `diagnostics` includes products with no valid configuration.
    pub report: CheckReport,
    /// One per `report.products`, in the same order.
    pub products: Vec<Configurator>,
}

impl CheckedCatalog {
    pub fn is_ok(&self) -> bool {
        self.report.is_ok()
    }
}

/// See [`CheckedCatalog`]. `files` are `(name, source)`, as
/// [`kiln_model::check`] takes them.
pub fn check_catalog(files: &[(String, String)]) -> CheckedCatalog {
    let mut report = kiln_model::check(files);
    let products: Vec<Configurator> = report.products.iter().map(Configurator::new).collect();
    for c in products.iter().filter(|c| !c.is_satisfiable()) {
        let id = &c.product().id;
        // The report does not keep products' files; only a product that
        // fails here needs its file found again.
        let file = files
            .iter()
            .find(|(name, source)| {
                kiln_model::parse_product(name, source).is_ok_and(|p| &p.id == id)
            })
            .map_or("", |(name, _)| name.as_str());
        report.diagnostics.extend(check_satisfiable(file, c));
    }
    CheckedCatalog { report, products }
}
