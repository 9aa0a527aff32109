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

/// Each sub-assembly's materials per unit, nested ones exploded.
#[derive(Debug, Clone, Default)]
pub(super) struct Levels {
    exploded: HashMap<String, Vec<(String, Decimal)>>,
}

impl Levels {
    pub(super) fn new(factory: &Factory) -> Levels {
        let mut exploded = HashMap::new();
        for a in &factory.assemblies {
            let mut path = Vec::new();
            let mut out = BTreeMap::new();
            explode(factory, &a.id, Decimal::ONE, &mut path, &mut out);
            exploded.insert(a.id.clone(), out.into_iter().collect());
        }
        Levels { exploded }
    }

    /// The plan's made items: every sub-assembly of the factory file.
    pub(super) fn items(factory: &Factory) -> impl Iterator<Item = Item> + '_ {
        factory.assemblies.iter().map(|a| Item {
            id: a.id.clone(),
            source: Source::Make,
            lead_days: 0,
            moq: Decimal::ZERO,
            lot_size: Decimal::ZERO,
            on_hand: Decimal::ZERO,
            reserved: Decimal::ZERO,
        })
    }

    /// The plan's BOM: each sub-assembly's own lines, materials and nested
    /// sub-assemblies the factory file knows.
    pub(super) fn bom(factory: &Factory) -> Vec<BomLine> {
        let mut out = Vec::new();
        for a in &factory.assemblies {
            for l in &a.bom {
                let component = match &l.part {
                    Part::Material(m) if factory.material(m).is_some() => m,
                    Part::Assembly(b) if factory.assembly(b).is_some() => b,
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
            if units <= Decimal::ZERO {
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
}

/// Adds `units` of assembly `id`'s materials to `out`, nested assemblies
/// exploded; a cycle (which the catalog check refuses) is cut.
fn explode<'f>(
    factory: &'f Factory,
    id: &'f str,
    units: Decimal,
    path: &mut Vec<&'f str>,
    out: &mut BTreeMap<String, Decimal>,
) {
    let Some(a) = factory.assembly(id) else {
        return;
    };
    if path.contains(&id) {
        return;
    }
    path.push(id);
    for l in &a.bom {
        let Some(q) = l.qty.checked_mul(units) else {
            continue;
        };
        match &l.part {
            Part::Material(m) => {
                if factory.material(m).is_some() {
                    *out.entry(m.clone()).or_default() += q;
                }
            }
            Part::Assembly(b) => explode(factory, b, q, path, out),
        }
    }
    path.pop();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(exploded: &[(&str, &[(&str, i64)])]) -> Levels {
        Levels {
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

    #[test]
    fn a_sub_assembly_of_operations_only_is_a_level_of_its_own() {
        let l = levels(&[("press", &[])]);
        let got = l.level(&map(&[("rubber", 1)]), &map(&[("press", 2), ("x", 1)]));
        assert_eq!(got, map(&[("press", 2), ("rubber", 1)]));
    }
}
