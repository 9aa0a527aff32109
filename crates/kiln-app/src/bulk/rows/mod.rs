//! Reading a bulk-order CSV: one configured line per row, every bad row
//! reported at once with its line in the file and its column, the good rows
//! kept. Pure: no I/O, no plan; [`read`] is what the quote starts from.
//!
//! Columns: `product`, one per option (by option id), `quantity`, and
//! optionally a recipient per row (`recipient_name`, `recipient_line1`,
//! `recipient_city`, `recipient_postal_code`, `recipient_country`). A blank
//! option cell takes the option's default; a row whose recipient cells are
//! all blank goes to the order's address.

use std::collections::{BTreeSet, HashMap};

use kiln_configure::{Configurator, Outcome, Selections};
use kiln_domain::{Address, RowError};

use crate::orders::MAX_QUANTITY;

/// The recipient columns, in the order of [`Address`]'s fields.
pub const RECIPIENT: [&str; 5] = [
    "recipient_name",
    "recipient_line1",
    "recipient_city",
    "recipient_postal_code",
    "recipient_country",
];

/// At most this many data rows in one upload.
pub const MAX_ROWS: usize = 100_000;

/// A good row, configured.
#[derive(Debug, Clone)]
pub struct GoodRow {
    pub row: u64,
    pub product: String,
    pub outcome: Outcome,
    pub quantity: u32,
    pub recipient: Option<Address>,
}

/// What a CSV holds: the good rows, and every problem.
#[derive(Debug, Default)]
pub struct Rows {
    pub good: Vec<GoodRow>,
    pub errors: Vec<RowError>,
    /// Data rows read.
    pub rows: u64,
    /// Rows left out because they fill an unknown column (reported once,
    /// by the column): bad rows without an error of their own.
    pub left_out: u64,
}

