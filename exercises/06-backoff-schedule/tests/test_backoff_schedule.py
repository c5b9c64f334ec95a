"""Exercise 06-backoff-schedule: the schedule, called from Python."""

import pytest
from ex06_backoff_schedule import MAX_RETRIES, backoff_schedule


def test_the_schedule_doubles_up_to_the_cap() -> None:
    schedule = backoff_schedule(8)
    assert schedule == [50, 100, 200, 400, 800, 1600, 2000, 2000], (
        "with base_ms=50 and cap_ms=2000, each ceiling doubles the one before, up to the cap"
    )


def test_other_bases_and_caps() -> None:
    assert backoff_schedule(5, base_ms=10, cap_ms=35) == [10, 20, 35, 35, 35]
    assert backoff_schedule(3, base_ms=0) == [0, 0, 0]


def test_the_longest_schedule_stays_at_the_cap() -> None:
    try:
        schedule = backoff_schedule(MAX_RETRIES)
    except BaseException as exc:
        if type(exc).__name__ == "PanicException" and "overflow" in str(exc):
            pytest.fail(
                f"backoff_ceiling panicked for a large attempt ({exc}): 2^attempt overflows "
                "a u32 from attempt 32 on; use checked_pow and checked_mul, and answer the cap",
                pytrace=False,
            )
        raise
    assert len(schedule) == MAX_RETRIES
    assert schedule[6:] == [2000] * (MAX_RETRIES - 6), "from attempt 6 on, every wait is the cap"


def test_no_retries_no_waits() -> None:
    assert backoff_schedule(0) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((-1,), "retries must be between 0 and 100, got -1"),
        ((MAX_RETRIES + 1,), "retries must be between 0 and 100, got 101"),
        ((3, -5), "base_ms must be between 0 and 60000, got -5"),
        ((3, 50, 60_001), "cap_ms must be between 0 and 60000, got 60001"),
    ],
)
def test_arguments_outside_their_range_raise_value_error(
    arguments: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        backoff_schedule(*arguments)
