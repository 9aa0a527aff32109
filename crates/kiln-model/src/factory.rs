//! Factory files: the work centers, materials and sub-assemblies products
//! point at.

use crate::ctx::{Ctx, Table, get};
use crate::tree::{self, Node, Val};
use rust_decimal::Decimal;

use crate::{Factory, Material, Sales, WorkCenter};

const FACTORY_FILE_KEYS: &[&str] = &[
    "factory",
    "work_center",
    "material",
    "sales",
    "packaging",
    "carrier",
    "supplier",
    "assembly",
];

pub(crate) fn factory(ctx: &mut Ctx, root: &Table) -> Factory {
    ctx.keys(root, FACTORY_FILE_KEYS, "a factory file");
    // `delivery_weekdays` stays empty unless the file sets it: the catalog
    // check gives the default when no factory file does.
    let mut f = Factory::default();
    if let Some(n) = get(root, "factory")
        && let Some(t) = ctx.table(n, "factory")
    {
        ctx.keys(
            t,
            &[
                "name",
                "delivery_weekdays",
                "packing_minutes",
                "max_batch_units",
            ],
            "[factory]",
        );
        let _ = ctx.opt_string(t, "name");
        if let Some(v) = get(t, "packing_minutes")
            && let Some(m) = ctx.u32(v, "packing_minutes")
        {
            if m > 7 * 1440 {
                ctx.err(v.span.start, "`packing_minutes` is at most a week (10080)");
            }
            f.packing_minutes = m;
        }
        if let Some(v) = get(t, "max_batch_units")
            && let Some(n) = ctx.u32(v, "max_batch_units")
        {
            if n == 0 {
                ctx.err(v.span.start, "`max_batch_units` is at least 1");
            } else {
                f.max_batch_units = Some(n);
            }
        }
        if let Some(v) = get(t, "delivery_weekdays") {
            f.delivery_weekdays = weekdays(ctx, v, "no delivery could ever be promised");
        }
    }
    if let Some(n) = get(root, "sales")
        && let Some(t) = ctx.table(n, "sales")
    {
        f.sales = sales(ctx, t);
    }
    if let Some(n) = get(root, "work_center")
        && let Some(t) = ctx.table(n, "work_center")
    {
        for (k, n) in t {
            if let Some(w) = work_center(ctx, k, n) {
                f.work_centers.push(w);
            }
        }
    }
    if let Some(n) = get(root, "material")
        && let Some(t) = ctx.table(n, "material")
    {
        for (k, n) in t {
            if let Some(m) = material(ctx, k, n) {
                f.materials.push(m);
            }
        }
    }
    if let Some(n) = get(root, "supplier")
        && let Some(t) = ctx.table(n, "supplier")
    {
        for (k, n) in t {
            if let Some(s) = crate::supply::supplier(ctx, k, n) {
                f.suppliers.push(s);
            }
        }
    }
    if let Some(n) = get(root, "assembly")
        && let Some(t) = ctx.table(n, "assembly")
    {
        for (k, n) in t {
            if let Some(a) = crate::assembly::assembly(ctx, k, n) {
                f.assemblies.push(a);
            }
        }
    }
    if let Some(n) = get(root, "packaging")
        && let Some(t) = ctx.table(n, "packaging")
    {
        for (k, n) in t {
            if let Some(p) = crate::logistics::packaging(ctx, k, n) {
                f.packaging.push(p);
            }
        }
    }
    if let Some(n) = get(root, "carrier")
        && let Some(t) = ctx.table(n, "carrier")
    {
        for (k, n) in t {
            if let Some(c) = crate::logistics::carrier(ctx, k, n) {
                f.carriers.push(c);
            }
        }
    }
    f
}

/// `[sales]`: a tax rate below 100 percent with its name, a shipping fee and
/// the order value from which shipping is free; each optional.
fn sales(ctx: &mut Ctx, t: &Table) -> Sales {
    ctx.keys(
        t,
        &["tax_name", "tax_rate", "shipping", "free_shipping_from"],
        "[sales]",
    );
    let mut s = Sales {
        tax_name: "VAT".into(),
        ..Sales::default()
    };
    if let Some(v) = get(t, "tax_name")
        && let Some(name) = ctx.string(v, "tax_name")
    {
        let n = name.trim().chars().count();
        if n == 0 || n > 40 {
            ctx.err(v.span.start, "`tax_name` is 1 to 40 characters");
        }
        s.tax_name = name.trim().to_string();
    }
    if let Some(v) = get(t, "tax_rate")
        && let Some(rate) = ctx.amount(v, "tax_rate")
    {
        if rate >= Decimal::ONE_HUNDRED {
            ctx.err(v.span.start, "`tax_rate` is a percentage below 100");
        }
        s.tax_rate = rate;
    }
    if let Some(v) = get(t, "shipping") {
        s.shipping = ctx.amount(v, "shipping").unwrap_or_default();
    }
    if let Some(v) = get(t, "free_shipping_from") {
        s.free_shipping_from = ctx.amount(v, "free_shipping_from");
    }
    s
}