/// Reads `csv` against a brand's products (`product` finds one by id).
pub fn read(products: &[&Configurator], csv: &[u8]) -> Rows {
    let mut out = Rows::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|c| c.trim_start_matches('\u{feff}').to_string())
            .collect(),
        Err(e) => {
            out.errors.push(RowError {
                row: 1,
                column: None,
                message: format!("the header cannot be read: {e}"),
            });
            return out;
        }
    };
    // Option columns: any product's option; anything else is unknown.
    let known: BTreeSet<&str> = products
        .iter()
        .flat_map(|c| c.product().options.iter().map(|o| o.id.as_str()))
        .collect();
    // Errors name a column as the file's header writes it.
    let mut written: HashMap<String, String> = HashMap::new();
    let header: Vec<String> = header
        .into_iter()
        .map(|c| {
            let name = canonical(c.clone(), &known);
            if name != c {
                written.insert(name.clone(), c);
            }
            name
        })
        .collect();
    let Some(product_at) = header.iter().position(|c| c == "product") else {
        out.errors.push(RowError {
            row: 1,
            column: Some("product".into()),
            message: "the header has no `product` column".into(),
        });
        return out;
    };
    let quantity_at = header.iter().position(|c| c == "quantity");
    if quantity_at.is_none() {
        out.errors.push(RowError {
            row: 1,
            column: Some("quantity".into()),
            message: "the header has no `quantity` column".into(),
        });
        return out;
    }
    let recipient_at: Vec<Option<usize>> = RECIPIENT
        .iter()
        .map(|r| header.iter().position(|c| c == r))
        .collect();
    let mut unknown = Vec::new();
    let mut seen = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_str(), i) {
            out.errors.push(RowError {
                row: 1,
                column: Some(name.clone()),
                message: format!(
                    "the column `{name}` appears twice (columns {} and {})",
                    first + 1,
                    i + 1
                ),
            });
            return out;
        }
        let fixed = i == product_at || Some(i) == quantity_at || recipient_at.contains(&Some(i));
        if !fixed && !known.contains(name.as_str()) {
            unknown.push(i);
        }
    }
    // Per unknown column, the lines of the rows that fill it.
    let mut left_out: Vec<Vec<u64>> = vec![Vec::new(); unknown.len()];
    let by_id: HashMap<&str, &Configurator> = products
        .iter()
        .map(|c| (c.product().id.as_str(), *c))
        .collect();
    // One configuration per distinct row: thousands of rows share a few.
    let mut configured: HashMap<(String, Selections), Result<Outcome, RowError>> = HashMap::new();
    let mut lines = LineCounter::new(csv);
    for record in reader.records() {
        out.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e
                    .position()
                    .map(|p| lines.at(p.byte()))
                    .unwrap_or(out.rows + 1);
                out.errors.push(RowError {
                    row,
                    column: None,
                    message: format!("the row cannot be read: {e}"),
                });
                continue;
            }
        };
        let row = record
            .position()
            .map(|p| lines.at(p.byte()))
            .unwrap_or(out.rows + 1);
        if out.rows as usize > MAX_ROWS {
            // The whole file or nothing: a quote of its first rows would
            // be ordered as if it were all of it.
            return Rows {
                errors: vec![RowError {
                    row,
                    column: None,
                    message: format!(
                        "the file has more than {MAX_ROWS} rows (line {row} is row {}): \
                         split it into uploads of at most {MAX_ROWS} rows",
                        out.rows
                    ),
                }],
                ..Rows::default()
            };
        }
        let cell = |i: usize| record.get(i).unwrap_or("");
        if record.iter().all(str::is_empty) {
            out.rows -= 1;
            continue; // a blank line
        }
        if let Some(e) = misshapen(&header, &record, row) {
            out.errors.push(e);
            continue;
        }
        let mut filled_unknown = false;
        for (k, &i) in unknown.iter().enumerate() {
            if !cell(i).is_empty() {
                left_out[k].push(row);
                filled_unknown = true;
            }
        }
        if filled_unknown {
            out.left_out += 1;
            continue;
        }
        match read_row(
            &header,
            &record,
            row,
            product_at,
            quantity_at.unwrap_or(0),
            &recipient_at,
            &by_id,
            &mut configured,
        ) {
            Ok(good) => out.good.push(good),
            Err(errors) => out.errors.extend(errors),
        }
    }
    for (k, &i) in unknown.iter().enumerate() {
        let name = &header[i];
        let lines = &left_out[k];
        let shown: Vec<String> = lines.iter().take(10).map(u64::to_string).collect();
        let more = if lines.len() > shown.len() {
            ", …"
        } else {
            ""
        };
        let rows = match lines.len() {
            0 => "no row fills it".to_string(),
            1 => format!(
                "the row that fills it (line {}) is left out of the quote",
                lines[0]
            ),
            n => format!(
                "the {n} rows that fill it (lines {}{more}) are left out of the quote",
                shown.join(", ")
            ),
        };
        let what = if name.is_empty() {
            format!("column {} has no name in the header", i + 1)
        } else {
            format!("unknown column `{name}`: no product of this brand has such an option")
        };
        out.errors.push(RowError {
            row: 1,
            column: Some(name.clone()),
            message: format!("{what}; {rows}"),
        });
    }
    if out.rows == 0 && out.errors.is_empty() {
        out.errors.push(RowError {
            row: 1,
            column: None,
            message: "the file has no rows under its header: one configured line per row".into(),
        });
    }
    for e in &mut out.errors {
        clip(&mut e.message);
        if let Some(as_written) = e.column.as_ref().and_then(|c| written.get(c)) {
            e.column = Some(as_written.clone());
        }
    }
    out.errors.sort_by_key(|e| e.row);
    out
}

/// A header cell as the column it names: spreadsheets capitalise, so
/// `Quantity` is `quantity` and `Size` the option `size`, unless an option
/// is spelled exactly so, or two options differ only in case (then the
/// cell stays as written, and is unknown unless it is exact).
fn canonical(cell: String, options: &BTreeSet<&str>) -> String {
    if options.contains(cell.as_str()) {
        return cell;
    }
    let fixed = ["product", "quantity"].into_iter().chain(RECIPIENT);
    if let Some(f) = fixed.into_iter().find(|f| f.eq_ignore_ascii_case(&cell)) {
        return f.to_string();
    }
    let mut like = options.iter().filter(|o| o.eq_ignore_ascii_case(&cell));
    match (like.next(), like.next()) {
        (Some(o), None) => o.to_string(),
        _ => cell,
    }
}

/// The longest message a row error keeps: a huge cell echoed back would
/// make the answer as large as the file.
const MESSAGE_CHARS: usize = 300;

