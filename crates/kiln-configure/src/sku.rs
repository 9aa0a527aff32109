//! Canonical SKU: a pure function of the configuration.
//!
//! `MUG-M-CLASSIC-1D3557-E_7F3A9C1B`: the product id uppercased, then one
//! segment per option in declaration order. Segments never contain `-`.
//! Required options give a bare segment; an optional option gives
//! `TAG_segment` when present and nothing when left out, where `TAG` is unique
//! among the product's optional options and `_` never occurs in a bare
//! segment, so a reader always knows which option a segment belongs to.
//! Choice and colour values within an option map to distinct segments.
//! Numbers are written exactly; text contributes a 16-hex-digit FNV-1a 64
//! hash, the one place where two configurations could share a SKU (about one
//! chance in 10^6 across ten million different texts of one option).

use std::collections::{BTreeMap, HashSet};

use kiln_model::{OptionKind, Product};

pub(crate) struct SkuCodec {
    prefix: String,
    parts: Vec<Part>,
}

struct Part {
    id: String,
    letter: String,
    /// Set for optional options.
    tag: Option<String>,
    kind: PartKind,
}

enum PartKind {
    /// Value id -> segment.
    Values(BTreeMap<String, String>),
    Text,
    Number,
}

fn sanitize(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl SkuCodec {
    pub(crate) fn new(product: &Product) -> SkuCodec {
        let mut tags: Vec<Option<String>> = product
            .options
            .iter()
            .map(|o| {
                o.optional
                    .then(|| sanitize(&o.id).chars().take(1).collect())
            })
            .collect();
        let unique = |tags: &[Option<String>]| {
            let t: Vec<&String> = tags.iter().flatten().collect();
            t.iter().all(|x| !x.is_empty()) && t.iter().collect::<HashSet<_>>().len() == t.len()
        };
        if !unique(&tags) {
            for (t, o) in tags.iter_mut().zip(&product.options) {
                if t.is_some() {
                    *t = Some(sanitize(&o.id));
                }
            }
        }
        if !unique(&tags) {
            for (k, t) in tags.iter_mut().enumerate() {
                if t.is_some() {
                    *t = Some(format!("O{k}"));
                }
            }
        }
        let parts = product
            .options
            .iter()
            .zip(tags)
            .map(|(o, tag)| {
                let kind = match &o.kind {
                    OptionKind::Choice { values } | OptionKind::Color { values } => {
                        let mut segs: BTreeMap<String, String> = values
                            .iter()
                            .map(|v| (v.id.clone(), sanitize(&v.id)))
                            .collect();
                        let distinct: HashSet<&String> = segs.values().collect();
                        if distinct.len() != values.len() || segs.values().any(String::is_empty) {
                            // Ids that only differ in case or punctuation: fall back to positions.
                            segs = values
                                .iter()
                                .enumerate()
                                .map(|(k, v)| (v.id.clone(), format!("V{}", k + 1)))
                                .collect();
                        }
                        PartKind::Values(segs)
                    }
                    OptionKind::Text { .. } => PartKind::Text,
                    OptionKind::Number { .. } => PartKind::Number,
                };
                let letter = sanitize(&o.id).chars().take(1).collect();
                Part {
                    id: o.id.clone(),
                    letter,
                    tag,
                    kind,
                }
            })
            .collect();
        SkuCodec {
            prefix: product.id.to_uppercase(),
            parts,
        }
    }

    /// The SKU of a complete configuration (option id -> canonical value).
    pub(crate) fn sku(&self, configuration: &BTreeMap<String, String>) -> String {
        let mut out = self.prefix.clone();
        for p in &self.parts {
            let Some(value) = configuration.get(&p.id) else {
                continue;
            };
            let seg = match &p.kind {
                PartKind::Values(segs) => {
                    segs.get(value).cloned().unwrap_or_else(|| sanitize(value))
                }
                PartKind::Text => format!("{:016X}", fnv1a64(value)),
                // Numbers are stored normalised; `-` would break segments.
                PartKind::Number => value.replace('-', "N"),
            };
            out.push('-');
            match &p.tag {
                Some(tag) => {
                    out.push_str(tag);
                    out.push('_');
                }
                None if !matches!(p.kind, PartKind::Values(_)) => out.push_str(&p.letter),
                None => {}
            }
            out.push_str(&seg);
        }
        out
    }
}

/// FNV-1a 64: stable across platforms and releases.
pub(crate) fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv_reference_values() {
        // FNV-1a 64 of "" is the offset basis; of "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(super::fnv1a64(""), 0xcbf29ce484222325);
        assert_eq!(super::fnv1a64("a"), 0xaf63dc4c8601ec8c);
    }
}
