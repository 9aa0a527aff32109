//! The levels of the live material plan: products' sub-assemblies are made
//! items (`Source::Make`) above the materials they are made from, with the
//! factory file's `[[assembly.*.bom]]` lines as the plan's BOM.
//!
//! An order's needs arrive two ways at once: its materials with every
//! sub-assembly exploded (what the order path allocates and buys), and the
//! sub-assemblies its lines make. [`Levels::level`] turns the two into the
//! demand the plan nets: each sub-assembly as a demand of its own, and the
//! materials left over once each one's exploded materials are taken out. A
//! sub-assembly whose materials are no longer all needed (some were issued
//! to production already) stays exploded: its materials are what is left
//! to cover. The live plan and a rebuild from the store level the same
//! totals the same way, so they agree.
//!
//! A sub-assembly is made inside its order's job on the live schedule (its
//! operations come first), so it carries no stock and no lead time of its
//! own: its materials are needed the day the job starts.

use std::collections::{BTreeMap, HashMap};

use kiln_model::{Factory, Part};
use kiln_plan::mrp::{BomLine, Item, Source};
use rust_decimal::Decimal;

/// The plan holds quantities to the millionth: a sub-assembly is levelled
/// only where every quantity through it is exact at that.
const PLAN_DECIMALS: u32 = 6;
/// Millionths in 64 bits: the most the plan holds of an item.
const PLAN_MOST: Decimal = Decimal::from_parts(2077252342, 2147, 0, false, 0);

/// The sub-assemblies the plan levels, and what is below each.
#[derive(Debug, Clone, Default)]
pub(super) struct Levels {
    /// Each levelled sub-assembly's materials per unit, nested ones
    /// exploded.
    exploded: HashMap<String, Vec<(String, Decimal)>>,
    /// Per unit of each, every item below it (nested sub-assemblies and
    /// materials): what the plan multiplies a unit count by.
    below: HashMap<String, Vec<Decimal>>,
}

impl Levels {
    /// Every sub-assembly of the factory file whose quantities the plan
    /// can hold (those it cannot stay exploded into their materials, as
    /// the order path sees them).
    pub(super) fn new(factory: &Factory) -> Levels {
        let mut memo: HashMap<&str, Option<BTreeMap<String, Decimal>>> = HashMap::new();
        for a in &factory.assemblies {
            below(factory, &a.id, &mut memo, &mut Vec::new());
        }
        let mut levels = Levels::default();
        for (id, under) in memo {
            let Some(under) = under else { continue };
            levels.exploded.insert(
                id.to_string(),
                under
                    .iter()
                    .filter(|(i, _)| factory.material(i).is_some())
                    .map(|(i, q)| (i.clone(), *q))
                    .collect(),
            );
            levels
                .below
                .insert(id.to_string(), under.into_values().collect());
        }
        levels
    }

    /// The plan's made items: the levelled sub-assemblies.
    pub(super) fn items<'f>(
        &self,
        factory: &'f Factory,
    ) -> impl Iterator<Item = Item> + use<'f, '_> {
        factory
            .assemblies
            .iter()
            .filter(|a| self.is_assembly(&a.id))
            .map(|a| Item {
                id: a.id.clone(),
                source: Source::Make,
                lead_days: 0,
                moq: Decimal::ZERO,
                lot_size: Decimal::ZERO,
                on_hand: Decimal::ZERO,
                reserved: Decimal::ZERO,
            })
    }

    /// The plan's BOM: each levelled sub-assembly's own lines.
    pub(super) fn bom(&self, factory: &Factory) -> Vec<BomLine> {
        let mut out = Vec::new();
        for a in factory
            .assemblies
            .iter()
            .filter(|a| self.is_assembly(&a.id))
        {
            for l in &a.bom {
                let component = match &l.part {
                    Part::Material(m) if factory.material(m).is_some() => m,
                    Part::Assembly(b) if self.is_assembly(b) => b,
                    _ => continue,
                };
                out.push(BomLine {
                    parent: a.id.clone(),
                    component: component.clone(),
                    qty_per: l.qty,
                });
            }
        }
        out
    }

    pub(super) fn is_assembly(&self, item: &str) -> bool {
        self.exploded.contains_key(item)
    }

    /// The demand standing for `materials` (sub-assemblies exploded) and
    /// the sub-assemblies made for them: each sub-assembly whose exploded
    /// materials are all still needed, in id order, then the materials
    /// left. Nothing at or below zero.
    pub(super) fn level(
        &self,
        materials: &BTreeMap<String, Decimal>,
        assemblies: &BTreeMap<String, Decimal>,
    ) -> BTreeMap<String, Decimal> {
        let mut left = materials.clone();
        let mut out = BTreeMap::new();
        for (a, &units) in assemblies {
            let Some(parts) = self.exploded.get(a) else {
                continue;
            };
            if units <= Decimal::ZERO || !self.exact(a, units) {
                continue;
            }
            let wanted: Option<Vec<(&String, Decimal)>> = parts
                .iter()
                .map(|(m, per)| Some((m, per.checked_mul(units)?)))
                .collect();
            let Some(wanted) = wanted else { continue };
            let all_there = wanted
                .iter()
                .all(|(m, q)| left.get(*m).is_some_and(|have| have >= q));
            if !all_there {
                continue;
            }
            for (m, q) in wanted {
                if let Some(have) = left.get_mut(m) {
                    *have -= q;
                }
            }
            out.insert(a.clone(), units);
        }
        out.extend(left.into_iter().filter(|(_, q)| *q > Decimal::ZERO));
        out
    }

    /// Whether `units` of `assembly`, and every quantity below it, are
    /// whole millionths the plan can hold: its explosion is then the order
    /// path's.
    fn exact(&self, assembly: &str, units: Decimal) -> bool {
        let fits = |q: Decimal| q.normalize().scale() <= PLAN_DECIMALS && q <= PLAN_MOST;
        fits(units)
            && self.below.get(assembly).is_none_or(|pers| {
                pers.iter()
                    .all(|per| per.checked_mul(units).is_some_and(fits))
            })
    }
}

