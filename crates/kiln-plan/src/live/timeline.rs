//! One machine's busy intervals, with an index of the free working time between them.
//!
//! Finding where a new operation fits walks the gaps after its ready time. On a machine
//! with thousands of operations queued back to back (a factory taking orders faster than
//! it makes them) nearly every gap is too short, and walking them made each promise linear
//! in the queue. So for every clock day the timeline keeps what room a new operation could
//! get after a bar ending that day ([`Room`]). A search skips whole days without room for
//! the processing time, then checks the bars of a remaining day exactly (idle time up to
//! the next bar's setup, or up to its start when the SKU is the same). Working time, not
//! clock time: the night between two shifts is no room. The index is kept exact on every
//! change, each change rescanning only the bars of the one or two days it touches.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::ops::{Index, RangeBounds};
use std::sync::Arc;

use super::calendar::Working;
use super::{Bar, DAY, Minute};

/// The room after the bars ending on one clock day, in working minutes.
///
/// An operation fits after a bar `b` if the idle time up to the next bar's setup (or up to
/// its start, taking the setup's place, when the next bar is of its SKU) holds its
/// processing and its own setup (none after a bar of its SKU). Each of those four cases
/// keeps its own most room, and the three that need a SKU keep which SKUs, as bits of
/// `sku % 64`: a day may be searched in vain, never skipped wrongly. One number, the most up
/// to the next bar's start, had let most days of a full machine through to a scan of their
/// bars: between runs of two SKUs back to back it counts the next run's setup as room,
/// which only an operation of that SKU that needs no setup of its own can use.
#[derive(Debug, Clone, Copy, Default)]
struct Room {
    /// The most idle time up to the next bar's setup (`u32::MAX` after the last bar): room
    /// for an operation of any SKU with its setup.
    any: u32,
    /// The same after bars of `prev_skus`: room for those SKUs without a setup.
    prev: u32,
    prev_skus: u64,
    /// The most up to the next bar's start, before bars of `next_skus`: room for those
    /// SKUs with their setup.
    next: u32,
    next_skus: u64,
    /// The same between two bars of one SKU, of `same_skus`: room for those without a
    /// setup.
    same: u32,
    same_skus: u64,
}

impl Room {
    /// Whether an operation of `sku` needing `len` minutes of processing, and
    /// `changeover` more after another SKU, might fit after a bar ending this day.
    fn may_fit(&self, len: Minute, sku: u32, changeover: u32) -> bool {
        let bit = 1u64 << (sku % 64);
        let with_setup = len + Minute::from(changeover);
        Minute::from(self.any) >= with_setup
            || (Minute::from(self.prev) >= len && self.prev_skus & bit != 0)
            || (Minute::from(self.next) >= with_setup && self.next_skus & bit != 0)
            || (Minute::from(self.same) >= len && self.same_skus & bit != 0)
    }

    /// Counts the room after bar `b`: `to_setup` working minutes up to the next bar's
    /// setup and `to_start` up to its start, whose SKU is `next_sku` (none after the last
    /// bar).
    fn add(&mut self, b: &Bar, to_setup: u32, to_start: u32, next_sku: Option<u32>) {
        self.any = self.any.max(to_setup);
        if to_setup > 0 {
            self.prev = self.prev.max(to_setup);
            self.prev_skus |= 1 << (b.sku % 64);
        }
        if let Some(sku) = next_sku
            && to_start > 0
        {
            self.next = self.next.max(to_start);
            self.next_skus |= 1 << (sku % 64);
            if sku == b.sku {
                self.same = self.same.max(to_start);
                self.same_skus |= 1 << (sku % 64);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.any == 0 && self.next == 0
    }
}

/// Busy intervals of one machine keyed by `setup_start` (spans are disjoint and non-empty).
#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    bars: BTreeMap<Minute, Bar>,
    /// Per clock day since the origin, the room after the bars ending that day (none
    /// where no bar ends). Grows on demand.
    room: Vec<Room>,
    /// The machine's working time (its work centre's calendar less its own
    /// downtime), which the room is measured in.
    working: Arc<Working>,
}

impl Timeline {
    pub(crate) fn new(working: Arc<Working>) -> Timeline {
        Timeline {
            bars: BTreeMap::new(),
            room: Vec::new(),
            working,
        }
    }

    /// The machine's working time: its work centre's calendar less the
    /// machine's own downtime.
    pub(crate) fn working(&self) -> &Arc<Working> {
        &self.working
    }

