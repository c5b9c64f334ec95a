//! The retry schedule (step 06): how long to wait before the next attempt, as pure functions.
//!
//! Nothing here does I/O, reads a clock or draws a random number: the caller passes the
//! attempt number and the random `jitter` in (and the constants, from `limits.rs`). That
//! keeps the schedule exact to test and the HTTP loop in `retry.rs` short.

use std::time::Duration;

// ANCHOR: backoff
/// The wait before retry number `attempt + 1`, after `attempt + 1` failures
/// ("exponential backoff with full jitter").
///
/// The ceiling doubles with each failure, `base * 2^attempt`, and never exceeds `cap`; the
/// wait is a uniformly random point up to it, `jitter * ceiling`, with `jitter` drawn from
/// `[0, 1)` by the caller. The randomness spreads out clients that failed at the same
/// moment, so they do not all come back at the same moment either.
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    // Doubled until it reaches the cap, so at most about 94 times (1 ns to `Duration::MAX`)
    // whatever `attempt` is; a zero base stays zero. No `2^attempt` that could overflow.
    let mut ceiling = base.min(cap);
    for _ in 0..attempt {
        if ceiling.is_zero() || ceiling >= cap {
            break;
        }
        ceiling = ceiling.saturating_mul(2).min(cap);
    }
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
/// Parses the seconds form of a `Retry-After` header ("120") into a wait, at most `cap`;
/// `None` for anything else, such as the HTTP-date form, which this step does not read
/// (the caller then falls back to its own backoff).
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

    #[test]
    fn the_ceiling_doubles_with_each_attempt_and_stops_at_the_cap() {
        let ceiling = |attempt| backoff_delay(attempt, BASE, CAP, 1.0).as_millis();
        let ceilings: Vec<u128> = (0..7).map(ceiling).collect();
        assert_eq!(ceilings, [50, 100, 200, 400, 800, 1600, 2000]);
        // 2^attempt overflows a u32 from 32 on: still the cap, never a panic.
        for attempt in [31, 32, 64, u32::MAX] {
            assert_eq!(ceiling(attempt), 2000, "attempt {attempt}");
        }
        // Past 32 doublings a 1 ns base is still below a 10 s cap; a zero base stays zero.
        let (ns, ten_s) = (Duration::from_nanos(1), Duration::from_secs(10));
        assert_eq!(
            backoff_delay(32, ns, ten_s, 1.0),
            Duration::from_nanos(1 << 32)
        );
        assert_eq!(
            backoff_delay(u32::MAX, Duration::ZERO, CAP, 1.0),
            Duration::ZERO
        );
    }

    #[test]
    fn the_wait_is_jitter_times_the_ceiling_and_never_above_it() {
        assert_eq!(backoff_delay(3, BASE, CAP, 0.0), Duration::ZERO);
        assert_eq!(backoff_delay(3, BASE, CAP, 0.5), Duration::from_millis(200));
        let mut rng = fastrand::Rng::with_seed(6);
        for attempt in 0..20 {
            let ceiling = backoff_delay(attempt, BASE, CAP, 1.0);
            for _ in 0..1_000 {
                assert!(backoff_delay(attempt, BASE, CAP, rng.f64()) <= ceiling);
            }
        }
    }

    #[test]
    fn jitter_outside_zero_to_one_is_clamped_never_a_panic() {
        for (jitter, wait) in [(-3.0, 0), (7.0, 50), (f64::NAN, 0), (f64::INFINITY, 0)] {
            let expected = Duration::from_millis(wait);
            assert_eq!(backoff_delay(0, BASE, CAP, jitter), expected, "{jitter}");
        }
    }

    #[test]
    fn retry_after_seconds_are_respected_up_to_the_cap() {
        let cap = Duration::from_secs(10);
        for (value, seconds) in [("0", 0), ("1", 1), (" 7 ", 7), ("11", 10), ("86400", 10)] {
            let expected = Some(Duration::from_secs(seconds));
            assert_eq!(parse_retry_after(value, cap), expected, "{value:?}");
        }
        // More digits than a u64 holds: a huge delay, capped.
        assert_eq!(parse_retry_after(&"9".repeat(40), cap), Some(cap));
    }

    #[test]
    fn other_retry_after_forms_are_ignored() {
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
