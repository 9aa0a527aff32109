//! Assemblies across files: what they point at, cycles, and [`flatten`],
//! which turns a product's assembly lines into BOM lines and operations.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::{Assembly, AssemblyUse, Expansion, Part};
use crate::check::known;
use crate::{BomLine, Diagnostic, Factory, Operation, Product, Quantity, Span};

/// Assemblies nest at most this many levels below a product's BOM line.
pub const MAX_DEPTH: usize = 32;

/// A product's assembly lines add at most this many operations.
pub const MAX_OPERATIONS: usize = 1000;

fn push(out: &mut Vec<Diagnostic>, file: &str, span: Span, message: String) {
    out.push(Diagnostic {
        file: file.to_owned(),
        span,
        message,
    });
}

/// Checks the merged factory's assemblies: an id shared with a material,
/// unknown materials, assemblies and work centres, and assemblies that
/// contain themselves. `files[i]` is the file of `factory.assemblies[i]`;
/// `materials` is `(id, file, span)` of every material.
pub(crate) fn cross_check(
    factory: &Factory,
    files: &[String],
    materials: &[(String, String, Span)],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let file = |i: usize| files.get(i).map_or("", String::as_str);
    let index: HashMap<&str, usize> = factory
        .assemblies
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    for (i, a) in factory.assemblies.iter().enumerate() {
        if let Some((_, f, first)) = materials.iter().find(|(id, _, _)| *id == a.id) {
            let msg = format!(
                "assembly `{}` has the id of a material (in {f} at line {}, column {}): \
                 materials and assemblies share one set of ids",
                a.id, first.line, first.column
            );
            push(&mut out, file(i), a.span, msg);
        }
        for l in &a.bom {
            let msg = match &l.part {
                Part::Material(m) if factory.material(m).is_none() => unknown_material(factory, m),
                Part::Assembly(b) if !index.contains_key(b.as_str()) => {
                    unknown_assembly(factory, b)
                }
                _ => continue,
            };
            push(&mut out, file(i), l.part_span, msg);
        }
        for op in &a.operations {
            if factory.work_center(&op.work_center).is_none() {
                let msg = format!(
                    "unknown work centre `{}`{}",
                    op.work_center,
                    known(
                        factory.work_centers.iter().map(|w| w.id.as_str()),
                        "work centres",
                        ""
                    )
                );
                push(&mut out, file(i), op.work_center_span, msg);
            }
        }
    }
    cycles(factory, &index, &mut |i, span, msg| {
        push(&mut out, file(i), span, msg)
    });
    out
}

pub(crate) fn unknown_material(factory: &Factory, id: &str) -> String {
    if factory.assembly(id).is_some() {
        return format!(
            "unknown material `{id}` (`{id}` is an assembly: write `assembly = \"{id}\"`)"
        );
    }
    format!(
        "unknown material `{id}`{}",
        known(
            factory.materials.iter().map(|m| m.id.as_str()),
            "materials",
            ""
        )
    )
}

pub(crate) fn unknown_assembly(factory: &Factory, id: &str) -> String {
    if factory.material(id).is_some() {
        return format!(
            "unknown assembly `{id}` (`{id}` is a material: write `material = \"{id}\"`)"
        );
    }
    let hint = " (no `[assembly.*]` is declared)";
    format!(
        "unknown assembly `{id}`{}",
        known(
            factory.assemblies.iter().map(|a| a.id.as_str()),
            "assemblies",
            hint
        )
    )
}