    /// Measures room in a new calendar (after downtime changed it).
    pub(crate) fn set_working(&mut self, working: Arc<Working>) {
        self.working = working;
        self.room.clear();
        let ends: Vec<Minute> = self.bars.values().map(|b| b.end).collect();
        let mut last_day = None;
        for end in ends {
            let day = end.div_euclid(DAY);
            if last_day != Some(day) {
                self.refresh_end(Some(end));
                last_day = Some(day);
            }
        }
    }

    pub(crate) fn range<R: RangeBounds<Minute>>(&self, r: R) -> btree_map::Range<'_, Minute, Bar> {
        self.bars.range(r)
    }

    pub(crate) fn get(&self, key: &Minute) -> Option<&Bar> {
        self.bars.get(key)
    }

    /// A bar to change anything but its times (use [`Timeline::set_end`] for those).
    pub(crate) fn get_mut(&mut self, key: &Minute) -> Option<&mut Bar> {
        self.bars.get_mut(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.bars.len()
    }

    pub(crate) fn values(&self) -> btree_map::Values<'_, Minute, Bar> {
        self.bars.values()
    }

    /// Every bar, to change what is not its times (those keep the room index exact).
    pub(crate) fn bars_mut(&mut self) -> btree_map::ValuesMut<'_, Minute, Bar> {
        self.bars.values_mut()
    }

    pub(crate) fn insert(&mut self, key: Minute, bar: Bar) -> Option<Bar> {
        let prev = self.end_before(key);
        let end = bar.end;
        let old = self.bars.insert(key, bar);
        self.refresh_end(prev);
        self.refresh_end(Some(end));
        self.refresh_end(old.as_ref().map(|o| o.end));
        old
    }

    pub(crate) fn remove(&mut self, key: &Minute) -> Option<Bar> {
        let prev = self.end_before(*key);
        let old = self.bars.remove(key)?;
        self.refresh_end(prev);
        self.refresh_end(Some(old.end));
        Some(old)
    }

    /// Moves a bar's end (work resuming after a downtime, or done early).
    pub(crate) fn set_end(&mut self, key: &Minute, end: Minute) {
        let Some(bar) = self.bars.get_mut(key) else {
            return;
        };
        let old = std::mem::replace(&mut bar.end, end);
        self.refresh_end(Some(old));
        self.refresh_end(Some(end));
    }

    /// Whether an operation of `sku` needing `len` working minutes, and `changeover` more
    /// after another SKU, might fit right after `bar`, if the bar after it is `next`: before
    /// its setup, or before its start when it is of the same SKU.
    pub(crate) fn has_room(
        &self,
        bar: &Bar,
        next: Option<&Bar>,
        sku: u32,
        len: Minute,
        changeover: u32,
    ) -> bool {
        let Some(n) = next else { return true };
        let limit = if n.sku == sku { n.start } else { n.setup_start };
        let setup = if bar.sku == sku {
            0
        } else {
            Minute::from(changeover)
        };
        self.working.work(bar.end, limit) >= len + setup
    }

    /// The first bar keyed after `key` after which an operation of `sku` might fit (see
    /// [`Timeline::has_room`]).
    pub(crate) fn next_with_room(
        &self,
        key: Minute,
        len: Minute,
        sku: u32,
        changeover: u32,
    ) -> Option<(Minute, &Bar)> {
        let (&first, bar) = self.bars.range(key.checked_add(1)?..).next()?;
        let mut day = bar.end.div_euclid(DAY).max(0);
        loop {
            let d = usize::try_from(day).ok()?;
            if self.room.get(d)?.may_fit(len, sku, changeover) {
                // Bars ending this day, from the first candidate on.
                let (lo, hi) = (day * DAY, day * DAY + DAY);
                let start = self
                    .bars
                    .range(..lo)
                    .next_back()
                    .map_or(first, |(k, _)| (*k).max(first));
                let mut it = self.bars.range(start..).peekable();
                while let Some((&k, b)) = it.next() {
                    if b.setup_start >= hi {
                        break;
                    }
                    if b.end >= lo
                        && b.end < hi
                        && self.has_room(b, it.peek().map(|(_, n)| *n), sku, len, changeover)
                    {
                        return Some((k, b));
                    }
                }
            }
            day += 1;
        }
    }

    fn end_before(&self, key: Minute) -> Option<Minute> {
        self.bars.range(..key).next_back().map(|(_, b)| b.end)
    }

    /// Recomputes the index entry of the day a bar ending at `end` ends on.
    fn refresh_end(&mut self, end: Option<Minute>) {
        let Some(end) = end else { return };
        let day = end.div_euclid(DAY);
        let Ok(d) = usize::try_from(day) else { return };
        let (lo, hi) = (day * DAY, day * DAY + DAY);
        let from = self.bars.range(..lo).next_back().map_or(lo, |(k, _)| *k);
        let clip = |m: Minute| u32::try_from(m.max(0)).unwrap_or(u32::MAX);
        let mut room = Room::default();
        let mut it = self.bars.range(from..).peekable();
        while let Some((_, b)) = it.next() {
            if b.setup_start >= hi {
                break;
            }
            if b.end >= lo && b.end < hi {
                match it.peek() {
                    None => room.add(b, u32::MAX, u32::MAX, None),
                    Some((_, n)) => room.add(
                        b,
                        clip(self.working.work(b.end, n.setup_start)),
                        clip(self.working.work(b.end, n.start)),
                        Some(n.sku),
                    ),
                }
            }
        }
        if d >= self.room.len() {
            if room.is_empty() {
                return;
            }
            self.room.resize(d + 1, Room::default());
        }
        self.room[d] = room;
    }
}

