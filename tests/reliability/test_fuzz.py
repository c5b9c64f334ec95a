"""Schema fuzzing: schemathesis generates requests from the app's own OpenAPI schema.

Each operation of ``/openapi.json`` gets up to ``FUZZ_EXAMPLES`` generated requests,
valid and invalid, sent to the stage's app on a real uvicorn server. Every response must
pass schemathesis' checks: no 5xx, a status the schema documents, a body that matches
the documented schema, valid input accepted and invalid input rejected.

Two adjustments keep a run inside CI's time and off the network:

- The simulated waits (``delay_ms``, ``latency_ms``) are cut to a few milliseconds: the
  schema allows a minute each, and a fuzzer finds the maximum quickly. Their bounds are
  the bad-input table's job.
- The server allows no host at all to ``/retry`` (``FASTAPI_ASYNC_ALLOWED_HOSTS=""``):
  every URL the fuzzer makes up is refused (403) or rejected (422) before any connection,
  so fuzzing cannot aim the server at a real address. The fault and SSRF tests cover what
  happens past the allowlist.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error, positive_data_acceptance
from schemathesis.core.result import Ok
from schemathesis.openapi import from_url

from ..conftest import stage_dir
from ..servers import ServerProcess, serve_in_process

# ANCHOR: settings
# Per operation. `just reliability-full` sets FASTAPI_ASYNC_FUZZ_EXAMPLES=300 and a random
# seed; CI runs 40 from a fixed seed, so a red run is reproducible.
FUZZ_EXAMPLES = int(os.environ.get("FASTAPI_ASYNC_FUZZ_EXAMPLES", "40"))
FIXED_SEED = "FASTAPI_ASYNC_FUZZ_EXAMPLES" not in os.environ
LONGEST_SIMULATED_WAIT_MS = 5
# ANCHOR_END: settings


@pytest.fixture(scope="module")
def fuzzed_server(pytestconfig: pytest.Config) -> Iterator[ServerProcess]:
    app_dir = stage_dir(pytestconfig.getoption("--stage"))
    with serve_in_process(app_dir, env={"FASTAPI_ASYNC_ALLOWED_HOSTS": ""}) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: ServerProcess) -> BaseSchema:
    return from_url(f"{fuzzed_server.url}/openapi.json")


def shorten_simulated_waits(case: Case[Any]) -> None:
    for name in ("delay_ms", "latency_ms"):
        value = (case.query or {}).get(name)
        if isinstance(value, int) and value > LONGEST_SIMULATED_WAIT_MS:
            case.query[name] = LONGEST_SIMULATED_WAIT_MS


# ANCHOR: fuzz
# The operations come from the running server's schema, so they are listed here, inside
# the test, not by `@schema.parametrize()` (whose fixture-based form fails on pytest 9.2:
# it reads a private attribute that pytest removed).
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.timeout(600)
def test_every_operation_answers_as_its_schema_says(
    api_schema: BaseSchema, mode: GenerationMode
) -> None:
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation the schema describes badly
        operations.append(result.ok())
    sent: dict[str, int] = {}
    skipped: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=FUZZ_EXAMPLES,
            derandomize=FIXED_SEED,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: Case[Any]) -> None:
            shorten_simulated_waits(case)
            # A 5xx passes only where the schema documents it (checked by the default
            # `status_code_conformance`): /api's 504 when `timeout_ms` < `latency_ms`.
            excluded: list[CheckFunction] = [not_a_server_error]
            if case.operation.path == "/retry/{url}":
                # Its schema says "a string"; only a URL the `url` crate parses is valid,
                # which no JSON Schema can say, so a valid string may get a 422.
                excluded.append(positive_data_acceptance)
            response = case.call_and_validate(timeout=30, excluded_checks=excluded)
            assert response.status_code != 500, response.text
            sent[case.operation.label] = sent.get(case.operation.label, 0) + 1

        try:
            answers_as_documented()
        except Unsatisfiable:
            # No invalid request exists for an operation without parameters or body.
            assert mode == GenerationMode.NEGATIVE, operation.label
            skipped.append(operation.label)
    assert set(sent) | set(skipped) == {operation.label for operation in operations}
    print(f"{mode}: {sum(sent.values())} requests to {len(sent)} operations; none: {skipped}")


# ANCHOR_END: fuzz


def test_the_fuzzed_server_logged_no_error(fuzzed_server: ServerProcess) -> None:
    assert fuzzed_server.problems() == []
