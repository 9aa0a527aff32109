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
mod outcome;
mod preview;

pub use preview::escape as xml_escape;
mod price;
pub use price::Units;
mod search;
mod session;
mod sku;
mod table;

use std::collections::BTreeMap;

use kiln_model::{OptionKind, Product};
use rust_decimal::Decimal;

pub use conflict::{
    CheckedCatalog, Conflict, ConflictingRule, RuleKind, check_catalog, check_satisfiable,
};
pub use count::CountError;
pub use num_bigint::BigUint;
pub use outcome::{
    BomRequirement, OptionState, Outcome, PriceBreakdown, PriceLine, Reason, RoutingStep, RuleRef,
    SelectionError, ValueState,
};
pub use session::{Available, Domains, State};

use compile::Abstract;
use explain::Session;
use search::Engine;

/// Option id -> value text, as the API sends them.
pub type Selections = BTreeMap<String, String>;

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