/// Every assembly that contains itself, through any number of others:
/// reported once per cycle, at the line that closes it (depth-first, in
/// file order; without recursion, so no chain is too long).
fn cycles(
    factory: &Factory,
    index: &HashMap<&str, usize>,
    report: &mut dyn FnMut(usize, Span, String),
) {
    let all = &factory.assemblies;
    // 0: not seen, 1: on the path, 2: done.
    let mut state = vec![0u8; all.len()];
    for root in 0..all.len() {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        // (assembly, its next BOM line)
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(v, k)) = path.last() {
            let Some(l) = all[v].bom.get(k) else {
                state[v] = 2;
                path.pop();
                continue;
            };
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            let Part::Assembly(b) = &l.part else { continue };
            let Some(&w) = index.get(b.as_str()) else {
                continue;
            };
            match state[w] {
                0 => {
                    state[w] = 1;
                    path.push((w, 0));
                }
                1 => {
                    let from = path.iter().position(|&(x, _)| x == w).unwrap_or(0);
                    let names: Vec<&str> = path[from..]
                        .iter()
                        .map(|&(x, _)| all[x].id.as_str())
                        .chain([b.as_str()])
                        .collect();
                    report(
                        v,
                        l.part_span,
                        format!(
                            "assembly cycle: {} (an assembly cannot be made from itself)",
                            names.join(" → ")
                        ),
                    );
                }
                _ => {}
            }
        }
    }
}

/// Expands `product`'s assembly lines ([`Product::assemblies`]) into plain
/// BOM lines and operations, so that every engine downstream sees an
/// ordinary product. This is the one place it happens, and
/// [`check`](crate::check) calls it once per product, after the factory
/// files are merged; a product whose lines are already expanded is left as
/// it is.
///
/// For a line using assembly `a` with `qty` (a [`Quantity`], maybe by
/// option) and condition `if`:
///
/// - each material of `a`, through nested assemblies, becomes one BOM line
///   at the position of the assembly line: `qty` × the material's quantity
///   per unit of `a` (the product of the quantities along the way, summed
///   over the ways), with the line's `if` and span;
/// - `a`'s operations come before the product's own (it is made first),
///   nested assemblies' operations before their parent's, in BOM order:
///   id `a.op` (`a.b.op` for `op` of `b` nested in `a`), the name as
///   written, minutes `qty` × the units of its assembly per unit of `a` ×
///   the operation's minutes, setup unchanged, the line's `if` and span.
///
/// Unknown ids and cycles are reported where they are written (the product
/// line, [`cross_check`]) and skipped here; this reports quantities too
/// large to compute, nesting deeper than [`MAX_DEPTH`], more than
/// [`MAX_OPERATIONS`] operations, and an operation id the routing already
/// has, each at the product's assembly line.
pub(crate) fn flatten(file: &str, product: &mut Product, factory: &Factory) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let uses = &product.assemblies;
    if uses.is_empty() || uses.iter().any(|u| u.expanded.is_some()) {
        return out;
    }
    let mut uses = std::mem::take(&mut product.assemblies);
    let written = std::mem::take(&mut product.bom);
    let own = std::mem::take(&mut product.operations);
    let mut order: Vec<usize> = (0..uses.len()).collect();
    order.sort_by_key(|&i| uses[i].line);
    let mut x = Expander::new(factory);
    let mut bom: Vec<BomLine> = Vec::with_capacity(written.len());
    let mut ops: Vec<Operation> = Vec::new();
    let mut materials = written.into_iter();
    let mut taken = 0;
    for (rank, &i) in order.iter().enumerate() {
        // The material lines written before this one.
        while taken + rank < uses[i].line {
            let Some(m) = materials.next() else { break };
            bom.push(m);
            taken += 1;
        }
        let (b0, o0) = (bom.len(), ops.len());
        if let Err(flaw) = x.expand(&uses[i], &mut bom, &mut ops) {
            push(
                &mut out,
                file,
                uses[i].span,
                flaw.message(&uses[i].assembly),
            );
        }
        uses[i].expanded = Some(Expansion {
            bom: b0..bom.len(),
            operations: o0..ops.len(),
        });
    }
    bom.extend(materials);
    // An operation id twice in the routing: once per assembly line.
    let mut seen: HashMap<String, Span> = own.iter().map(|o| (o.id.clone(), o.span)).collect();
    for u in &uses {
        let Some(e) = &u.expanded else { continue };
        for op in &ops[e.operations.clone()] {
            if let Some(first) = seen.get(&op.id) {
                let msg = format!(
                    "assembly `{}` adds operation `{}`, which the routing already has (line {}, column {}): \
                     use an assembly on one line (its `qty` may be by option)",
                    u.assembly, op.id, first.line, first.column
                );
                push(&mut out, file, u.span, msg);
                break;
            }
            seen.insert(op.id.clone(), op.span);
        }
    }
    ops.extend(own);
    product.bom = bom;
    product.operations = ops;
    product.assemblies = uses;
    out
}

