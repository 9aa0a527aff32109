//! A carrier's calendar: its pick-up `cutoff`, its `weekdays` and its
//! `holidays`, the days it neither picks up nor delivers:
//!
//! ```toml
//! [carrier.post]
//! cutoff = "16:00"
//! weekdays = [1, 2, 3, 4, 5]
//! holidays = ["2026-12-25", "2026-12-26", "2027-01-01"]
//! ```

use jiff::civil::Date;

use super::Carrier;
use crate::ctx::{Ctx, Table, get};
use crate::tree::{Node, Val};

/// Most holidays one carrier lists: years of them, and a bound on what a
/// delivery date's search may step over.
const MAX_HOLIDAYS: usize = 1000;

/// Reads `cutoff`, `weekdays` and `holidays` of carrier table `t` into `c`;
/// each one that is wrong is reported and keeps its default.
pub(super) fn read(ctx: &mut Ctx, t: &Table, c: &mut Carrier) {
    if let Some(v) = get(t, "cutoff")
        && let Some(m) = cutoff(ctx, v)
    {
        c.cutoff_minute = m;
    }
    if let Some(v) = get(t, "weekdays") {
        c.weekdays = crate::factory::weekdays(ctx, v, "the carrier never picks up");
    }
    if let Some(v) = get(t, "holidays") {
        c.holidays = holidays(ctx, v);
    }
}

/// `"HH:MM"`, 00:00 to 24:00.
fn cutoff(ctx: &mut Ctx, v: &Node) -> Option<u32> {
    let s = ctx.string(v, "cutoff")?;
    let two_digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
    let parsed = s.split_once(':').and_then(|(h, m)| {
        if !two_digits(h) || !two_digits(m) {
            return None;
        }
        let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
        (m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
    });
    if parsed.is_none() {
        let at = ctx.content(v, &s);
        ctx.err(
            at,
            format!("`cutoff` is a time of day like \"16:00\", found `{s}`"),
        );
    }
    parsed
}

/// A list of ISO dates (`"2026-12-25"`), each once, at most
/// [`MAX_HOLIDAYS`]; sorted.
fn holidays(ctx: &mut Ctx, n: &Node) -> Vec<Date> {
    let Val::Array(items) = &n.val else {
        ctx.err(
            n.span.start,
            format!(
                "`holidays` is a list of dates like [\"2026-12-25\"], found {}",
                n.val.type_name()
            ),
        );
        return Vec::new();
    };
    if items.len() > MAX_HOLIDAYS {
        ctx.err(
            n.span.start,
            format!(
                "`holidays` lists {} dates: a carrier has at most {MAX_HOLIDAYS}",
                items.len()
            ),
        );
        return Vec::new();
    }
    // Each date with where its text starts.
    let mut out: Vec<(Date, usize)> = Vec::new();
    for item in items {
        let Val::Str(s) = &item.val else {
            let hint = match item.val {
                Val::Datetime => ": write it in quotes",
                _ => "",
            };
            ctx.err(
                item.span.start,
                format!(
                    "a holiday is a date like \"2026-12-25\", found {}{hint}",
                    item.val.type_name()
                ),
            );
            continue;
        };
        let at = ctx.content(item, s);
        let day = match iso_date(s) {
            Ok(day) => day,
            Err(why) => {
                ctx.err(at, format!("holiday `{s}` is not a date: {why}"));
                continue;
            }
        };
        if let Some((_, first)) = out.iter().find(|(d, _)| *d == day) {
            let first = ctx.span(*first);
            ctx.err(
                at,
                format!(
                    "duplicate holiday `{day}` (first at line {}, column {})",
                    first.line, first.column
                ),
            );
            continue;
        }
        out.push((day, at));
    }
    let mut days: Vec<Date> = out.into_iter().map(|(d, _)| d).collect();
    days.sort_unstable();
    days
}

/// `YYYY-MM-DD`, a day of the Gregorian calendar; the error says what is
/// wrong with it.
fn iso_date(s: &str) -> Result<Date, String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10);
    if !shaped {
        return Err("write it as YYYY-MM-DD, like 2026-12-25".into());
    }
    // Shaped as digits, so these parse.
    let number = |r: std::ops::Range<usize>| s[r].parse::<i16>().unwrap_or_default();
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    if !(1..=12).contains(&month) {
        return Err(format!("there is no month {month}"));
    }
    let first = Date::new(year, month as i8, 1).map_err(|e| e.to_string())?;
    let last = first.days_in_month();
    if !(1..=i16::from(last)).contains(&day) {
        return Err(format!("{year:04}-{month:02} has days 1 to {last}"));
    }
    Date::new(year, month as i8, day as i8).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::iso_date;
    use jiff::civil::date;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_date("2026-12-25"), Ok(date(2026, 12, 25)));
        assert_eq!(iso_date("2028-02-29"), Ok(date(2028, 2, 29)));
        assert_eq!(iso_date("0001-01-01"), Ok(date(1, 1, 1)));
        let wrong = |s: &str| iso_date(s).unwrap_err();
        assert_eq!(wrong("2026-13-01"), "there is no month 13");
        assert_eq!(wrong("2026-00-10"), "there is no month 0");
        assert_eq!(wrong("2027-02-29"), "2027-02 has days 1 to 28");
        assert_eq!(wrong("2026-04-31"), "2026-04 has days 1 to 30");
        assert_eq!(wrong("2026-04-00"), "2026-04 has days 1 to 30");
        for shape in [
            "25.12.2026",
            "2026-1-05",
            "20261225",
            "2026-12-25T00:00",
            "+2026-12-2",
            "２０２６-12-25",
            "",
        ] {
            assert_eq!(
                wrong(shape),
                "write it as YYYY-MM-DD, like 2026-12-25",
                "{shape}"
            );
        }
    }
}