fn work_center(ctx: &mut Ctx, key: &tree::Key, n: &Node) -> Option<WorkCenter> {
    let id = key.name.clone();
    let what = format!("work center `{id}`");
    let t = ctx.table(n, &id)?;
    ctx.keys(
        t,
        &["name", "machines", "minutes_per_day", "weekdays"],
        &what,
    );
    let mut w = WorkCenter {
        name: ctx.opt_string(t, "name").unwrap_or_else(|| id.clone()),
        id,
        machines: 1,
        minutes_per_day: 480,
        weekdays: vec![1, 2, 3, 4, 5],
        span: ctx.span(n.span.start),
    };
    if let Some(v) = get(t, "machines")
        && let Some(m) = ctx.u32(v, "machines")
    {
        if m == 0 {
            ctx.err(v.span.start, "`machines` must be at least 1");
        }
        w.machines = m;
    }
    if let Some(v) = get(t, "minutes_per_day")
        && let Some(m) = ctx.u32(v, "minutes_per_day")
    {
        if !(1..=1440).contains(&m) {
            ctx.err(v.span.start, "`minutes_per_day` must be from 1 to 1440");
        }
        w.minutes_per_day = m;
    }
    if let Some(v) = get(t, "weekdays") {
        w.weekdays = weekdays(ctx, v, "the work center never works");
    }
    Some(w)
}

/// A list of weekdays; `empty` says what an empty list would mean.
pub(crate) fn weekdays(ctx: &mut Ctx, n: &Node, empty: &str) -> Vec<u8> {
    let Val::Array(items) = &n.val else {
        ctx.err(
            n.span.start,
            "weekdays are a list of days, 1 = Monday .. 7 = Sunday",
        );
        return Vec::new();
    };
    if items.is_empty() {
        ctx.err(
            n.span.start,
            format!("the list of weekdays is empty: {empty}"),
        );
    }
    let mut out = Vec::new();
    for item in items {
        match &item.val {
            Val::Int(d @ 1..=7) if !out.contains(&(*d as u8)) => out.push(*d as u8),
            Val::Int(d @ 1..=7) => ctx.err(item.span.start, format!("duplicate weekday {d}")),
            _ => ctx.err(
                item.span.start,
                "a weekday is a number from 1 (Monday) to 7 (Sunday)",
            ),
        }
    }
    out.sort_unstable();
    out
}

fn material(ctx: &mut Ctx, key: &tree::Key, n: &Node) -> Option<Material> {
    let id = key.name.clone();
    let what = format!("material `{id}`");
    let t = ctx.table(n, &id)?;
    ctx.keys(
        t,
        &[
            "name",
            "unit",
            "on_hand",
            "lead_days",
            "moq",
            "unit_cost",
            "supplier",
            "lot_size",
            "price_breaks",
        ],
        &what,
    );
    let unit = ctx
        .require(t, "unit", n.span.start, &what)
        .and_then(|v| ctx.string(v, "unit"))
        .unwrap_or_default();
    let amount = |ctx: &mut Ctx, key: &str| {
        get(t, key)
            .and_then(|v| ctx.amount(v, key))
            .unwrap_or_default()
    };
    let on_hand = amount(ctx, "on_hand");
    let moq = amount(ctx, "moq");
    let unit_cost = amount(ctx, "unit_cost");
    let lead_days = get(t, "lead_days")
        .and_then(|v| ctx.u32(v, "lead_days"))
        .unwrap_or_default();
    let lot_size = amount(ctx, "lot_size");
    let (supplier, supplier_span) = match get(t, "supplier") {
        Some(v) => {
            let s = ctx.string(v, "supplier").unwrap_or_default();
            let at = ctx.content(v, &s);
            (Some(s), ctx.span(at))
        }
        None => (None, crate::Span::default()),
    };
    let price_breaks = get(t, "price_breaks")
        .map(|v| crate::supply::price_breaks(ctx, v))
        .unwrap_or_default();
    Some(Material {
        supplier,
        supplier_span,
        lot_size,
        price_breaks,
        name: ctx.opt_string(t, "name").unwrap_or_else(|| id.clone()),
        id,
        unit,
        on_hand,
        lead_days,
        moq,
        unit_cost,
        span: ctx.span(n.span.start),
    })
}