/// Why an assembly line could not be expanded.
#[derive(Debug, Clone, Copy)]
enum Flaw {
    Deep,
    Large,
    Many,
}

impl Flaw {
    /// Said of the assembly the product's line names.
    fn message(self, assembly: &str) -> String {
        match self {
            Flaw::Deep => {
                format!("assembly `{assembly}` nests more than {MAX_DEPTH} levels of assemblies")
            }
            Flaw::Large => {
                format!("the quantities through assembly `{assembly}` are too large to compute")
            }
            Flaw::Many => {
                format!("assembly `{assembly}` adds more than {MAX_OPERATIONS} operations")
            }
        }
    }
}

/// `q` × `by`, each amount of a quantity by option.
fn scale(q: &Quantity, by: Decimal) -> Option<Quantity> {
    Some(match q {
        Quantity::Fixed(d) => Quantity::Fixed(d.checked_mul(by)?),
        Quantity::ByValue { option, by_value } => Quantity::ByValue {
            option: option.clone(),
            by_value: by_value
                .iter()
                .map(|(v, d)| Some((v.clone(), d.checked_mul(by)?)))
                .collect::<Option<_>>()?,
        },
    })
}

/// One product's expansion, with what it learnt of each assembly.
struct Expander<'f> {
    factory: &'f Factory,
    /// The assemblies being expanded, outermost first: one met again is a
    /// cycle, reported by [`cross_check`] and skipped.
    path: Vec<&'f str>,
    /// Levels of assemblies in each, itself included.
    height: HashMap<&'f str, usize>,
    /// Each material per unit of each assembly, in first-mention order.
    materials: HashMap<&'f str, Vec<(&'f str, Decimal)>>,
    /// Whether each has an operation, itself or nested.
    has_ops: HashMap<&'f str, bool>,
}

impl<'f> Expander<'f> {
    fn new(factory: &'f Factory) -> Self {
        Expander {
            factory,
            path: Vec::new(),
            height: HashMap::new(),
            materials: HashMap::new(),
            has_ops: HashMap::new(),
        }
    }

    /// The assemblies `a` is made from: known, and not a cycle back.
    fn parts(
        &self,
        a: &'f Assembly,
    ) -> impl Iterator<Item = (&'f Assembly, Decimal)> + use<'f, '_> {
        a.bom.iter().filter_map(|l| match &l.part {
            Part::Assembly(b) if !self.path.contains(&b.as_str()) => {
                Some((self.factory.assembly(b)?, l.qty))
            }
            _ => None,
        })
    }

    fn expand(
        &mut self,
        u: &AssemblyUse,
        bom: &mut Vec<BomLine>,
        ops: &mut Vec<Operation>,
    ) -> Result<(), Flaw> {
        let Some(a) = self.factory.assembly(&u.assembly) else {
            return Ok(());
        };
        self.path.clear();
        self.height(a, 1)?;
        for (m, per) in self.materials(a)? {
            bom.push(BomLine {
                material: m.to_owned(),
                qty: scale(&u.qty, per).ok_or(Flaw::Large)?,
                condition: u.condition.clone(),
                span: u.span,
            });
        }
        let prefix = format!("{}.", a.id);
        self.operations(a, &prefix, Decimal::ONE, u, ops)
    }

