//! Working time of one work centre at minute resolution.
//!
//! The weekly pattern, holidays and downtime are unrolled once into a sorted list of
//! disjoint working intervals over the schedule's horizon, with a prefix sum of working
//! minutes. Every question the scheduler asks ("when has this much work been done?",
//! "where must a setup start to end here?") is then a binary search, so placing an
//! operation costs O(log intervals) however many shifts it spans.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{DAY, LiveError, Minute};

/// A shift: minutes of the day `[from, to)`, `0 <= from < to <= 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub from: u16,
    pub to: u16,
}

/// A period `[from, to)` in minutes since the schedule's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: Minute,
    pub to: Minute,
}

/// When a work centre works: the same for all its machines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    /// Shifts per ISO weekday, index 0 = Monday .. 6 = Sunday. Overlapping shifts merge; a
    /// shift ending at 1440 joins one starting at 0 the next day (night work runs on).
    pub week: [Vec<Shift>; 7],
    /// Whole days off.
    pub holidays: Vec<Date>,
    /// Downtime (maintenance, breakdowns), minutes since the origin.
    pub down: Vec<Period>,
}

impl Calendar {
    /// The same shifts Monday to Friday, weekends off.
    pub fn weekdays(shifts: &[Shift]) -> Self {
        let mut week: [Vec<Shift>; 7] = Default::default();
        for day in week.iter_mut().take(5) {
            *day = shifts.to_vec();
        }
        Calendar {
            week,
            holidays: Vec::new(),
            down: Vec::new(),
        }
    }

    pub(crate) fn validate<K>(&self, work_centre: &str) -> Result<(), LiveError<K>> {
        for shift in self.week.iter().flatten() {
            if shift.from >= shift.to || shift.to > 1440 {
                return Err(LiveError::BadShift {
                    work_centre: work_centre.to_owned(),
                    from: shift.from,
                    to: shift.to,
                });
            }
        }
        for p in &self.down {
            if p.from >= p.to {
                return Err(LiveError::BadPeriod {
                    from: p.from,
                    to: p.to,
                });
            }
        }
        Ok(())
    }
}

/// Working intervals of one work centre over the horizon, with cumulative minutes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Working {
    /// Sorted, disjoint, non-adjacent `[start, end)`.
    iv: Vec<(Minute, Minute)>,
    /// `cum[i]` = working minutes in `iv[..i]`.
    cum: Vec<Minute>,
    /// `upto[i]` = working minutes in `iv[..=i]`.
    upto: Vec<Minute>,
}

impl Working {
    pub(crate) fn build(cal: &Calendar, origin: Date, horizon_days: u32) -> Working {
        let mut week = cal.week.clone();
        for shifts in &mut week {
            shifts.sort_by_key(|s| s.from);
        }
        let first = origin.weekday().to_monday_zero_offset() as usize;
        let mut holidays: Vec<i64> = cal
            .holidays
            .iter()
            .filter_map(|h| origin.until(*h).ok().map(|s| i64::from(s.get_days())))
            .collect();
        holidays.sort_unstable();
        let mut iv: Vec<(Minute, Minute)> = Vec::new();
        for day in 0..i64::from(horizon_days) {
            if holidays.binary_search(&day).is_ok() {
                continue;
            }
            let base = day * DAY;
            for s in &week[(first + day as usize) % 7] {
                push_merged(
                    &mut iv,
                    (base + Minute::from(s.from), base + Minute::from(s.to)),
                );
            }
        }
        let mut down = cal.down.clone();
        down.sort_by_key(|p| p.from);
        let iv = subtract(iv, &down);
        let mut cum = Vec::with_capacity(iv.len());
        let mut upto = Vec::with_capacity(iv.len());
        let mut total = 0;
        for &(a, b) in &iv {
            cum.push(total);
            total += b - a;
            upto.push(total);
        }
        Working { iv, cum, upto }
    }

    /// Working minutes in `[a, b)` (0 when `b <= a`).
    pub(crate) fn work(&self, a: Minute, b: Minute) -> Minute {
        if b <= a {
            0
        } else {
            self.before(b) - self.before(a)
        }
    }

    /// Working minutes before `t`.
    fn before(&self, t: Minute) -> Minute {
        let i = self.iv.partition_point(|iv| iv.1 <= t);
        let done = self.cum.get(i).copied().unwrap_or_else(|| self.total());
        match self.iv.get(i) {
            Some(&(a, _)) if a < t => done + (t - a),
            _ => done,
        }
    }

    fn total(&self) -> Minute {
        self.upto.last().copied().unwrap_or(0)
    }

    /// The earliest `e >= t` with `w` working minutes in `[t, e)`; `None` past the horizon.
    pub(crate) fn advance(&self, t: Minute, w: Minute) -> Option<Minute> {
        if w <= 0 {
            return Some(t);
        }
        let target = self.before(t) + w;
        let i = self.upto.partition_point(|&c| c < target);
        let &(a, _) = self.iv.get(i)?;
        Some(a + (target - self.cum[i]))
    }

    /// The latest `b <= t` with `w` working minutes in `[b, t)`; `None` before time 0.
    pub(crate) fn retreat(&self, t: Minute, w: Minute) -> Option<Minute> {
        if w <= 0 {
            return Some(t);
        }
        let target = self.before(t) - w;
        if target < 0 {
            return None;
        }
        let j = self.upto.partition_point(|&c| c <= target);
        let &(a, _) = self.iv.get(j)?;
        Some(a + (target - self.cum[j]))
    }

    /// The first working minute at or after `t`; `None` past the horizon.
    pub(crate) fn next_working(&self, t: Minute) -> Option<Minute> {
        let i = self.iv.partition_point(|iv| iv.1 <= t);
        self.iv.get(i).map(|&(a, _)| a.max(t))
    }
}

fn push_merged(iv: &mut Vec<(Minute, Minute)>, (a, b): (Minute, Minute)) {
    match iv.last_mut() {
        Some(last) if a <= last.1 => last.1 = last.1.max(b),
        _ => iv.push((a, b)),
    }
}

/// `iv` minus the union of `down` (both sorted by start).
fn subtract(iv: Vec<(Minute, Minute)>, down: &[Period]) -> Vec<(Minute, Minute)> {
    let mut out = Vec::with_capacity(iv.len());
    let mut d = 0;
    for (mut a, b) in iv {
        while d < down.len() && down[d].to <= a {
            d += 1;
        }
        let mut k = d;
        while a < b {
            match down.get(k) {
                Some(p) if p.from < b => {
                    if p.from > a {
                        out.push((a, p.from));
                    }
                    a = a.max(p.to);
                    k += 1;
                }
                _ => {
                    out.push((a, b));
                    break;
                }
            }
        }
    }
    out
}
