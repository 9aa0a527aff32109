//! The configurator engine: given a product and a shopper's selections, it
//! answers which values remain available (backtrack-free), why the others are
//! not (minimal explanations), and the canonical SKU, price, BOM, routing and
//! preview of the completed configuration.
//!
//! Pure: no I/O, no async, no threads. The product is compiled once into a
//! finite-domain CSP ([`compile`]); all reasoning goes through the small
//! question set of [`search::Engine`], which a compiled decision diagram can
//! later answer for very large models without changing this API.

mod compile;
mod compiled;
mod conflict;
mod count;
mod explain;
mod implied;
mod preview;

pub use preview::escape as xml_escape;
mod price;
pub use price::Units;
mod search;
mod sku;
mod table;

use std::collections::BTreeMap;

use kiln_model::{OptionKind, Product};
use rust_decimal::Decimal;
use serde::Serialize;

pub use conflict::{
    CheckedCatalog, Conflict, ConflictingRule, RuleKind, check_catalog, check_satisfiable,
};
pub use count::CountError;
pub use num_bigint::BigUint;

use compile::Abstract;
use explain::Session;
use search::Engine;

/// Option id -> value text, as the API sends them.
pub type Selections = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectionError {
    #[error("unknown option `{option}`")]
    UnknownOption { option: String },
    /// One option named twice, by its id and an alias (`1` and `N_100000`).
    #[error("`{option}` is selected twice (also as `{other}`)")]
    SelectedTwice { option: String, other: String },
    #[error("`{value}` is not a value of `{option}` (allowed: {})", allowed.join(", "))]
    UnknownValue {
        option: String,
        value: String,
        allowed: Vec<String>,
    },
    #[error("`{option}` takes at most {max_length} characters")]
    TextTooLong { option: String, max_length: u32 },
    /// A character the option does not take: `bad` says which and where,
    /// `allowed` the option's `characters` when it has them.
    #[error("`{option}` cannot hold {bad}{}", allowed.as_ref().map(|a| format!(" (it takes {a})")).unwrap_or_default())]
    TextNotAllowed {
        option: String,
        bad: kiln_model::text::BadCharacter,
        allowed: Option<String>,
    },
    #[error("`{value}` is not a number (option `{option}`)")]
    NotANumber { option: String, value: String },
    #[error("{value} is outside {min}..{max} (option `{option}`)")]
    OutOfRange {
        option: String,
        value: String,
        min: Decimal,
        max: Decimal,
    },
}

