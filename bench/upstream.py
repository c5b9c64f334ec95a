"""The local upstream of the HTTP GET rows: an RSGI app that answers every request ``ok``.

``bench/run.py`` serves it with granian (one worker, in a process of its own), so that the
upstream is a Rust HTTP server doing next to nothing in Python and both clients, reqwest
through the module and ``httpx``, wait on the same fast peer.
"""

from typing import Any


async def app(scope: Any, protocol: Any) -> None:
    protocol.response_str(200, [("content-type", "text/plain")], "ok")
