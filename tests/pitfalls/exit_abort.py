"""Pitfall: a process that aborts as it exits, after printing the right answer.

Run once, it usually exits with 0; run a hundred times, a few runs end with SIGABRT. Fifty
futures are left pending on Tokio when ``asyncio.run`` returns, and their results arrive
while the interpreter finalizes (``tests/step_07/test_clean_exit.py`` runs the same
script against every stage from step 07 on).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import pitfalls

Fetch = Callable[[int, int], Awaitable[str]]


# ANCHOR: script
async def main(fetch: Fetch) -> list[str]:
    left_pending = [fetch(i, 1 + i % 3) for i in range(50)]  # noqa: F841 (never awaited)
    return await asyncio.gather(*(fetch(i, 1) for i in range(3)))


def run(fetch: Fetch) -> None:
    print(asyncio.run(main(fetch)))
    # ... and the interpreter starts finalizing while Tokio delivers the other 50.


# ANCHOR_END: script

if __name__ == "__main__":
    entry = {"broken": pitfalls.fetch_unguarded_async, "fixed": pitfalls.fetch_data_async}
    run(entry[sys.argv[1]])
