//! The configurator panel: the options with their available values and
//! reasons, the preview, the price and the delivery date for a quantity. The
//! storefront's product and design pages and store mode all draw it.

use askama::Template;
use kiln_app::BrandRuntime;
use kiln_app::orders::MAX_QUANTITY;
use kiln_configure::{Configurator, Outcome, Reason, SelectionError, Selections};

use super::{long_date, money};

/// A form's fields in order, as they were posted or queried.
pub(super) type Fields = Vec<(String, String)>;

/// Form fields that are selections: control fields start with `_`, and an
/// empty value means "not chosen".
pub(super) fn selections_of(fields: &Fields) -> Selections {
    fields
        .iter()
        .filter(|(k, v)| !k.starts_with('_') && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect()
}

/// The panel's quantity field: a whole number from 1 to [`MAX_QUANTITY`].
pub(super) fn quantity_of(fields: &Fields) -> Result<u32, String> {
    match field(fields, "_quantity").map(str::trim) {
        None | Some("") => Ok(1),
        Some(q) => q
            .parse::<u32>()
            .ok()
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or_else(|| format!("Choose a quantity from 1 to {MAX_QUANTITY}.")),
    }
}

pub(super) fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Configures, leaving out selections the product refuses (an old link, a
/// hand-edited URL, a text it cannot hold) and returning why, with the value
/// left out, rather than failing the page.
pub(super) fn configure_leniently(
    c: &Configurator,
    mut selections: Selections,
) -> (Outcome, Vec<(SelectionError, String)>) {
    let mut dropped = Vec::new();
    loop {
        match c.configure(&selections) {
            Ok(outcome) => return (outcome, dropped),
            Err(e) => {
                let value = selections.remove(e.option()).unwrap_or_default();
                dropped.push((e, value));
            }
        }
    }
}

/// What a shopper reads beside a text or number field the product refused:
/// what to type instead, in a sentence. `None` for other refusals.
fn for_the_field(name: &str, e: &SelectionError) -> Option<String> {
    Some(match e {
        SelectionError::TextTooLong { max_length, .. } => {
            format!("{name} takes at most {max_length} characters.")
        }
        SelectionError::TextNotAllowed { bad, allowed, .. } => {
            let which = if kiln_model::text::invisible(bad.character) {
                format!("an invisible character (character {})", bad.position)
            } else {
                format!("“{}” (character {})", bad.character, bad.position)
            };
            match allowed {
                Some(a) => format!("{name} cannot hold {which}: use {}.", in_words(a)),
                None => format!("{name} cannot hold {which}."),
            }
        }
        SelectionError::NotANumber { .. } => format!("{name} is a number: type digits only."),
        SelectionError::OutOfRange { min, max, .. } => {
            format!("{name} goes from {min} to {max}.")
        }
        _ => return None,
    })
}

/// A `characters` class in words: `A-Za-z0-9 .,'` is "letters, digits,
/// spaces and . , '".
fn in_words(class: &str) -> String {
    let chars: Vec<char> = class.chars().collect();
    let (mut letters, mut digits, mut spaces) = (false, false, false);
    let mut others = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (a, b) = if i + 2 < chars.len() && chars[i + 1] == '-' {
            i += 3;
            (chars[i - 3], chars[i - 1])
        } else {
            i += 1;
            (chars[i - 1], chars[i - 1])
        };
        if a.is_alphabetic() && b.is_alphabetic() {
            letters = true;
        } else if a.is_ascii_digit() && b.is_ascii_digit() {
            digits = true;
        } else if a == ' ' && b == ' ' {
            spaces = true;
        } else if a == b {
            others.push(a.to_string());
        } else {
            others.push(format!("{a} to {b}"));
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if letters {
        parts.push("letters".into());
    }
    if digits {
        parts.push("digits".into());
    }
    if spaces {
        parts.push("spaces".into());
    }
    if !others.is_empty() {
        parts.push(others.join(" "));
    }
    match parts.len() {
        0 => "other characters".into(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last}", parts.join(", "))
        }
    }
}

pub struct ValueView {
    pub id: String,
    pub label: String,
    pub checked: bool,
    pub available: bool,
    pub reason: String,
}

pub struct OptionView {
    pub id: String,
    pub name: String,
    pub optional: bool,
    pub is_text: bool,
    pub is_number: bool,
    pub is_color: bool,
    pub value: String,
    pub values: Vec<ValueView>,
    /// The typed value was refused; `reason` says why.
    pub invalid: bool,
    pub reason: String,
    pub max_length: u32,
    pub min: String,
    pub max: String,
    pub unit: String,
}

pub struct PanelView {
    pub brand: String,
    pub product: String,
    pub name: String,
    pub description: String,
    pub svg: String,
    pub conflict: Option<String>,
    pub options: Vec<OptionView>,
    pub base: String,
    pub price_lines: Vec<(String, String)>,
    /// Price of one unit.
    pub total: String,
    /// Units the price and the date are for.
    pub quantity: u32,
    /// Price of `quantity` units.
    pub total_all: String,
    /// The date `quantity` units can be delivered by.
    pub promise: String,
    pub sku: String,
    pub orderable: bool,
    /// A clerk's page: the customer's details replace cart and design.
    pub store_mode: bool,
    /// The price and date in one sentence, for screen readers after a redraw.
    pub announce: String,
}

/// A reason in words: the rules' messages, and which choices trigger them.
fn reason_text(c: &Configurator, reason: &Reason) -> String {
    let rules: Vec<&str> = reason.rules.iter().map(|r| r.message.as_str()).collect();
    let mut text = rules.join("; ");
    if !reason.selections.is_empty() {
        let with: Vec<String> = reason
            .selections
            .iter()
            .map(|(o, v)| selection_label(c, o, v))
            .collect();
        text.push_str(&format!(" (with {})", with.join(", ")));
    }
    if text.is_empty() {
        "it breaks the product's rules".into()
    } else {
        text
    }
}

/// `Shape: Conical` for an option and a value id.
pub(super) fn selection_label(c: &Configurator, option: &str, value: &str) -> String {
    let Some(o) = c.product().option(option) else {
        return format!("{option} = {value}");
    };
    let label = o
        .kind
        .values()
        .iter()
        .find(|v| v.id.eq_ignore_ascii_case(value))
        .map(|v| v.label.as_str())
        .unwrap_or(value);
    format!("{}: {}", o.name, label)
}

/// The preview with an accessible name that lists the configuration, so
/// screen readers (and any change of option) see a different picture.
fn accessible_svg(svg: &str, c: &Configurator, outcome: &Outcome) -> String {
    let described: Vec<String> = outcome
        .options
        .iter()
        .filter_map(|o| o.value.as_ref().map(|v| selection_label(c, &o.id, v)))
        .collect();
    let label = format!("{}: {}", c.product().name, described.join(", "));
    let label = label
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    match svg.find('>') {
        Some(end) if svg.starts_with("<svg") => format!(
            "{} role=\"img\" aria-label=\"{label}\"><title>{label}</title>{}",
            &svg[..end],
            &svg[end + 1..]
        ),
        _ => svg.to_string(),
    }
}

/// The configurator panel for these selections and this many units (a
/// quantity that is not one is reported, and 1 is priced instead).
pub(super) async fn panel_view(
    rt: &BrandRuntime,
    c: &Configurator,
    selections: Selections,
    quantity: Result<u32, String>,
) -> PanelView {
    let p = c.product();
    let (outcome, dropped) = configure_leniently(c, selections);
    let (quantity, quantity_error) = match quantity {
        Ok(q) => (q, None),
        Err(e) => (1, Some(e)),
    };
    // A field the product refused keeps what was typed, says why beside it,
    // and holds the order back until it is corrected: nothing is dropped
    // behind the shopper's back.
    let mut refused = Vec::new();
    let mut ignored = Vec::new();
    for (e, typed) in dropped {
        let name = p.option(e.option()).map_or(e.option(), |o| o.name.as_str());
        match for_the_field(name, &e) {
            Some(m) => refused.push((e.option().to_string(), typed, m)),
            None => ignored.push(e.to_string()),
        }
    }
    let options: Vec<OptionView> = outcome
        .options
        .iter()
        .map(|o| {
            let mut values: Vec<ValueView> = o
                .values
                .iter()
                .map(|v| ValueView {
                    id: v.id.clone(),
                    label: v.label.clone(),
                    checked: o.value.as_deref() == Some(v.id.as_str()),
                    available: v.available,
                    reason: v
                        .reason
                        .as_ref()
                        .map(|r| reason_text(c, r))
                        .unwrap_or_default(),
                })
                .collect();
            if o.optional && !o.values.is_empty() {
                values.insert(
                    0,
                    ValueView {
                        id: String::new(),
                        label: "None".into(),
                        checked: o.value.is_none(),
                        available: o.can_be_omitted,
                        reason: if o.can_be_omitted {
                            String::new()
                        } else {
                            "your other choices need it".into()
                        },
                    },
                );
            }
            let refusal = refused.iter().find(|(id, _, _)| *id == o.id);
            OptionView {
                id: o.id.clone(),
                name: o.name.clone(),
                optional: o.optional,
                is_text: o.kind == "text",
                is_number: o.kind == "number",
                is_color: o.kind == "color",
                value: match refusal {
                    Some((_, typed, _)) => typed.clone(),
                    None => o.value.clone().unwrap_or_default(),
                },
                values,
                invalid: refusal.is_some(),
                reason: refusal.map(|(_, _, m)| m.clone()).unwrap_or_default(),
                max_length: o.max_length.unwrap_or(0),
                min: o.min.map(|d| d.to_string()).unwrap_or_default(),
                max: o.max.map(|d| d.to_string()).unwrap_or_default(),
                unit: o.unit.clone().unwrap_or_default(),
            }
        })
        .collect();
    let mut conflict = outcome
        .conflict
        .as_ref()
        .map(|r| format!("These choices do not go together: {}", reason_text(c, r)));
    if !ignored.is_empty() {
        let note = format!("Left out: {}", ignored.join("; "));
        conflict = Some(conflict.map(|c| format!("{c}. {note}")).unwrap_or(note));
    }
    if !refused.is_empty() {
        let fields: Vec<&str> = refused.iter().map(|(_, _, m)| m.as_str()).collect();
        let note = fields.join(" ");
        conflict = Some(conflict.map(|c| format!("{c}. {note}")).unwrap_or(note));
    }
    if let Some(e) = &quantity_error {
        conflict = Some(conflict.map_or(e.clone(), |c| format!("{c}. {e}")));
    }
    let orderable = outcome.valid && outcome.complete && refused.is_empty();
    let promise = if orderable {
        kiln_app::catalog::quote(rt, p, &outcome, quantity)
            .await
            .map(long_date)
            .unwrap_or_default()
    } else {
        String::new()
    };
    let (base, price_lines, total, total_all) = match &outcome.price {
        Some(price) => (
            money(&price.currency, price.base),
            price
                .lines
                .iter()
                .map(|l| (l.label.clone(), money(&price.currency, l.amount)))
                .collect(),
            money(&price.currency, price.total),
            money(
                &price.currency,
                price.total * rust_decimal::Decimal::from(quantity),
            ),
        ),
        None => (
            money(&p.currency, p.base_price),
            Vec::new(),
            "–".into(),
            "–".into(),
        ),
    };
    let when = if promise.is_empty() {
        "No delivery date can be promised yet.".to_string()
    } else if quantity == 1 {
        format!("Delivered by {promise}.")
    } else {
        format!("All {quantity} delivered by {promise}.")
    };
    let announce = match (orderable, quantity) {
        (false, _) => {
            "This configuration cannot be made; the choices marked unavailable say why.".to_string()
        }
        (true, 1) => format!("Total {total}. {when}"),
        (true, n) => format!("Total for {n}: {total_all}. {when}"),
    };
    PanelView {
        announce,
        brand: rt.brand.slug.to_string(),
        product: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        svg: accessible_svg(&outcome.preview_svg, c, &outcome),
        conflict,
        options,
        base,
        price_lines,
        total,
        quantity,
        total_all,
        promise,
        sku: outcome.sku.clone().unwrap_or_else(|| "–".into()),
        orderable,
        store_mode: false,
    }
}

#[derive(Template)]
#[template(path = "panel.html")]
pub(super) struct PanelFragment {
    pub p: PanelView,
}