    /// Levels of assemblies in `a`, at `depth` below the product.
    fn height(&mut self, a: &'f Assembly, depth: usize) -> Result<usize, Flaw> {
        if let Some(&h) = self.height.get(a.id.as_str()) {
            return if depth + h - 1 > MAX_DEPTH {
                Err(Flaw::Deep)
            } else {
                Ok(h)
            };
        }
        if depth > MAX_DEPTH {
            return Err(Flaw::Deep);
        }
        self.path.push(&a.id);
        let parts: Vec<_> = self.parts(a).collect();
        let mut h = 1;
        for (b, _) in parts {
            h = h.max(1 + self.height(b, depth + 1)?);
        }
        self.path.pop();
        self.height.insert(&a.id, h);
        Ok(h)
    }

    fn materials(&mut self, a: &'f Assembly) -> Result<Vec<(&'f str, Decimal)>, Flaw> {
        if let Some(m) = self.materials.get(a.id.as_str()) {
            return Ok(m.clone());
        }
        let mut out: Vec<(&'f str, Decimal)> = Vec::new();
        let mut add = |m: &'f str, q: Decimal| -> Result<(), Flaw> {
            match out.iter_mut().find(|(n, _)| *n == m) {
                Some((_, sum)) => *sum = sum.checked_add(q).ok_or(Flaw::Large)?,
                None => out.push((m, q)),
            }
            Ok(())
        };
        self.path.push(&a.id);
        for l in &a.bom {
            match &l.part {
                Part::Material(m) => add(m, l.qty)?,
                Part::Assembly(b) => {
                    if self.path.contains(&b.as_str()) {
                        continue;
                    }
                    let Some(sub) = self.factory.assembly(b) else {
                        continue;
                    };
                    for (m, q) in self.materials(sub)? {
                        add(m, l.qty.checked_mul(q).ok_or(Flaw::Large)?)?;
                    }
                }
            }
        }
        self.path.pop();
        self.materials.insert(&a.id, out.clone());
        Ok(out)
    }

    fn has_ops(&mut self, a: &'f Assembly) -> bool {
        if let Some(&h) = self.has_ops.get(a.id.as_str()) {
            return h;
        }
        self.path.push(&a.id);
        let parts: Vec<_> = self.parts(a).collect();
        let h = !a.operations.is_empty() || parts.into_iter().any(|(b, _)| self.has_ops(b));
        self.path.pop();
        self.has_ops.insert(&a.id, h);
        h
    }

    /// `a`'s operations and its parts', `per` units of `a` per unit of the
    /// product line's assembly, ids after `prefix`.
    fn operations(
        &mut self,
        a: &'f Assembly,
        prefix: &str,
        per: Decimal,
        u: &AssemblyUse,
        out: &mut Vec<Operation>,
    ) -> Result<(), Flaw> {
        self.path.push(&a.id);
        // Lines of one assembly add up: `a.b.op` once, however many lines
        // name `b`.
        let mut parts: Vec<(&'f Assembly, Decimal)> = Vec::new();
        for (b, q) in self.parts(a).collect::<Vec<_>>() {
            match parts.iter_mut().find(|(x, _)| x.id == b.id) {
                Some((_, sum)) => *sum = sum.checked_add(q).ok_or(Flaw::Large)?,
                None => parts.push((b, q)),
            }
        }
        for (b, qty) in parts {
            if !self.has_ops(b) {
                continue;
            }
            let per = per.checked_mul(qty).ok_or(Flaw::Large)?;
            self.operations(b, &format!("{prefix}{}.", b.id), per, u, out)?;
        }
        for op in &a.operations {
            if out.len() >= MAX_OPERATIONS {
                return Err(Flaw::Many);
            }
            let minutes = per.checked_mul(op.minutes).ok_or(Flaw::Large)?;
            out.push(Operation {
                id: format!("{prefix}{}", op.id),
                name: op.name.clone(),
                work_center: op.work_center.clone(),
                minutes: scale(&u.qty, minutes).ok_or(Flaw::Large)?,
                setup_minutes: op.setup_minutes,
                condition: u.condition.clone(),
                span: u.span,
            });
        }
        self.path.pop();
        Ok(())
    }
}
