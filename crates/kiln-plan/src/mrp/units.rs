//! Day numbers and fixed-point quantities: the engine's internal units.
//!
//! Netting a million demand lines over 200,000 items is tens of millions of additions and
//! multiplications; `Decimal` costs 10–40 ns each, an `i64` one cycle. Quantities are
//! therefore held as whole millionths of a unit (exact for every input with at most six
//! decimals, up to 9.2 trillion units) and dates as day numbers. The public types stay
//! `Decimal` and `Date`.

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::MrpError;

/// Millionths per unit.
#[cfg(test)]
const SCALE: i64 = 1_000_000;
const SCALE_DIGITS: u32 = 6;

/// Days since 1970-01-01 (proleptic Gregorian, H. Hinnant's `days_from_civil`).
pub(super) fn day_number(d: Date) -> i32 {
    let (m, day) = (i32::from(d.month()), i32::from(d.day()));
    let y = i32::from(d.year()) - i32::from(m <= 2);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`day_number`], clamped to the dates jiff supports.
pub(super) fn date_of(day: i32) -> Date {
    let z = day.clamp(day_number(Date::MIN), day_number(Date::MAX)) + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    // In range by the clamp above; the fallback only guards against a slip in the formula.
    Date::new(y as i16, m as i8, d as i8).unwrap_or(Date::MAX)
}

/// Converts to millionths; `what` names the quantity in errors.
pub(super) fn to_micro(value: Decimal, item: &str, what: &'static str) -> Result<i64, MrpError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(MrpError::NegativeQuantity {
            item: item.to_owned(),
            what,
        });
    }
    let v = value.normalize();
    let too_precise = || MrpError::TooPrecise {
        item: item.to_owned(),
        what,
        value,
    };
    if v.scale() > SCALE_DIGITS {
        return Err(too_precise());
    }
    v.mantissa()
        .checked_mul(10i128.pow(SCALE_DIGITS - v.scale()))
        .and_then(|m| i64::try_from(m).ok())
        .ok_or(MrpError::QuantityTooLarge {
            item: item.to_owned(),
            what,
        })
}

pub(super) fn from_micro(v: i64) -> Decimal {
    Decimal::new(v, SCALE_DIGITS).normalize()
}

/// A BOM line's quantity per parent as an exact fraction `mul / div`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Per {
    mul: i64,
    div: i64,
}

impl Per {
    pub(super) fn new(value: Decimal, item: &str) -> Result<Per, MrpError> {
        const WHAT: &str = "quantity per";
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MrpError::NegativeQuantity {
                item: item.to_owned(),
                what: WHAT,
            });
        }
        let v = value.normalize();
        // 10^18 is the largest power of ten an i64 holds.
        if v.scale() > 18 {
            return Err(MrpError::TooPrecise {
                item: item.to_owned(),
                what: WHAT,
                value,
            });
        }
        let mul = i64::try_from(v.mantissa()).map_err(|_| MrpError::QuantityTooLarge {
            item: item.to_owned(),
            what: WHAT,
        })?;
        let div = 10i64.pow(v.scale());
        let g = gcd(mul, div);
        Ok(Per {
            mul: mul / g,
            div: div / g,
        })
    }

    /// `qty * self`, rounded up to the next millionth: a requirement is never understated.
    #[inline]
    pub(super) fn apply(self, qty: i64) -> Option<i64> {
        if self.div == 1 {
            return qty.checked_mul(self.mul);
        }
        // Quantities are not negative, so rounding up is `(p + d - 1) / d`; i128 only when
        // the product leaves i64 (its division is several times slower).
        match qty
            .checked_mul(self.mul)
            .and_then(|p| p.checked_add(self.div - 1))
        {
            Some(p) => Some(p / self.div),
            None => {
                let p = i128::from(qty) * i128::from(self.mul);
                let d = i128::from(self.div);
                i64::try_from((p + d - 1).div_euclid(d)).ok()
            }
        }
    }

    pub(super) fn as_f64(self) -> f64 {
        self.mul as f64 / self.div as f64
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::ToSpan;

    #[test]
    fn day_numbers_match_jiff() {
        let epoch = jiff::civil::date(1970, 1, 1);
        assert_eq!(day_number(epoch), 0);
        for d in [
            Date::MIN,
            Date::MAX,
            jiff::civil::date(2000, 2, 29),
            jiff::civil::date(-44, 3, 15),
            jiff::civil::date(2025, 12, 31),
        ] {
            let n = day_number(d);
            assert_eq!(date_of(n), d);
            let expected = i64::from(n);
            assert_eq!(
                epoch.until(d).unwrap().get_days(),
                expected as i32,
                "day number of {d}"
            );
        }
        let mut d = jiff::civil::date(1899, 12, 25);
        for _ in 0..2000 {
            assert_eq!(
                day_number(d) + 1,
                day_number(d.checked_add(1.day()).unwrap())
            );
            d = d.checked_add(37.days()).unwrap();
        }
    }

    #[test]
    fn quantities() {
        let dec = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(to_micro(dec("1.5"), "x", "qty"), Ok(1_500_000));
        assert_eq!(to_micro(dec("0.000001"), "x", "qty"), Ok(1));
        assert!(matches!(
            to_micro(dec("0.0000001"), "x", "qty"),
            Err(MrpError::TooPrecise { .. })
        ));
        assert!(matches!(
            to_micro(dec("-1"), "x", "qty"),
            Err(MrpError::NegativeQuantity { .. })
        ));
        assert!(matches!(
            to_micro(dec("1e13"), "x", "qty"),
            Err(MrpError::QuantityTooLarge { .. })
        ));
        assert_eq!(from_micro(2_500_000), dec("2.5"));
        let per = Per::new(dec("0.35"), "x").unwrap();
        assert_eq!(per.apply(3 * SCALE), Some(1_050_000));
        // A third of a millionth rounds up.
        let per = Per::new(dec("0.0000003"), "x").unwrap();
        assert_eq!(per.apply(1), Some(1));
        assert_eq!(Per::new(dec("2"), "x").unwrap().apply(i64::MAX), None);
    }
}
