"""The ``asyncio.Future`` that step 11's bridge returns for a pending Rust future.

``bridge/task.rs`` runs this file once (``PyModule::from_code``) and sets
``RustFuture._drop_rust_future`` to its Rust function of that name. Cancelling the future
must drop the Rust future behind it. A done callback could do that, but every future would
then pay for one more loop callback when it completes; overriding ``cancel`` costs only the
futures that are cancelled. ``Task.cancel``, ``asyncio.wait_for`` and ``gather`` all
cancel the future they wait for through this method.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


# ANCHOR: class
class RustFuture(asyncio.Future):  # type: ignore[type-arg]
    __slots__ = ("_rust_key",)
    _rust_key: int  # which Rust future this is, for its event loop's bridge
    _drop_rust_future: Callable[[RustFuture], None]  # set from Rust

    def cancel(self, msg: object | None = None) -> bool:
        if not super().cancel(msg):
            return False  # already done: nothing is running any more
        type(self)._drop_rust_future(self)
        return True


# ANCHOR_END: class