fn clip(message: &mut String) {
    if let Some((at, _)) = message.char_indices().nth(MESSAGE_CHARS) {
        message.truncate(at);
        message.push('…');
    }
}

/// A row the header does not fit: more cells than columns (beyond blank
/// ones a spreadsheet may add), fewer, or a cell over several lines, which
/// a quote never closed makes of the rest of the file.
fn misshapen(header: &[String], record: &csv::StringRecord, row: u64) -> Option<RowError> {
    if let Some((i, cell)) = record
        .iter()
        .enumerate()
        .find(|(_, c)| c.contains(['\n', '\r']))
    {
        let breaks = cell.matches('\n').count().max(cell.matches('\r').count()) as u64;
        let column = header.get(i).cloned();
        return Some(RowError {
            row,
            column,
            message: format!(
                "this cell runs over {} lines, from line {row} to line {}: is a quote (\") \
                 not closed? The lines it takes in are not read as rows",
                breaks + 1,
                row + breaks
            ),
        });
    }
    let cells = record.len();
    let extra_blank = record.iter().skip(header.len()).all(str::is_empty);
    if cells < header.len() || (cells > header.len() && !extra_blank) {
        return Some(RowError {
            row,
            column: None,
            message: format!(
                "the row has {cells} cells and the header {} columns: is a comma missing or \
                 one too many?",
                header.len()
            ),
        });
    }
    None
}

/// A byte offset's line in the file, the first being 1: a line ends at
/// `\n`, `\r\n` or a lone `\r`. (The csv crate's own line numbers run one
/// short on CRLF files.) Offsets are asked in increasing order.
struct LineCounter<'a> {
    text: &'a [u8],
    byte: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            byte: 0,
            line: 1,
        }
    }

    fn at(&mut self, byte: u64) -> u64 {
        let mut end = (byte as usize).min(self.text.len());
        // The csv crate starts a record where the blank lines before it
        // start (and, on CRLF files, at the `\n` of the `\r\n` before it):
        // its first line is the first with anything on it.
        while matches!(self.text.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        if end < self.byte {
            *self = LineCounter::new(self.text);
        }
        let chunk = &self.text[self.byte..end];
        for (i, &b) in chunk.iter().enumerate() {
            let lone_cr = b == b'\r' && chunk.get(i + 1).or(self.text.get(end)) != Some(&b'\n');
            if b == b'\n' || lone_cr {
                self.line += 1;
            }
        }
        self.byte = end;
        self.line
    }
}

#[allow(clippy::too_many_arguments)]
fn read_row(
    header: &[String],
    record: &csv::StringRecord,
    row: u64,
    product_at: usize,
    quantity_at: usize,
    recipient_at: &[Option<usize>],
    by_id: &HashMap<&str, &Configurator>,
    configured: &mut HashMap<(String, Selections), Result<Outcome, RowError>>,
) -> Result<GoodRow, Vec<RowError>> {
    let cell = |i: usize| record.get(i).unwrap_or("");
    let at = |column: &str, message: String| RowError {
        row,
        column: Some(column.to_string()),
        message,
    };
    let mut errors = Vec::new();
    let product = cell(product_at);
    let configurator = if product.is_empty() {
        errors.push(at("product", "a product is required".into()));
        None
    } else if let Some(c) = by_id.get(product) {
        Some(*c)
    } else {
        errors.push(at(
            "product",
            format!("no product `{product}` in this brand"),
        ));
        None
    };
    let quantity = match cell(quantity_at).parse::<u32>() {
        Ok(q) if (1..=MAX_QUANTITY).contains(&q) => Some(q),
        _ => {
            errors.push(at(
                "quantity",
                format!(
                    "`{}` is not a quantity: a whole number from 1 to {MAX_QUANTITY}",
                    cell(quantity_at)
                ),
            ));
            None
        }
    };
    let recipient = recipient(record, recipient_at, &mut |c, m| errors.push(at(c, m)));
    let outcome = configurator.and_then(|c| {
        let options = &c.product().options;
        let mut selections = Selections::new();
        for (i, name) in header.iter().enumerate() {
            let value = cell(i);
            if value.is_empty() || !options.iter().any(|o| &o.id == name) {
                if !value.is_empty()
                    && i != product_at
                    && i != quantity_at
                    && !recipient_at.contains(&Some(i))
                {
                    errors.push(at(name, format!("`{name}` is not an option of {product}")));
                }
                continue;
            }
            selections.insert(name.clone(), value.to_string());
        }
        let key = (product.to_string(), selections);
        let result = configured
            .entry(key)
            .or_insert_with_key(|(_, selections)| configure(c, selections, row));
        match result {
            Ok(outcome) => Some(outcome.clone()),
            Err(e) => {
                errors.push(RowError { row, ..e.clone() });
                None
            }
        }
    });
    match (outcome, quantity) {
        (Some(outcome), Some(quantity)) if errors.is_empty() => Ok(GoodRow {
            row,
            product: product.to_string(),
            outcome,
            quantity,
            recipient,
        }),
        _ => Err(errors),
    }
}

