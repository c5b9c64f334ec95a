//! Step 06's retry schedule: how long to wait before the next attempt, as pure functions.
//!
//! Its constants (`BACKOFF_BASE`, `BACKOFF_CAP`, `RETRY_AFTER_CAP`) live in `limits.rs`.
//!
//! Nothing here does I/O, reads a clock or draws a random number: the caller passes the
//! attempt number and the random `jitter` in. That keeps the schedule exact to test (the
//! unit tests below pin every bound) and keeps the HTTP loop in `retry.rs` short.

use std::time::Duration;

// ANCHOR: backoff
/// The wait before retry number `attempt + 1`, after `attempt + 1` failures
/// ("exponential backoff with full jitter").
///
/// The ceiling doubles with each failure, `base * 2^attempt`, and never exceeds `cap`;
/// the wait is a uniformly random point up to it, `jitter * ceiling`, with `jitter`
/// drawn from `[0, 1)` by the caller. (Up to, not below: in floating point, a `jitter`
/// just under 1 times the ceiling can round to the ceiling itself.) The randomness spreads out clients that failed at
/// the same moment, so they do not all come back at the same moment either.
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    // 2^attempt overflows a u32 from attempt 32 on; the cap applies long before that.
    let ceiling = 2u32
        .checked_pow(attempt)
        .and_then(|factor| base.checked_mul(factor))
        .map_or(cap, |grown| grown.min(cap));
    // `mul_f64` panics on a negative or non-finite factor: never trust the caller's
    // float, since a panic here would cross into Python.
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ceiling.mul_f64(jitter)
}
// ANCHOR_END: backoff

// ANCHOR: retry_after
/// Parses the seconds form of a `Retry-After` header ("120") into a wait, at most `cap`.
///
/// Returns `None` for anything else, including the HTTP-date form
/// ("Wed, 21 Oct 2015 07:28:00 GMT"), which this step does not read: the caller then
/// falls back to its own backoff.
pub fn parse_retry_after(value: &str, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    // RFC 9110: delay-seconds = 1*DIGIT. `u64::from_str` would also accept "+5".
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // More digits than a u64 holds is still a valid (huge) delay: it is capped, not ignored.
    let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
    Some(Duration::from_secs(seconds).min(cap))
}
// ANCHOR_END: retry_after

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(50);
    const CAP: Duration = Duration::from_secs(2);
    /// The largest `f64` below 1.0, the top of what `fastrand::f64()` can return.
    const ALMOST_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

    #[test]
    fn ceiling_doubles_with_each_attempt() {
        let ceilings: Vec<u128> = (0..6)
            .map(|attempt| backoff_delay(attempt, BASE, CAP, 1.0).as_millis())
            .collect();
        assert_eq!(ceilings, [50, 100, 200, 400, 800, 1600]);
    }

    #[test]
    fn ceiling_stops_at_the_cap_even_for_huge_attempt_numbers() {
        for attempt in [6, 10, 31, 32, 64, u32::MAX] {
            assert_eq!(
                backoff_delay(attempt, BASE, CAP, 1.0),
                CAP,
                "attempt {attempt}"
            );
        }
    }

    #[test]
    fn full_jitter_scales_the_ceiling_linearly() {
        assert_eq!(backoff_delay(3, BASE, CAP, 0.0), Duration::ZERO);
        assert_eq!(backoff_delay(3, BASE, CAP, 0.5), Duration::from_millis(200));
        // Float rounding: just under 1 may give the ceiling itself, never more.
        assert!(backoff_delay(3, BASE, CAP, ALMOST_ONE) <= Duration::from_millis(400));
    }

    #[test]
    fn jitter_never_exceeds_the_ceiling_for_any_draw() {
        let mut rng = fastrand::Rng::with_seed(6);
        for attempt in 0..20 {
            let ceiling = backoff_delay(attempt, BASE, CAP, 1.0);
            for _ in 0..1_000 {
                let delay = backoff_delay(attempt, BASE, CAP, rng.f64());
                assert!(delay <= ceiling, "{delay:?} > {ceiling:?}");
            }
        }
    }

    #[test]
    fn jitter_outside_zero_to_one_is_clamped_never_a_panic() {
        assert_eq!(backoff_delay(0, BASE, CAP, -3.0), Duration::ZERO);
        assert_eq!(backoff_delay(0, BASE, CAP, 7.0), BASE);
        assert_eq!(backoff_delay(0, BASE, CAP, f64::NAN), Duration::ZERO);
        assert_eq!(backoff_delay(0, BASE, CAP, f64::INFINITY), Duration::ZERO);
    }

    #[test]
    fn retry_after_seconds_are_respected() {
        let cap = Duration::from_secs(10);
        assert_eq!(parse_retry_after("0", cap), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1", cap), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 7 ", cap), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_is_capped() {
        let cap = Duration::from_secs(10);
        assert_eq!(parse_retry_after("11", cap), Some(cap));
        assert_eq!(parse_retry_after("86400", cap), Some(cap));
        assert_eq!(parse_retry_after(&"9".repeat(40), cap), Some(cap));
    }

    #[test]
    fn retry_after_other_forms_are_ignored() {
        let cap = Duration::from_secs(10);
        for value in [
            "",
            "soon",
            "-1",
            "+5",
            "1.5",
            "Wed, 21 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(value, cap), None, "{value:?}");
        }
    }
}