impl SelectionError {
    /// The option at fault, so the API can point at `/selections/<option>`.
    pub fn option(&self) -> &str {
        match self {
            SelectionError::UnknownOption { option }
            | SelectionError::SelectedTwice { option, .. }
            | SelectionError::UnknownValue { option, .. }
            | SelectionError::TextTooLong { option, .. }
            | SelectionError::TextNotAllowed { option, .. }
            | SelectionError::NotANumber { option, .. }
            | SelectionError::OutOfRange { option, .. } => option,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outcome {
    /// The selections are consistent with the rules.
    pub valid: bool,
    /// `valid`, and every option that is not left out has a concrete value in
    /// `configuration` (a required text without default has none).
    pub complete: bool,
    /// When valid: the selections plus, for unselected options, the
    /// lexicographically first valid completion (defaults first, optional
    /// options left out when possible). When invalid: the selections as given.
    pub configuration: Selections,
    pub options: Vec<OptionState>,
    /// When invalid: a minimal conflicting subset of the selections.
    pub conflict: Option<Reason>,
    /// When complete and valid.
    pub sku: Option<String>,
    /// When complete and valid.
    pub price: Option<PriceBreakdown>,
    /// Per unit, for the completed configuration; empty when invalid.
    pub bom: Vec<BomRequirement>,
    /// For the completed configuration; empty when invalid.
    pub routing: Vec<RoutingStep>,
    /// Always drawn from `configuration`.
    pub preview_svg: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptionState {
    pub id: String,
    pub name: String,
    /// `choice`, `color`, `text` or `number`.
    pub kind: &'static str,
    pub optional: bool,
    /// The explicit selection (normalised: colours as declared, numbers canonical).
    pub selected: Option<String>,
    /// The effective value in `configuration`.
    pub value: Option<String>,
    /// Empty for text and number options.
    pub values: Vec<ValueState>,
    /// Optional, and leaving it out still extends to a valid configuration.
    pub can_be_omitted: bool,
    pub max_length: Option<u32>,
    pub min: Option<Decimal>,
    pub max: Option<Decimal>,
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueState {
    pub id: String,
    pub label: String,
    /// Some complete valid configuration has this value and agrees with the
    /// explicit selections of every other option.
    pub available: bool,
    /// Set exactly when not available.
    pub reason: Option<Reason>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// A minimal subset of the explicit selections, as (option, value).
    pub selections: Vec<(String, String)>,
    /// A minimal set of rules that already forbids it given those selections.
    pub rules: Vec<RuleRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleRef {
    pub id: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceBreakdown {
    pub currency: String,
    pub base: Decimal,
    pub lines: Vec<PriceLine>,
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceLine {
    pub label: String,
    pub amount: Decimal,
    /// A quantity break's threshold: this line holds from so many units on
    /// (of the line, or of the product in the whole order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_units: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BomRequirement {
    pub material: String,
    pub qty: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingStep {
    pub operation: String,
    pub name: String,
    pub work_center: String,
    pub minutes: Decimal,
    pub setup_minutes: Decimal,
}

/// One product, compiled for configuring.
pub struct Configurator {
    product: Product,
    engine: Engine,
    sku: sku::SkuCodec,
    satisfiable: bool,
    /// Options linked through rules: selections outside an option's component
    /// can never explain its values.
    component: Vec<usize>,
    /// Reasons of values that are impossible even with no selections
    /// (precomputed for the expression engine only; empty otherwise).
    dead: Vec<Vec<Option<Reason>>>,
    /// Option id or alias -> index.
    index: std::collections::HashMap<String, usize>,
    /// Value `k` of option `i` is bit `lit_base[i] + k` of [`Available`].
    lit_base: Vec<usize>,
    /// Per option, its number of declared values.
    counts: Vec<usize>,
}

/// Selections resolved against the product, for a caller that changes them
/// one at a time (a shopper's session): set, change and clear them in any
/// order with [`Configurator::set`] and [`Configurator::clear`].
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Per option: the selected abstract value.
    values: Vec<Option<usize>>,
    /// Per option: the selection's canonical text.
    texts: Vec<Option<String>>,
}

impl State {
    /// The selections, as the API sends them.
    pub fn selections(&self, c: &Configurator) -> Selections {
        c.product
            .options
            .iter()
            .zip(&self.texts)
            .filter_map(|(o, t)| t.as_ref().map(|t| (o.id.clone(), t.clone())))
            .collect()
    }
}

/// The values still possible after a step, with every selection held: value
/// `k` of option `i` (in `Product::options` and `kind.values()` order) is
/// available iff some valid complete configuration extends the selections
/// with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Available<'a> {
    bits: Vec<u64>,
    base: &'a [usize],
    counts: &'a [usize],
}

impl Available<'_> {
    pub fn contains(&self, option: usize, value: usize) -> bool {
        if value >= self.counts[option] {
            return false;
        }
        let l = self.base[option] + value;
        self.bits[l / 64] >> (l % 64) & 1 == 1
    }

    /// The available values of option `option`, as value indexes.
    pub fn values(&self, option: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.counts[option]).filter(move |&k| self.contains(option, k))
    }
}

/// What [`Configurator::domains`] answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Domains {
    pub consistent: bool,
    /// Per choice/colour option (file order): the values still possible.
    /// Empty when inconsistent.
    pub domains: Vec<(String, Vec<String>)>,
    /// When inconsistent: a minimal conflicting subset of the selections.
    pub conflict: Option<Reason>,
}

impl Configurator {
    pub fn new(product: &Product) -> Configurator {
        let csp = compile::compile(product);
        // Tables (imported XCSP/DIMACS models) go to the table engine, which
        // also takes the product's rules as tables of their allowed tuples.
        let engine = if product.tables.is_empty() {
            Engine::new(csp)
        } else {
            Engine::with_tables(product, csp)
        };
        Configurator::with_engine(product, engine)
    }

    /// The product's compiled network as bytes, to keep and hand to
    /// [`Configurator::with_compiled`] later instead of compiling again;
    /// `None` for a product without tables, whose compilation is cheap.
    pub fn compiled_bytes(&self) -> Option<Vec<u8>> {
        self.engine.saved()
    }

    /// [`Configurator::new`] from bytes that [`Configurator::compiled_bytes`]
    /// gave for this same product; `None` when they are not a compilation
    /// of a product shaped like this one (then compile with `new`).
    pub fn with_compiled(product: &Product, bytes: &[u8]) -> Option<Configurator> {
        if product.tables.is_empty() {
            return None;
        }
        let engine = Engine::from_saved(product, compile::compile(product), bytes)?;
        Some(Configurator::with_engine(product, engine))
    }

    fn with_engine(product: &Product, engine: Engine) -> Configurator {
        let n = product.options.len();
        let mut component: Vec<usize> = (0..n).collect();
        fn root(c: &mut [usize], mut i: usize) -> usize {
            while c[i] != i {
                c[i] = c[c[i]];
                i = c[i];
            }
            i
        }
        for c in 0..engine.constraints() {
            for w in engine.constraint_vars(c).windows(2) {
                let (a, b) = (root(&mut component, w[0]), root(&mut component, w[1]));
                component[a] = b;
            }
        }
        for i in 0..n {
            component[i] = root(&mut component, i);
        }
        let satisfiable = engine.satisfiable();
        let lit_base = engine.lit_base();
        let mut c = Configurator {
            lit_base,
            counts: product
                .options
                .iter()
                .map(|o| o.kind.values().len())
                .collect(),
            product: product.clone(),
            engine,
            sku: sku::SkuCodec::new(product),
            satisfiable,
            component,
            dead: Vec::new(),
            index: product
                .options
                .iter()
                .enumerate()
                .flat_map(|(i, o)| {
                    std::iter::once(&o.id)
                        .chain(&o.aliases)
                        .map(move |name| (name.clone(), i))
                })
                .collect(),
        };
        if c.engine.table.is_none() {
            c.dead = c.dead_values();
        }
        c
    }

    /// One unit of `config`: its weight in grams and its sides in
    /// millimetres, from the product's `[parcel]`.
    pub fn parcel(&self, config: &Selections) -> Option<(Decimal, [Decimal; 3])> {
        price::parcel(&self.product, config)
    }

    pub fn product(&self) -> &Product {
        &self.product
    }

    /// Per unit of a complete `config`: the sub-assemblies made for it,
    /// (assembly, units), the level above the materials in `Outcome::bom`.
    pub fn assemblies(&self, config: &Selections) -> Vec<(String, Decimal)> {
        price::assemblies(&self.product, config)
    }

    /// At least one complete valid configuration exists.
    pub fn is_satisfiable(&self) -> bool {
        self.satisfiable
    }

    fn dead_values(&self) -> Vec<Vec<Option<Reason>>> {
        let mut session = Session::new(&self.engine);
        let n = self.product.options.len();
        let none = vec![None; n];
        let sup = self.engine.supports(&none);
        (0..n)
            .map(|i| {
                (0..self.engine.csp.vars[i].size())
                    .map(|v| {
                        if sup[i][v] {
                            return None;
                        }
                        let mut q = none.clone();
                        q[i] = Some(v);
                        let rules = session.minimal_rules(&q);
                        Some(self.reason(&[], &[], &rules))
                    })
                    .collect()
            })
            .collect()
    }

    fn reason(&self, selections: &[usize], concrete: &[Option<String>], rules: &[usize]) -> Reason {
        Reason {
            selections: selections
                .iter()
                .map(|&j| {
                    let value = concrete[j].clone().unwrap_or_default();
                    (self.product.options[j].id.clone(), value)
                })
                .collect(),
            rules: rules.iter().map(|&r| self.rule_ref(r)).collect(),
        }
    }

    /// Constraint `r` of the engine's index space: rules, then tables.
    fn rule_ref(&self, r: usize) -> RuleRef {
        let rules = &self.product.rules;
        match rules.get(r) {
            Some(rule) => RuleRef {
                id: rule.id.clone(),
                message: rule.message.clone(),
            },
            None => {
                let t = &self.product.tables[r - rules.len()];
                RuleRef {
                    id: t.id.clone(),
                    message: t.message.clone(),
                }
            }
        }
    }

    /// Selections as abstract values and canonical texts, per option.
    #[allow(clippy::type_complexity)]
    fn resolve(
        &self,
        selections: &Selections,
    ) -> Result<(Vec<Option<usize>>, Vec<Option<String>>), SelectionError> {
        let n = self.product.options.len();
        let mut sel: Vec<Option<usize>> = vec![None; n];
        let mut concrete: Vec<Option<String>> = vec![None; n];
        let mut named: Vec<Option<&str>> = vec![None; n];
        for (option, value) in selections {
            let i = self.option_index(option)?;
            if let Some(other) = named[i].replace(option) {
                return Err(SelectionError::SelectedTwice {
                    option: option.clone(),
                    other: other.to_owned(),
                });
            }
            if let Some((a, text)) = self.parse(i, value)? {
                sel[i] = Some(a);
                concrete[i] = Some(text);
            }
        }
        Ok((sel, concrete))
    }

    /// The position in `product().options` of the option named `name`, by
    /// id or alias.
    pub fn find_option(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    fn option_index(&self, option: &str) -> Result<usize, SelectionError> {
        self.find_option(option)
            .ok_or_else(|| SelectionError::UnknownOption {
                option: option.to_owned(),
            })
    }

    /// Resolves selections once, for [`Configurator::available`] and for
    /// changing them one at a time.
    pub fn state(&self, selections: &Selections) -> Result<State, SelectionError> {
        let (values, texts) = self.resolve(selections)?;
        Ok(State { values, texts })
    }

    /// Sets or changes one selection (an empty text clears a text option).
    pub fn set(&self, state: &mut State, option: &str, value: &str) -> Result<(), SelectionError> {
        let i = self.option_index(option)?;
        match self.parse(i, value)? {
            Some((a, text)) => {
                state.values[i] = Some(a);
                state.texts[i] = Some(text);
            }
            None => {
                state.values[i] = None;
                state.texts[i] = None;
            }
        }
        Ok(())
    }

    /// Clears one selection.
    pub fn clear(&self, state: &mut State, option: &str) -> Result<(), SelectionError> {
        let i = self.option_index(option)?;
        state.values[i] = None;
        state.texts[i] = None;
        Ok(())
    }

    /// The values still possible with every selection held, or `None` when
    /// the selections conflict: the engine's answer to a step, without
    /// naming anything (see [`Configurator::domains`] for names).
    pub fn available(&self, state: &State) -> Option<Available<'_>> {
        let bits = self.engine.supported(&state.values)?;
        Some(Available {
            bits,
            base: &self.lit_base,
            counts: &self.counts,
        })
    }

    /// The values of every choice/colour option that extend *all* the
    /// selections to a complete valid configuration (a selected option keeps
    /// just its value), or a minimal conflicting subset when there is none.
    /// Cheaper than [`Configurator::configure`]: no reasons, price or SKU.
    pub fn domains(&self, selections: &Selections) -> Result<Domains, SelectionError> {
        let (sel, concrete) = self.resolve(selections)?;
        let Some(bits) = self.engine.supported(&sel) else {
            let mut session = Session::new(&self.engine);
            let n = sel.len();
            let candidates: Vec<usize> = (0..n).filter(|&j| sel[j].is_some()).collect();
            let subset = session.minimal_selections(&sel, &[], &candidates);
            let mut q = vec![None; n];
            subset.iter().for_each(|&j| q[j] = sel[j]);
            let rules = session.minimal_rules(&q);
            return Ok(Domains {
                consistent: false,
                domains: Vec::new(),
                conflict: Some(self.reason(&subset, &concrete, &rules)),
            });
        };
        let domains = self
            .product
            .options
            .iter()
            .enumerate()
            .map(|(i, opt)| {
                let base = self.lit_base[i];
                let values = opt
                    .kind
                    .values()
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| bits[(base + k) / 64] >> ((base + k) % 64) & 1 == 1)
                    .map(|(_, v)| v.id.clone())
                    .collect();
                (opt.id.clone(), values)
            })
            .collect();
        Ok(Domains {
            consistent: true,
            domains,
            conflict: None,
        })
    }

    /// Why `option = value` is not available with these selections (the
    /// option's own selection set aside): a minimal subset of the other
    /// selections that rules it out and a minimal set of rules/tables that
    /// do. `None` when the value is available.
    pub fn explain(
        &self,
        selections: &Selections,
        option: &str,
        value: &str,
    ) -> Result<Option<Reason>, SelectionError> {
        let (mut sel, concrete) = self.resolve(selections)?;
        let i = self.option_index(option)?;
        let Some((k, _)) = self.parse(i, value)? else {
            return Ok(None);
        };
        sel[i] = Some(k);
        let mut session = Session::new(&self.engine);
        if session.sat(&sel) {
            return Ok(None);
        }
        let n = sel.len();
        let candidates: Vec<usize> = (0..n)
            .filter(|&j| j != i && sel[j].is_some() && self.component[j] == self.component[i])
            .collect();
        let subset = session.minimal_selections(&sel, &[i], &candidates);
        let mut only = vec![None; n];
        only[i] = Some(k);
        subset.iter().for_each(|&j| only[j] = sel[j]);
        let rules = session.minimal_rules(&only);
        Ok(Some(self.reason(&subset, &concrete, &rules)))
    }

    /// The exact number of complete valid configurations (an optional
    /// option left out counts as one more value). Fails when the product has
    /// text or number options, whose values are not countable.
    pub fn count(&self) -> Result<BigUint, CountError> {
        if self
            .product
            .options
            .iter()
            .any(|o| o.kind.values().is_empty())
        {
            return Err(CountError::NotCountable);
        }
        count::count(&self.engine, &self.product)
    }

    /// Maps a selection to its abstract value and canonical text; `None` for
    /// an empty text, which means "no text chosen".
    fn parse(&self, i: usize, value: &str) -> Result<Option<(usize, String)>, SelectionError> {
        let opt = &self.product.options[i];
        let option = opt.id.clone();
        let var = &self.engine.csp.vars[i];
        match &opt.kind {
            OptionKind::Choice { values } | OptionKind::Color { values } => {
                let colour = matches!(opt.kind, OptionKind::Color { .. });
                let found = values
                    .iter()
                    .position(|v| v.id == value || (colour && v.id.eq_ignore_ascii_case(value)));
                match found {
                    Some(k) => Ok(Some((k, values[k].id.clone()))),
                    None => Err(SelectionError::UnknownValue {
                        option,
                        value: value.to_string(),
                        allowed: values.iter().map(|v| v.id.clone()).collect(),
                    }),
                }
            }
            OptionKind::Text {
                max_length,
                characters,
            } => {
                if value.is_empty() {
                    Ok(None)
                } else if value.chars().count() > *max_length as usize {
                    Err(SelectionError::TextTooLong {
                        option,
                        max_length: *max_length,
                    })
                } else if let Err(bad) = kiln_model::text::check_text(value, characters.as_ref()) {
                    Err(SelectionError::TextNotAllowed {
                        option,
                        bad,
                        allowed: characters.as_ref().map(|c| c.source.clone()),
                    })
                } else {
                    Ok(Some((0, value.to_string())))
                }
            }
            OptionKind::Number { min, max, .. } => {
                let x: Decimal = value
                    .trim()
                    .parse()
                    .map_err(|_| SelectionError::NotANumber {
                        option: option.clone(),
                        value: value.to_string(),
                    })?;
                if x < *min || x > *max {
                    return Err(SelectionError::OutOfRange {
                        option,
                        value: value.to_string(),
                        min: *min,
                        max: *max,
                    });
                }
                let k = var
                    .values
                    .iter()
                    .position(|a| a.contains(x))
                    .expect("the intervals cover the range");
                Ok(Some((k, x.normalize().to_string())))
            }
        }
    }

    /// The concrete value an unselected option gets from its abstract value.
    fn concrete_of(&self, i: usize, a: usize) -> Option<String> {
        let opt = &self.product.options[i];
        let abs = &self.engine.csp.vars[i].values[a];
        match abs {
            Abstract::Value(k) => Some(opt.kind.values()[*k].id.clone()),
            Abstract::Absent => None,
            Abstract::Present => opt.default.clone().filter(|d| self.parse(i, d).is_ok()),
            Abstract::Interval { .. } => {
                let default = opt
                    .default
                    .as_deref()
                    .and_then(|d| d.parse::<Decimal>().ok());
                let x = default
                    .filter(|d| abs.contains(*d))
                    .or_else(|| abs.representative())?;
                Some(x.normalize().to_string())
            }
        }
    }

    /// Value preference when completing: left out if optional, else the
    /// default, then declaration order.
    fn preference(&self, i: usize) -> Vec<usize> {
        let opt = &self.product.options[i];
        let var = &self.engine.csp.vars[i];
        let mut order: Vec<usize> = Vec::new();
        if opt.optional {
            order.extend(var.absent);
        } else if let Some(Ok(Some((k, _)))) = opt.default.as_deref().map(|d| self.parse(i, d)) {
            order.push(k);
        }
        let first = order.clone();
        order.extend((0..var.size()).filter(|v| !first.contains(v)));
        order
    }

    /// The price of one unit of a complete `configuration` bought as
    /// `units`: its quantity breaks (`[[price]] min_quantity`) counted.
    pub fn price_at(&self, configuration: &Selections, units: Units) -> PriceBreakdown {
        price::price(self.product(), configuration, units)
    }

    /// What repairing one unit of `configuration` goes through: the
    /// product's `[[repair_operation]]` steps, as its routing would be.
    pub fn repair_routing(&self, configuration: &Selections) -> Vec<RoutingStep> {
        price::routing(&self.product().repair_operations, configuration)
    }

    pub fn configure(&self, selections: &Selections) -> Result<Outcome, SelectionError> {
        self.configure_with(selections, true)
    }

    /// Like [`Configurator::configure`], without a reason for each unavailable
    /// value (`reason` is `None`): what placing an order needs, for less work.
    /// A conflict among the selections is still explained.
    pub fn configure_unexplained(
        &self,
        selections: &Selections,
    ) -> Result<Outcome, SelectionError> {
        self.configure_with(selections, false)
    }

    fn configure_with(
        &self,
        selections: &Selections,
        explain: bool,
    ) -> Result<Outcome, SelectionError> {
        let product = &self.product;
        let n = product.options.len();
        let (sel, concrete) = self.resolve(selections)?;

        let mut session = Session::new(&self.engine);
        // Domains are computed against `base`: the selections minus every
        // conflict, removed one minimal conflict at a time until consistent.
        let mut base = sel.clone();
        let mut conflict = None;
        while !session.sat(&base) {
            let candidates: Vec<usize> = (0..n).filter(|&j| base[j].is_some()).collect();
            let subset = session.minimal_selections(&base, &[], &candidates);
            let mut q = vec![None; n];
            subset.iter().for_each(|&j| q[j] = base[j]);
            let rules = session.minimal_rules(&q);
            if conflict.is_none() {
                conflict = Some(self.reason(&subset, &concrete, &rules));
            }
            if subset.is_empty() {
                break; // the product itself has no valid configuration
            }
            subset.iter().for_each(|&j| base[j] = None);
        }
        let valid = conflict.is_none();

        let sup = self.engine.supports(&base);
        let mut options = Vec::with_capacity(n);
        let completion = if valid {
            let prefer: Vec<Vec<usize>> = (0..n).map(|i| self.preference(i)).collect();
            self.engine.first(&sel, &prefer)
        } else {
            None
        };
        let mut configuration = Selections::new();
        let mut complete = valid;
        for i in 0..n {
            let value = match (&concrete[i], &completion) {
                (Some(c), _) => Some(c.clone()),
                (None, Some(sol)) => {
                    let v = self.concrete_of(i, sol[i]);
                    if v.is_none() && Some(sol[i]) != self.engine.csp.vars[i].absent {
                        complete = false;
                    }
                    v
                }
                (None, None) => None,
            };
            if let Some(v) = value {
                configuration.insert(product.options[i].id.clone(), v);
            }
        }

        for (i, opt) in product.options.iter().enumerate() {
            let var = &self.engine.csp.vars[i];
            let mut values = Vec::new();
            for (k, v) in opt.kind.values().iter().enumerate() {
                let available = sup[i][k];
                let reason = (explain && !available).then(|| {
                    match self.dead.get(i).and_then(|d| d[k].as_ref()) {
                        Some(r) => r.clone(),
                        None => {
                            let mut q = base.clone();
                            q[i] = Some(k);
                            let candidates: Vec<usize> = (0..n)
                                .filter(|&j| {
                                    j != i
                                        && base[j].is_some()
                                        && self.component[j] == self.component[i]
                                })
                                .collect();
                            let subset = session.minimal_selections(&q, &[i], &candidates);
                            let mut only = vec![None; n];
                            only[i] = Some(k);
                            subset.iter().for_each(|&j| only[j] = base[j]);
                            let rules = session.minimal_rules(&only);
                            self.reason(&subset, &concrete, &rules)
                        }
                    }
                });
                values.push(ValueState {
                    id: v.id.clone(),
                    label: v.label.clone(),
                    available,
                    reason,
                });
            }
            let (max_length, min, max, unit) = match &opt.kind {
                OptionKind::Text { max_length, .. } => (Some(*max_length), None, None, None),
                OptionKind::Number { min, max, unit } => {
                    (None, Some(*min), Some(*max), Some(unit.clone()))
                }
                _ => (None, None, None, None),
            };
            options.push(OptionState {
                id: opt.id.clone(),
                name: opt.name.clone(),
                kind: opt.kind.name(),
                optional: opt.optional,
                selected: concrete[i].clone(),
                value: configuration.get(&opt.id).cloned(),
                values,
                can_be_omitted: var.absent.is_some_and(|a| sup[i][a]),
                max_length,
                min,
                max,
                unit,
            });
        }

        let (sku, price) = if complete {
            (
                Some(self.sku.sku(&configuration)),
                Some(price::price(product, &configuration, Units::ONE)),
            )
        } else {
            (None, None)
        };
        let (bom, routing) = if valid {
            (
                price::bom(product, &configuration),
                price::routing(&product.operations, &configuration),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Outcome {
            valid,
            complete,
            preview_svg: preview::svg(product, &configuration),
            configuration,
            options,
            conflict,
            sku,
            price,
            bom,
            routing,
        })
    }
}