/// One configuration checked as an order line is: an unknown value, a
/// value outside its domain or too long, a broken rule (its own message),
/// a required option without a value.
fn configure(c: &Configurator, selections: &Selections, row: u64) -> Result<Outcome, RowError> {
    let at = |column: String, message: String| RowError {
        row,
        column: Some(column),
        message,
    };
    match c.configure_unexplained(selections) {
        Err(e) => Err(at(e.option().to_string(), e.to_string())),
        Ok(outcome) if let Some((option, message)) = crate::orders::line_problem(&outcome) => {
            Err(at(option.unwrap_or_default(), message))
        }
        Ok(outcome) => Ok(lean(outcome)),
    }
}

/// An outcome without what a quote or an order never shows (the picture,
/// each option's state): thousands of lines stay small.
pub fn lean(mut outcome: Outcome) -> Outcome {
    outcome.preview_svg = String::new();
    outcome.options = Vec::new();
    outcome
}

/// The row's recipient: none when every recipient cell is blank; otherwise
/// each is needed, with an order's limits on each.
fn recipient(
    record: &csv::StringRecord,
    at: &[Option<usize>],
    error: &mut dyn FnMut(&str, String),
) -> Option<Address> {
    let cells: Vec<&str> = at
        .iter()
        .map(|i| i.and_then(|i| record.get(i)).unwrap_or(""))
        .collect();
    if cells.iter().all(|c| c.is_empty()) {
        return None;
    }
    let limits = [200, 200, 100, 20, 2];
    let mut ok = true;
    for ((column, value), max) in RECIPIENT.iter().zip(&cells).zip(limits) {
        let problem = if value.is_empty() {
            Some(format!(
                "a recipient needs every recipient column: `{column}` is blank"
            ))
        } else if *column == "recipient_country"
            && (value.len() != 2 || !value.chars().all(|c| c.is_ascii_alphabetic()))
        {
            Some(format!(
                "`{value}` is not a two-letter ISO country code like GB"
            ))
        } else if value.chars().count() > max {
            Some(format!("at most {max} characters"))
        } else if let Err(bad) = kiln_model::text::check_text(value, None) {
            Some(format!("cannot hold {bad}"))
        } else {
            None
        };
        if let Some(p) = problem {
            error(column, p);
            ok = false;
        }
    }
    ok.then(|| Address {
        name: cells[0].to_string(),
        line1: cells[1].to_string(),
        line2: None,
        city: cells[2].to_string(),
        postal_code: cells[3].to_string(),
        region: None,
        country: cells[4].to_ascii_uppercase(),
    })
}

/// A template for `product`: the header, and one row of its defaults.
pub fn template(c: &Configurator) -> String {
    let options = &c.product().options;
    let mut header = vec!["product".to_string()];
    header.extend(options.iter().map(|o| o.id.clone()));
    header.push("quantity".into());
    header.extend(RECIPIENT.iter().map(|r| r.to_string()));
    let mut example = vec![c.product().id.clone()];
    example.extend(
        options
            .iter()
            .map(|o| o.default.clone().unwrap_or_default()),
    );
    example.push("1".into());
    example.extend(std::iter::repeat_n(String::new(), RECIPIENT.len()));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory does not fail.
    let _ = w.write_record(&header);
    let _ = w.write_record(&example);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests;
