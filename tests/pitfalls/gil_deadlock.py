"""Pitfall: a Rust function that holds the GIL while it waits for a task that needs it."""

from __future__ import annotations

import faulthandler
import sys

import pitfalls

# The deadlock never ends by itself: after this many seconds, faulthandler prints where
# every thread is and ends the process with exit code 1.
GIVE_UP_S = 3


# ANCHOR: broken
def broken() -> None:
    faulthandler.dump_traceback_later(GIVE_UP_S, exit=True)
    print(pitfalls.call_back_holding_gil(lambda: "called back"))  # never returns


# ANCHOR_END: broken


# ANCHOR: fixed
def fixed() -> None:
    faulthandler.dump_traceback_later(GIVE_UP_S, exit=True)
    print(pitfalls.call_back_detached(lambda: "called back"))
    faulthandler.cancel_dump_traceback_later()


# ANCHOR_END: fixed

if __name__ == "__main__":
    {"broken": broken, "fixed": fixed}[sys.argv[1]]()
