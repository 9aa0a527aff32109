//! A shopper's session: selections resolved against the product and changed one
//! at a time, the values still available after them, and each option's domain.

use serde::Serialize;

use crate::explain::Session;
use crate::{Configurator, Reason, SelectionError, Selections};

/// Selections resolved against the product, for a caller that changes them
/// one at a time (a shopper's session): set, change and clear them in any
/// order with [`Configurator::set`] and [`Configurator::clear`].
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Per option: the selected abstract value.
    pub(crate) values: Vec<Option<usize>>,
    /// Per option: the selection's canonical text.
    pub(crate) texts: Vec<Option<String>>,
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
    pub(crate) bits: Vec<u64>,
    pub(crate) base: &'a [usize],
    pub(crate) counts: &'a [usize],
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
}