impl Index<&Minute> for Timeline {
    type Output = Bar;

    fn index(&self, key: &Minute) -> &Bar {
        &self.bars[key]
    }
}

impl<'a> IntoIterator for &'a Timeline {
    type Item = (&'a Minute, &'a Bar);
    type IntoIter = btree_map::Iter<'a, Minute, Bar>;

    fn into_iter(self) -> Self::IntoIter {
        self.bars.iter()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The first bar after `key` with room for `len` minutes of `sku`, by looking at each.
    fn naive(
        tl: &Timeline,
        w: &Working,
        key: Minute,
        (len, sku, changeover): (Minute, u32, u32),
    ) -> Option<Minute> {
        for (k, b) in tl.range(key + 1..) {
            let room = tl.range(k + 1..).next().map_or(Minute::MAX, |(_, n)| {
                w.work(b.end, if n.sku == sku { n.start } else { n.setup_start })
            });
            let setup = if b.sku == sku {
                0
            } else {
                Minute::from(changeover)
            };
            if room >= len + setup {
                return Some(*k);
            }
        }
        None
    }

    fn bar(sku: u32, setup_start: Minute, setup: u32, end: Minute) -> Bar {
        Bar {
            order: 0,
            op: 0,
            sku,
            setup_start,
            start: setup_start + Minute::from(setup),
            end,
            setup,
            changeover: setup,
            fixed: false,
        }
    }

    proptest! {
        /// After any inserts, removals and end changes, the index answers what a scan does.
        #[test]
        fn the_index_answers_what_a_scan_does(
            steps in proptest::collection::vec((0i64..400, 0u32..30, 1i64..300, 0u32..3, 0u8..10), 1..150),
            queries in proptest::collection::vec((0usize..200, 1i64..240, 0u32..3, 0u32..40), 1..30),
        ) {
            let cal = crate::live::Calendar::weekdays(&[crate::live::Shift { from: 480, to: 960 }]);
            let w = Arc::new(Working::build(&cal, jiff::civil::date(2025, 6, 2), 60));
            let mut tl = Timeline::new(w.clone());
            let mut t = 0;
            for (gap, setup, len, sku, action) in steps {
                match action {
                    // Remove one bar now and then, or move its end back.
                    0 if tl.len() > 1 => {
                        let key = *tl.range(..).nth(tl.len() / 2).unwrap().0;
                        tl.remove(&key);
                    }
                    1 if tl.len() > 1 => {
                        let (key, b) = tl.range(..).nth(tl.len() / 3).unwrap();
                        let (key, end) = (*key, b.start + 1);
                        tl.set_end(&key, end);
                    }
                    _ => {
                        let s = t + gap;
                        let b = bar(sku, s, setup, s + Minute::from(setup) + len);
                        t = b.end;
                        tl.insert(s, b);
                    }
                }
            }
            let keys: Vec<Minute> = tl.range(..).map(|(k, _)| *k).collect();
            for (i, len, sku, changeover) in queries {
                let key = keys.get(i).copied().unwrap_or(-1);
                let got = tl.next_with_room(key, len, sku, changeover).map(|(k, _)| k);
                prop_assert_eq!(got, naive(&tl, &w, key, (len, sku, changeover)));
            }
        }
    }
}
