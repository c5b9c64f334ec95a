//! The schedule's own tests, in Rust: `backoff_ceiling` needs no Python to be checked.

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use ex06_backoff_schedule::backoff_ceiling;

const BASE: Duration = Duration::from_millis(50);
const CAP: Duration = Duration::from_secs(2);

/// `backoff_ceiling(attempt, base, cap)`, or a test failure that says what a panic means.
fn ceiling(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let called = panic::catch_unwind(AssertUnwindSafe(|| backoff_ceiling(attempt, base, cap)));
    called.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if let Some(todo) = message.strip_prefix("not yet implemented: ") {
            panic!("still the starter's todo!(): {todo}. Write that part (see README.md).");
        }
        panic!(
            "backoff_ceiling({attempt}, {base:?}, {cap:?}) panicked ({message}): 2^attempt \
             overflows a u32 from attempt 32 on, and base * 2^attempt can overflow a \
             Duration. Use checked_pow and checked_mul, and answer the cap when they fail"
        )
    })
}

#[test]
fn the_first_wait_is_the_base() {
    assert_eq!(
        ceiling(0, BASE, CAP),
        BASE,
        "attempt 0: base * 2^0 is the base"
    );
}

#[test]
fn the_ceiling_doubles_with_each_attempt_up_to_the_cap() {
    let ceilings: Vec<u128> = (0..8).map(|a| ceiling(a, BASE, CAP).as_millis()).collect();
    assert_eq!(
        ceilings,
        [50, 100, 200, 400, 800, 1600, 2000, 2000],
        "base * 2^attempt, but never above the cap"
    );
}

#[test]
fn a_large_attempt_stays_at_the_cap() {
    for attempt in [20, 31, 32, 33, 64, 1_000, u32::MAX] {
        assert_eq!(ceiling(attempt, BASE, CAP), CAP, "attempt {attempt}");
    }
}

#[test]
fn a_large_base_stays_at_the_cap() {
    let huge = Duration::from_secs(u64::MAX / 4);
    assert_eq!(
        ceiling(3, huge, CAP),
        CAP,
        "base * 2^3 overflows a Duration here"
    );
}

#[test]
fn a_zero_base_never_waits() {
    for attempt in [0, 5] {
        assert_eq!(
            ceiling(attempt, Duration::ZERO, CAP),
            Duration::ZERO,
            "attempt {attempt}"
        );
    }
}

#[test]
fn a_cap_below_the_base_wins() {
    let cap = Duration::from_millis(10);
    assert_eq!(
        ceiling(0, BASE, cap),
        cap,
        "the cap bounds even the first wait"
    );
}
