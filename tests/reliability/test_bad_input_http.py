"""Bad input over HTTP: every parameter of every endpoint, each wrong in every usual way.

Each row is one request sent as raw bytes to a real uvicorn server (so malformed URLs and
bytes that are not UTF-8 reach the server as sent). The answer must be the row's 4xx, and
its body must name the parameter (``loc``) and, for a value out of range, the bound;
never a 5xx, a hang or a crash. The server's log is checked once, after the whole table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import fastapi_async as fa

from ..conftest import stage_dir
from ..servers import ServerProcess, serve_in_process
from .rawhttp import RawResponse, build_request, send_raw

I64_MAX = 2**63 - 1
HUGE = 10**30  # beyond every 64-bit integer type


@dataclass
class Bad:
    method: str
    target: bytes
    body: bytes | None
    status: int
    names: tuple[str, ...] = ()  # each must appear in the response body (parameter, bound, ...)
    content_length: int | None = None  # declared, when it is not the body's length


def get(target: str, status: int, *names: str) -> Bad:
    return Bad("GET", target.encode(), None, status, names)


def post(target: str, body: bytes | None, status: int, *names: str) -> Bad:
    return Bad("POST", target.encode(), body, status, names)


def strings(count: int) -> bytes:
    return json.dumps(["x"] * count).encode()


# ANCHOR: table
BAD_INPUTS = {
    # ANCHOR: table_fetch
    # GET /fetch/{id}?delay_ms=
    "fetch id not an int": get("/fetch/abc", 422, '"id"', "valid integer"),
    "fetch id a float": get("/fetch/1.5", 422, '"id"', "valid integer"),
    "fetch id past i64": get(f"/fetch/{I64_MAX + 1}", 422, '"id"', str(I64_MAX)),
    "fetch id huge": get(f"/fetch/{HUGE}", 422, '"id"', str(I64_MAX)),
    "fetch id huge negative": get(f"/fetch/-{HUGE}", 422, '"id"', str(-I64_MAX - 1)),
    "fetch delay negative": get("/fetch/1?delay_ms=-1", 422, '"delay_ms"', '"ge":0'),
    "fetch delay too long": get(
        f"/fetch/1?delay_ms={fa.MAX_DELAY_MS + 1}", 422, '"delay_ms"', str(fa.MAX_DELAY_MS)
    ),
    "fetch delay huge": get(f"/fetch/1?delay_ms={HUGE}", 422, '"delay_ms"', str(fa.MAX_DELAY_MS)),
    "fetch delay empty": get("/fetch/1?delay_ms=", 422, '"delay_ms"', "valid integer"),
    "fetch delay NaN": get("/fetch/1?delay_ms=NaN", 422, '"delay_ms"', "valid integer"),
    "fetch delay a float": get("/fetch/1?delay_ms=1.5", 422, '"delay_ms"', "valid integer"),
    # ANCHOR_END: table_fetch
    # POST /process/batch (a JSON list of strings)
    "batch not a list": post("/process/batch", b'{"a": 1}', 422, '"body"', "valid list"),
    "batch of numbers": post("/process/batch", b"[1, 2]", 422, '"body",0', "valid string"),
    "batch too long": post(
        "/process/batch", strings(fa.MAX_BATCH_ITEMS + 1), 422, '"body"', str(fa.MAX_BATCH_ITEMS)
    ),
    "batch lone surrogate": post(
        "/process/batch", b'["ok", "\\ud800"]', 422, '"body",1', "lone surrogate"
    ),
    "batch not UTF-8": post("/process/batch", b'["caf\xe9"]', 400, "parsing the body"),
    "batch not JSON": post("/process/batch", b"[1,", 422, '"body"', "JSON decode error"),
    "batch no body": post("/process/batch", None, 422, '"body"', "Field required"),
    # POST /aggregate?latency_ms=
    "aggregate too many sources": post(
        "/aggregate", strings(fa.MAX_AGGREGATE_SOURCES + 1), 422, '"body"', "1000"
    ),
    "aggregate lone surrogate": post("/aggregate", b'["\\udfff"]', 422, '"body",0', "surrogate"),
    "aggregate latency negative": post(
        "/aggregate?latency_ms=-1", b'["a"]', 422, '"latency_ms"', '"ge":0'
    ),
    "aggregate latency too long": post(
        f"/aggregate?latency_ms={HUGE}", b'["a"]', 422, '"latency_ms"', str(fa.MAX_LATENCY_MS)
    ),
    # POST /compute/{n} and GET /compute/{n}/stream
    "compute n negative": post("/compute/-1", None, 422, '"n"', '"ge":0'),
    "compute n too large": post(
        f"/compute/{fa.MAX_COMPUTE_N + 1}", None, 422, '"n"', str(fa.MAX_COMPUTE_N)
    ),
    "compute n huge": post(f"/compute/{HUGE}", None, 422, '"n"', str(fa.MAX_COMPUTE_N)),
    "compute n not an int": post("/compute/ten", None, 422, '"n"', "valid integer"),
    "stream n negative": get("/compute/-5/stream", 422, '"n"', '"ge":0'),
    "stream n too large": get(
        f"/compute/{fa.MAX_COMPUTE_N + 1}/stream", 422, '"n"', str(fa.MAX_COMPUTE_N)
    ),
    # GET /api/{endpoint}?timeout_ms=&latency_ms=
    "api endpoint too long": get(
        "/api/" + "e" * (fa.MAX_ENDPOINT_LEN + 1), 422, '"endpoint"', str(fa.MAX_ENDPOINT_LEN)
    ),
    "api timeout zero": get("/api/x?timeout_ms=0", 422, '"timeout_ms"', '"ge":1'),
    "api timeout too long": get(
        f"/api/x?timeout_ms={fa.MAX_TIMEOUT_MS + 1}", 422, '"timeout_ms"', str(fa.MAX_TIMEOUT_MS)
    ),
    "api latency negative": get("/api/x?latency_ms=-1", 422, '"latency_ms"', '"ge":0'),
    "api latency a word": get("/api/x?latency_ms=soon", 422, '"latency_ms"', "valid integer"),
    # POST /batch?max_concurrent=&latency_ms= (a JSON list of numbers)
    "numbers as strings": post("/batch", b'["1.5"]', 422, '"body",0', "valid number"),
    "numbers as booleans": post("/batch", b"[true]", 422, '"body",0', "valid number"),
    "numbers NaN": post("/batch", b"[NaN]", 422, '"body",0', "finite number"),
    "numbers Infinity": post("/batch", b"[-Infinity]", 422, '"body",0', "finite number"),
    "numbers overflow on doubling": post("/batch", b"[1e308]", 422, '"body",0', "less than"),
    "numbers too many": post(
        "/batch", json.dumps([1] * (fa.MAX_BATCH_ITEMS + 1)).encode(), 422, '"body"', "100000"
    ),
    "numbers max_concurrent zero": post(
        "/batch?max_concurrent=0", b"[1]", 422, '"max_concurrent"', '"ge":1'
    ),
    "numbers max_concurrent too high": post(
        f"/batch?max_concurrent={fa.MAX_CONCURRENT + 1}",
        b"[1]",
        422,
        '"max_concurrent"',
        str(fa.MAX_CONCURRENT),
    ),
    "numbers latency huge": post(
        f"/batch?latency_ms={HUGE}", b"[1]", 422, '"latency_ms"', str(fa.MAX_LATENCY_MS)
    ),
    # GET /retry/{url}?max_retries=
    "retry url not a URL": get("/retry/not-a-url", 422, '"url"', "http"),
    "retry url another scheme": get("/retry/ftp://127.0.0.1/x", 422, '"url"', "http"),
    "retry url too long": get(
        "/retry/http://127.0.0.1/" + "a" * fa.MAX_URL_LEN, 422, '"url"', str(fa.MAX_URL_LEN)
    ),
    "retry max_retries negative": get(
        "/retry/http://127.0.0.1/?max_retries=-1", 422, '"max_retries"', '"ge":0'
    ),
    "retry max_retries too many": get(
        f"/retry/http://127.0.0.1/?max_retries={fa.MAX_RETRIES + 1}",
        422,
        '"max_retries"',
        str(fa.MAX_RETRIES),
    ),
    # GET /upstream/flaky?key=&fail=
    "flaky no key": get("/upstream/flaky", 422, '"key"', "Field required"),
    "flaky empty key": get("/upstream/flaky?key=", 422, '"key"', "at least 1"),
    "flaky key too long": get("/upstream/flaky?key=" + "k" * 65, 422, '"key"', "64"),
    "flaky fail too many": get(
        f"/upstream/flaky?key=k&fail={fa.MAX_RETRIES + 2}", 422, '"fail"', str(fa.MAX_RETRIES + 1)
    ),
    # ANCHOR: table_malformed
    # Bodies past the app's limit (16 MiB), malformed requests, odd methods and paths
    # The server answers as soon as it reads the declared length, before the body.
    "body over the limit": Bad("POST", b"/process/batch", b"[", 413, (), 17 * 2**20),
    "wrong method": get("/counter/increment", 405, "Method Not Allowed"),
    "unknown path": get("/nowhere", 404, "Not Found"),
    "path not UTF-8": Bad("GET", b"/api/\xff\xfe", None, 400),
    "query not UTF-8": Bad("GET", b"/fetch/1?delay_ms=\xff", None, 400),
    "broken percent escape": get("/fetch/%zz", 422, '"id"'),
    "no leading slash": Bad("GET", b"fetch/1", None, 404),
    # ANCHOR_END: table_malformed
}
# ANCHOR_END: table


@pytest.fixture(scope="module")
def server(pytestconfig: pytest.Config) -> Iterator[ServerProcess]:
    with serve_in_process(stage_dir(pytestconfig.getoption("--stage"))) as running:
        yield running


@pytest.mark.parametrize("name", BAD_INPUTS)
async def test_bad_input_is_a_4xx_naming_the_parameter_and_range(
    name: str, server: ServerProcess
) -> None:
    bad = BAD_INPUTS[name]
    request = build_request(bad.method, bad.target, bad.body, bad.content_length)
    answer: RawResponse = await send_raw(server.url, request)
    assert answer.status == bad.status, answer.body[:500]
    text = answer.body.decode()
    for expected in bad.names:
        assert expected in text.replace(" ", "") or expected in text, text[:500]


ODD_UNICODE = ["straße", "ﬁ", "İstanbul", "\u0000", "😀", "עברית", "e\u0301", "\ufeff", ""]


async def test_odd_but_valid_unicode_is_served(server: ServerProcess) -> None:
    body = json.dumps(ODD_UNICODE).encode()
    answer = await send_raw(server.url, build_request("POST", b"/process/batch", body))
    assert answer.status == 200
    assert answer.json() == {"results": [s.upper() for s in ODD_UNICODE], "count": len(ODD_UNICODE)}


def test_the_server_logged_no_error_for_the_whole_table(server: ServerProcess) -> None:
    # uvicorn reports a request it cannot parse as a WARNING ("Invalid HTTP request
    # received."): those rows, and nothing else, may log.
    unparsable = sum(1 for bad in BAD_INPUTS.values() if bad.status == 400 and not bad.names)
    problems = server.problems()
    assert [p for p in problems if "Invalid HTTP request received" not in p] == []
    assert len(problems) <= unparsable
