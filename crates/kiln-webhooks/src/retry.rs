//! When to try a failed webhook again, and when to give up.
//!
//! A receiver can be down for a minute (a deploy) or for a weekend (an outage), so
//! retries start fast and then back off, and keep going for more than three days
//! before the message is given up and the endpoint's owner should be told.
//!
//! The delays follow the example schedule in the Standard Webhooks specification, with
//! one more day at the end so that the whole span stays above three days even when
//! every delay is drawn 20% short:
//!
//! | after attempt | delay  | time since the first attempt (no jitter) |
//! |---------------|--------|------------------------------------------|
//! | 1             | 5 s    | 0:00:05                                  |
//! | 2             | 5 min  | 0:05:05                                  |
//! | 3             | 30 min | 0:35:05                                  |
//! | 4             | 2 h    | 2:35:05                                  |
//! | 5             | 5 h    | 7:35:05                                  |
//! | 6             | 10 h   | 17:35:05                                 |
//! | 7             | 14 h   | 31:35:05                                 |
//! | 8             | 20 h   | 51:35:05                                 |
//! | 9             | 24 h   | 75:35:05                                 |
//! | 10            | 24 h   | 99:35:05                                 |
//! | 11            | give up |                                          |
//!
//! Each delay is spread by up to ±20% ("jitter") so that messages that failed together,
//! say during the receiver's outage, do not all come back in the same second. The caller
//! passes the random number, which keeps this module pure and its tests exact.
//!
//! A `410 Gone` answer means the receiver wants no more webhooks: stop at once rather
//! than follow this schedule (see [`Attempt::gone`](crate::send::Attempt::gone)).

use std::time::Duration;

/// Delays in seconds after attempts 1, 2, … (index 0 is the delay after the first).
const SCHEDULE_SECS: [u64; 10] = [
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
    24 * 3600,
];

/// Attempts made in all, the first included, before a message is given up.
pub const MAX_ATTEMPTS: u32 = SCHEDULE_SECS.len() as u32 + 1;

/// The largest fraction by which jitter lengthens or shortens a delay.
pub const JITTER_SPREAD: f64 = 0.2;

/// How long to wait before the next attempt, given `attempt` attempts made so far
/// (1 after the first failure); `None` once [`MAX_ATTEMPTS`] have been made.
///
/// `jitter` is a uniform random number in `[0, 1)`: 0 shortens the delay by 20%, 0.5
/// leaves it as scheduled, and values near 1 lengthen it by up to 20%. Values outside
/// `[0, 1]` are clamped; NaN counts as 0.5. With no attempt made yet (`attempt == 0`)
/// the answer is zero: the first attempt goes out at once.
pub fn delay_after(attempt: u32, jitter: f64) -> Option<Duration> {
    let Some(index) = attempt.checked_sub(1) else {
        return Some(Duration::ZERO);
    };
    let base = *SCHEDULE_SECS.get(usize::try_from(index).ok()?)?;
    let jitter = if jitter.is_nan() {
        0.5
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let factor = 1.0 + JITTER_SPREAD * (2.0 * jitter - 1.0);
    Some(Duration::from_secs_f64(base as f64 * factor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const THREE_DAYS: Duration = Duration::from_secs(3 * 24 * 3600);

    fn total(jitter: f64) -> Duration {
        (1..MAX_ATTEMPTS)
            .map(|n| delay_after(n, jitter).unwrap())
            .sum()
    }

    #[test]
    fn follows_the_specification_schedule_without_jitter() {
        let secs: Vec<u64> = (1..MAX_ATTEMPTS)
            .map(|n| delay_after(n, 0.5).unwrap().as_secs())
            .collect();
        assert_eq!(
            secs,
            [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400, 86400]
        );
        assert_eq!(MAX_ATTEMPTS, 11);
        assert_eq!(delay_after(0, 0.9), Some(Duration::ZERO));
    }

    #[test]
    fn gives_up_after_max_attempts() {
        assert!(delay_after(MAX_ATTEMPTS - 1, 0.5).is_some());
        assert_eq!(delay_after(MAX_ATTEMPTS, 0.5), None);
        assert_eq!(delay_after(u32::MAX, 0.5), None);
    }

    #[test]
    fn spans_at_least_three_days_whatever_the_jitter() {
        // The shortest possible draw on every retry still spans more than three days.
        assert!(total(0.0) >= THREE_DAYS, "{:?}", total(0.0));
        assert!(total(0.5) >= THREE_DAYS);
        // And the longest stays within five days.
        assert!(total(0.999_999) <= Duration::from_secs(5 * 24 * 3600));
    }

    #[test]
    fn odd_jitter_values_are_clamped() {
        assert_eq!(delay_after(1, f64::NAN), Some(Duration::from_secs(5)));
        assert_eq!(
            delay_after(1, f64::NEG_INFINITY),
            Some(Duration::from_secs(4))
        );
        assert_eq!(delay_after(1, f64::INFINITY), Some(Duration::from_secs(6)));
        assert_eq!(delay_after(1, -3.0), Some(Duration::from_secs(4)));
    }

    #[test]
    fn scheduled_delays_never_shrink() {
        for n in 1..MAX_ATTEMPTS - 1 {
            assert!(
                delay_after(n, 0.5) <= delay_after(n + 1, 0.5),
                "attempt {n}"
            );
        }
    }

    proptest! {
        #[test]
        fn jitter_stays_within_twenty_percent(attempt in 1..MAX_ATTEMPTS, jitter in 0.0..1.0f64) {
            let base = delay_after(attempt, 0.5).unwrap().as_secs_f64();
            let got = delay_after(attempt, jitter).unwrap().as_secs_f64();
            prop_assert!(got >= base * 0.8 - 1e-9 && got < base * 1.2 + 1e-9);
        }

        #[test]
        fn more_jitter_never_means_a_shorter_delay(attempt in 1..MAX_ATTEMPTS, a in 0.0..1.0f64, b in 0.0..1.0f64) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(delay_after(attempt, lo) <= delay_after(attempt, hi));
        }

        #[test]
        fn never_panics(attempt in any::<u32>(), jitter in any::<f64>()) {
            let _ = delay_after(attempt, jitter);
        }
    }
}