/// What a plan's BOM line can say per unit: not negative, at most 18
/// decimals, its digits in 64 bits.
fn plannable(qty: Decimal) -> bool {
    let q = qty.normalize();
    !q.is_sign_negative() && q.scale() <= 18 && i64::try_from(q.mantissa()).is_ok()
}

/// Every item below assembly `id` per unit of it, (item, quantity), nested
/// assemblies and their materials; `None` when the plan cannot level it (a
/// quantity it cannot hold, or one too large). Each assembly is worked out
/// once, into `memo`; a cycle (which the catalog check refuses) is cut.
fn below<'f>(
    factory: &'f Factory,
    id: &'f str,
    memo: &mut HashMap<&'f str, Option<BTreeMap<String, Decimal>>>,
    path: &mut Vec<&'f str>,
) -> Option<BTreeMap<String, Decimal>> {
    if let Some(done) = memo.get(id) {
        return done.clone();
    }
    let a = factory.assembly(id)?;
    if path.contains(&id) {
        return None;
    }
    path.push(id);
    let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut ok = true;
    let add = |out: &mut BTreeMap<String, Decimal>, item: &str, q: Decimal| -> bool {
        let sum = out.entry(item.to_string()).or_default();
        match sum.checked_add(q) {
            Some(s) => {
                *sum = s;
                true
            }
            None => false,
        }
    };
    for l in &a.bom {
        if !plannable(l.qty) {
            ok = false;
            break;
        }
        match &l.part {
            Part::Material(m) => {
                if factory.material(m).is_some() {
                    ok &= add(&mut out, m, l.qty);
                }
            }
            Part::Assembly(b) => {
                if factory.assembly(b).is_none() {
                    continue;
                }
                let Some(sub) = below(factory, b, memo, path) else {
                    ok = false;
                    break;
                };
                ok &= add(&mut out, b, l.qty);
                for (item, per) in sub {
                    ok &= l
                        .qty
                        .checked_mul(per)
                        .is_some_and(|q| add(&mut out, &item, q));
                }
            }
        }
        if !ok {
            break;
        }
    }
    path.pop();
    let result = ok.then_some(out);
    memo.insert(id, result.clone());
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(exploded: &[(&str, &[(&str, i64)])]) -> Levels {
        Levels {
            below: HashMap::new(),
            exploded: exploded
                .iter()
                .map(|(a, parts)| {
                    (
                        a.to_string(),
                        parts
                            .iter()
                            .map(|(m, q)| (m.to_string(), Decimal::from(*q)))
                            .collect(),
                    )
                })
                .collect(),
        }
    }

    fn map(entries: &[(&str, i64)]) -> BTreeMap<String, Decimal> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), Decimal::from(*v)))
            .collect()
    }

    #[test]
    fn a_sub_assembly_stands_for_its_materials() {
        let l = levels(&[("sole", &[("rubber", 2), ("glue", 1)])]);
        let got = l.level(
            &map(&[("rubber", 7), ("glue", 3), ("leather", 1)]),
            &map(&[("sole", 3)]),
        );
        assert_eq!(got, map(&[("sole", 3), ("rubber", 1), ("leather", 1)]));
    }

    #[test]
    fn a_sub_assembly_whose_materials_are_gone_stays_exploded() {
        let l = levels(&[("sole", &[("rubber", 2)])]);
        let got = l.level(&map(&[("rubber", 5)]), &map(&[("sole", 3)]));
        assert_eq!(got, map(&[("rubber", 5)]));
        assert_eq!(l.level(&map(&[]), &map(&[("sole", 1)])), map(&[]));
    }

    proptest::proptest! {
        /// Levelled, the needs explode back to exactly the materials given:
        /// a sub-assembly only ever stands for materials that are needed.
        #[test]
        fn levels_explode_back_to_the_materials(
            materials in proptest::collection::btree_map("[a-d]", 1i64..50, 0..4),
            assemblies in proptest::collection::btree_map("[s-u]", 1i64..6, 0..3),
        ) {
            let l = levels(&[
                ("s", &[("a", 2), ("b", 1)]),
                ("t", &[("b", 3)]),
                ("u", &[]),
            ]);
            let dec = |m: &BTreeMap<String, i64>| -> BTreeMap<String, Decimal> {
                m.iter().map(|(k, v)| (k.clone(), Decimal::from(*v))).collect()
            };
            let (materials, assemblies) = (dec(&materials), dec(&assemblies));
            let levelled = l.level(&materials, &assemblies);
            let mut back: BTreeMap<String, Decimal> = BTreeMap::new();
            for (item, qty) in &levelled {
                proptest::prop_assert!(*qty > Decimal::ZERO);
                match l.exploded.get(item) {
                    Some(parts) => {
                        proptest::prop_assert_eq!(assemblies.get(item), Some(qty));
                        for (m, per) in parts {
                            *back.entry(m.clone()).or_default() += per * qty;
                        }
                    }
                    None => *back.entry(item.clone()).or_default() += *qty,
                }
            }
            proptest::prop_assert_eq!(back, materials);
        }
    }

    /// `n` assemblies, each made of two of the next; the last of rubber
    /// by `per`.
    fn chain(n: usize, per: &str) -> Factory {
        let mut src = String::from("[material.rubber]\nunit = \"kg\"\n");
        for i in 0..n {
            src.push_str(&format!("[assembly.a{i}]\n"));
            if i + 1 < n {
                for _ in 0..2 {
                    src.push_str(&format!(
                        "[[assembly.a{i}.bom]]\nassembly = \"a{}\"\nqty = 1\n",
                        i + 1
                    ));
                }
            } else {
                src.push_str(&format!(
                    "[[assembly.a{i}.bom]]\nmaterial = \"rubber\"\nqty = {per}\n"
                ));
            }
        }
        kiln_model::parse_factory("factory.toml", &src).expect("a factory file")
    }

    #[test]
    fn deep_sub_assemblies_are_worked_out_once_each() {
        // Named twice at each of 60 levels: 2^59 paths, 60 assemblies.
        let l = Levels::new(&chain(60, "1"));
        assert_eq!(l.exploded.len(), 60);
        assert_eq!(
            l.exploded["a0"],
            vec![("rubber".to_string(), Decimal::from(1u64 << 59))]
        );
        let l = Levels::new(&chain(200, "1"));
        assert!(
            !l.is_assembly("a0"),
            "2^199 rubber per unit is too large to plan"
        );
        assert!(l.is_assembly("a150"));
    }

    #[test]
    fn a_sub_assembly_stays_exploded_where_the_plan_would_round() {
        let l = Levels::new(&chain(1, "0.3333333"));
        let rubber =
            |q: &str| BTreeMap::from([("rubber".to_string(), q.parse::<Decimal>().unwrap())]);
        let made = |u: i64| BTreeMap::from([("a0".to_string(), Decimal::from(u))]);
        // 3 units need 0.9999999 kg: seven decimals, finer than the plan's.
        assert_eq!(l.level(&rubber("0.9999999"), &made(3)), rubber("0.9999999"));
        assert_eq!(super::PLAN_MOST, Decimal::from(i64::MAX / 1_000_000));
        let l = Levels::new(&chain(1, "0.25"));
        assert_eq!(l.level(&rubber("0.75"), &made(3)), made(3));
    }

    #[test]
    fn a_sub_assembly_of_operations_only_is_a_level_of_its_own() {
        let l = levels(&[("press", &[])]);
        let got = l.level(&map(&[("rubber", 1)]), &map(&[("press", 2), ("x", 1)]));
        assert_eq!(got, map(&[("press", 2), ("rubber", 1)]));
    }
}
