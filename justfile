# Async Rust in FastAPI: every task a reader or CI runs. `just` alone lists them.
# Recipes install what they need themselves, so nothing has to be set up by hand first.

set shell := ["bash", "-euo", "pipefail", "-c"]

venv := justfile_directory() / ".venv"
bin := venv / "bin"
just := just_executable()
# The newest stage on pyo3-async-runtimes, the library a reader should ship: what `just app`
# serves and `just wheel` builds. Stages with their own bridge (`src/bridge.rs`) are opt-in.
app_stage := `for d in $(ls -d steps/step-[0-9][0-9]-* | sort -r); do [ -e "$d/src/bridge.rs" ] || { basename "$d" | cut -d- -f2; break; }; done`
# The newest stage of all (the hand-written bridge's last step): the benchmark's smoke test runs on it.
newest := `ls -d steps/step-[0-9][0-9]-* | tail -n 1 | sed -E 's#^steps/step-([0-9]+)-.*#\1#'`
host := env("HOST", "127.0.0.1")
port := env("PORT", "8000")
# uvicorn worker processes for `just app` (each with its own in-process counter; see below).
workers := env("WORKERS", "1")

# List the recipes
default:
    @{{ just }} --list --unsorted

# Create .venv with the tools every step needs (safe to rerun; reinstalls only when pyproject.toml changes)
[group('setup')]
setup: (_pip-group "dev")

# Install one dependency group of pyproject.toml into .venv, once per change of pyproject.toml
[private]
_pip-group GROUP:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x "{{ bin }}/python" ]; then
        python3 -m venv "{{ venv }}"
    fi
    stamp="{{ venv }}/.installed-{{ GROUP }}"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        # `--group` (PEP 735 dependency groups) needs pip >= 25.1.
        "{{ bin }}/python" -m pip install --quiet --upgrade "pip>=25.1"
        "{{ bin }}/python" -m pip install --quiet --group {{ GROUP }}
        touch "$stamp"
    fi

# Install mdBook 0.5 with cargo when missing (a couple of minutes, once): only the book needs it
[group('setup')]
setup-mdbook:
    #!/usr/bin/env bash
    set -euo pipefail
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    if ! mdbook --version 2>/dev/null | grep -q '^mdbook v0\.5\.'; then
        echo "Installing mdbook 0.5 with cargo (a few minutes, once)..."
        cargo install --locked mdbook --version '^0.5'
    fi

# Install Debian's redis-server (and redis-cli) when missing: the tests of step 10 on need it
[group('setup')]
setup-redis:
    #!/usr/bin/env bash
    set -euo pipefail
    if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
        exit 0
    fi
    echo "Installing Debian's redis-server for the Redis tests (once)..."
    {{ just }} _apt-install redis-server
    # Debian starts a system-wide service on port 6379; the tests start their own servers.

# Install Debian packages with apt-get (through sudo when not root)
[private]
_apt-install +PACKAGES:
    #!/usr/bin/env bash
    set -euo pipefail
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y {{ PACKAGES }}

# Build stage STEP (release) and install it into .venv as `fastapi_async`
[group('steps')]
step STEP: setup
    #!/usr/bin/env bash
    set -euo pipefail
    dir="$({{ just }} _stage-dir {{ STEP }})"
    echo "Building $dir into {{ venv }}"
    VIRTUAL_ENV="{{ venv }}" "{{ bin }}/maturin" develop --release --quiet \
        --manifest-path "$dir/Cargo.toml"

# Step 01: one Tokio future awaited from asyncio
[group('steps')]
step-01: (step "01")

# Step 02: many futures at once, one crossing per batch
[group('steps')]
step-02: (step "02")

# Step 03: state shared between futures (a counter)
[group('steps')]
step-03: (step "03")

# Step 04: deadlines inside Rust, cancellation from Python
[group('steps')]
step-04: (step "04")

# Step 05: bounded concurrency (semaphore)
[group('steps')]
step-05: (step "05")

# Step 06: retry with backoff over real HTTP
[group('steps')]
step-06: (step "06")

# Step 07: the complete app: the runtime it owns, CPU work, exit safety, errors, health
[group('steps')]
step-07: (step "07")

# Step 08 (going further): URLs from clients, limited to an allowlist
[group('steps')]
step-08: (step "08")

# Step 09 (going further): progress streamed by callback, async iterator and SSE
[group('steps')]
step-09: (step "09")

# Step 10 (going further): the counter in Redis, one count for every process
[group('steps')]
step-10: (step "10")

# Step 11 (going further): step 10 through a faster, hand-written asyncio-Tokio bridge
[group('steps')]
step-11: (step "11")

# Step 12 (going further): step 11's bridge hands back futures done at the call, within a budget
[group('steps')]
step-12: (step "12")

# Build stage STEP and run the tests of steps 01..STEP against it, then check its stub
[group('test')]
test-step STEP=app_stage: (step STEP)
    #!/usr/bin/env bash
    set -euo pipefail
    stage="$(printf '%02d' "$((10#{{ STEP }}))")"
    dirs=()
    for n in $(seq 1 "$((10#$stage))"); do dirs+=("tests/step_$(printf '%02d' "$n")"); done
    # From step 10 on, the counter's tests run against a real redis-server.
    if [ "$((10#$stage))" -ge 10 ]; then {{ just }} setup-redis; fi
    echo "== stage $stage: pytest ${dirs[*]}"
    "{{ bin }}/python" -m pytest --stage "$stage" "${dirs[@]}"
    echo "== stage $stage: the .pyi stub matches the built module (stubtest)"
    "{{ bin }}/python" -m mypy.stubtest fastapi_async --allowlist tests/stubtest-allowlist.txt
    echo "== stage $stage: app.py and the tests type-check against the stub (mypy --strict)"
    "{{ bin }}/python" -m mypy "$({{ just }} _stage-dir "$stage")/app.py" tools "${dirs[@]}"

# Lint and format checks: cargo fmt, clippy (warnings are errors), ruff, cargo test
[group('test')]
lint: setup
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo test --workspace --quiet
    "{{ bin }}/ruff" check .
    "{{ bin }}/ruff" format --check .

# Test the repository's own tools (tools/) and type-check the book's browser test; no built stage needed
[group('test')]
test-tools: setup (_pip-group "book")
    "{{ bin }}/python" -m pytest tests/tools
    "{{ bin }}/python" -m mypy tests/tools tests/book

# Everything CI runs: lints, the tools' tests, every stage's tests, the exercises, and the checked book
[group('test')]
test: lint test-tools
    #!/usr/bin/env bash
    set -euo pipefail
    for dir in steps/step-[0-9][0-9]-*; do
        stage="$(basename "$dir" | cut -d- -f2)"
        {{ just }} test-step "$stage"
    done
    {{ just }} test-reliability
    # The benchmark harness's smoke test (tiny sizes, one round) against the newest stage.
    {{ just }} step {{ newest }}
    {{ just }} _bench-tools
    echo "== bench harness: smoke test against stage {{ newest }}"
    "{{ bin }}/python" -m pytest --stage "{{ newest }}" tests/bench
    # (bench/native_vs_bridge.py needs examples/native-async: `just test-native` checks it.)
    "{{ bin }}/python" -m mypy bench tests/bench --exclude native_vs_bridge
    {{ just }} test-native
    {{ just }} test-pitfalls
    {{ just }} test-exercises
    {{ just }} test-wheel
    {{ just }} book-check

# Reliability checks of stage STEP that fit in CI (a few minutes): fuzzing, bad input, load, cancellation, faults, shutdown, SSRF
[group('test')]
test-reliability STEP=app_stage: (_pip-group "reliability") (step STEP)
    #!/usr/bin/env bash
    set -euo pipefail
    stage="$(printf '%02d' "$((10#{{ STEP }}))")"
    echo "== stage $stage: tests/reliability (the CI-sized part)"
    "{{ bin }}/python" -m pytest --stage "$stage" tests/reliability -m "not full"
    "{{ bin }}/python" -m mypy tests/reliability

# Every reliability check at full size (slow, not in CI): 300 fuzz examples per operation from a random seed, 1000 SSE disconnects, 20 shutdowns
[group('test')]
reliability-full STEP=app_stage: (_pip-group "reliability") (step STEP)
    #!/usr/bin/env bash
    set -euo pipefail
    stage="$(printf '%02d' "$((10#{{ STEP }}))")"
    FASTAPI_ASYNC_FUZZ_EXAMPLES=300 "{{ bin }}/python" -m pytest --stage "$stage" tests/reliability

# Build examples/native-async (release) into .venv and run its tests: PyO3's native `async fn` next to future_into_py
[group('test')]
test-native: setup
    VIRTUAL_ENV="{{ venv }}" "{{ bin }}/maturin" develop --release --quiet \
        --manifest-path examples/native-async/Cargo.toml
    "{{ bin }}/python" -m pytest tests/native_async
    "{{ bin }}/python" -m mypy.stubtest native_async --allowlist tests/native_async/stubtest-allowlist.txt
    "{{ bin }}/python" -m mypy tests/native_async bench/native_vs_bridge.py

# Build examples/pitfalls into .venv and reproduce every error of the Troubleshooting page, then its fix
[group('test')]
test-pitfalls: (step app_stage)
    VIRTUAL_ENV="{{ venv }}" "{{ bin }}/maturin" develop --release --quiet \
        --manifest-path examples/pitfalls/Cargo.toml
    "{{ bin }}/python" -m pytest --stage "{{ app_stage }}" tests/pitfalls
    "{{ bin }}/python" -m mypy.stubtest pitfalls --allowlist tests/pitfalls/stubtest-allowlist.txt
    "{{ bin }}/python" -m mypy tests/pitfalls

# List every exercise and whether it is done (its tests pass against your code) or pending
[group('exercises')]
exercises: setup
    "{{ bin }}/python" tools/exercises.py list

# Check exercise NAME: build your version of it (debug) and run its tests, then say what to do next
[group('exercises')]
exercise NAME: setup
    "{{ bin }}/python" tools/exercises.py check {{ NAME }}

# Prove, on a scratch copy, that every exercise's starter fails its tests and its solution passes them
[group('exercises')]
test-exercises: setup
    "{{ bin }}/python" tools/exercises.py prove

# Build the release wheel of the app's stage (abi3: one wheel for CPython >= 3.9) into target/wheels
[group('wheel')]
wheel: setup
    rm -f target/wheels/fastapi_async-*.whl
    "{{ bin }}/maturin" build --release --quiet --out target/wheels \
        --manifest-path "$({{ just }} _stage-dir {{ app_stage }})/Cargo.toml"

# Install that wheel into a fresh venv under target/ and run the tests of steps 01..app stage on it
[group('wheel')]
test-wheel: wheel setup-redis
    #!/usr/bin/env bash
    set -euo pipefail
    venv=target/wheel-venv
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade "pip>=25.1"
    # The test dependencies from pyproject's dev group, then the wheel with the app's own
    # runtime dependencies (its `app` extra), as a deployer installs it.
    wheel="$(ls target/wheels/fastapi_async-*.whl)"
    "$venv/bin/python" -m pip install --quiet --group dev "$wheel[app]"
    dirs=()
    for n in $(seq 1 "$((10#{{ app_stage }}))"); do dirs+=("tests/step_$(printf '%02d' "$n")"); done
    echo "== wheel: pytest ${dirs[*]} against $wheel"
    # -p no:cacheprovider: the repository's .pytest_cache belongs to .venv's runs.
    "$venv/bin/python" -m pytest -p no:cacheprovider --stage {{ app_stage }} "${dirs[@]}"

# Rerun the bridge contract's cases (fairness, stalls, context, descriptors) on stage 10 and the newest stage, side by side
[group('bench')]
bench-contract *STAGES: setup
    # Results go to target/bench/contract.{json,md}; never part of `just test`.
    "{{ bin }}/python" bench/contract.py {{ STAGES }}

# Every row in four columns (pure Python on asyncio and uvloop, steps 10 and 12), one run: about 12 minutes (ARGS: --quick, --no-servers, --no-io, --no-cargo, --report)
[group('bench')]
bench *ARGS: _bench-tools
    # Builds both stages itself, into target/bench/stages; results go to target/bench/
    # (never part of `just test`). To quote a run, copy the three files to bench/results/.
    "{{ bin }}/python" bench/run.py {{ ARGS }}

# What the benchmark needs beside .venv: redis-py, redis-server, and wrk (Debian's, about 2 s)
[private]
_bench-tools: setup (_pip-group "bench") setup-redis
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v wrk >/dev/null; then
        echo "Installing wrk for the server rows..."
        {{ just }} _apt-install wrk
    fi

# The "Scaling out" figures: AsyncCounter in-process against Redis, in one process and over HTTP
[group('bench')]
bench-scaling *ARGS: (step app_stage) setup-redis
    #!/usr/bin/env bash
    set -euo pipefail
    if [[ " {{ ARGS }} " != *" --no-http "* ]] && ! command -v wrk >/dev/null; then
        echo "Installing wrk for the HTTP runs..."
        {{ just }} _apt-install wrk
    fi
    # Results go to target/bench/scaling.{json,md}; never part of `just test`.
    "{{ bin }}/python" bench/scaling.py {{ ARGS }}

# Build the book into book/build, failing on any warning, empty listing or broken link
[group('book')]
book-build: setup setup-mdbook
    #!/usr/bin/env bash
    set -euo pipefail
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    "{{ bin }}/python" tools/step_diff.py
    "{{ bin }}/python" tools/check_book_includes.py book/src
    log="$(mktemp)"
    mdbook build book 2>&1 | tee "$log"
    if grep -E '\b(WARN|ERROR)\b' "$log"; then
        echo "mdbook printed warnings (above); the book must build cleanly" >&2
        exit 1
    fi
    "{{ bin }}/python" tools/check_book_links.py book/build

# Build and check the book, then test it in headless Chromium (installs Debian's chromium when missing)
[group('book')]
book-check: book-build (_pip-group "book")
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        echo "Installing Debian's chromium and chromium-driver for the browser test..."
        {{ just }} _apt-install chromium chromium-driver
    fi
    "{{ bin }}/python" -m pytest tests/book

# Serve the book at http://localhost:3000, rebuilt on every change (the step diffs: at start)
[group('book')]
book: setup setup-mdbook
    #!/usr/bin/env bash
    set -euo pipefail
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    "{{ bin }}/python" tools/step_diff.py
    mdbook serve book --hostname {{ host }} --port 3000

# WORKERS=4 just app: four worker processes, each with its own in-process counter. To share
# one count: `just redis` in another terminal, then
# FASTAPI_ASYNC_REDIS_URL=redis://127.0.0.1:6379/0 WORKERS=4 just app
#
# Serve stage STEP's app with uvicorn (default: the newest stage on pyo3-async-runtimes) at http://HOST:PORT (env: WORKERS)
[group('app')]
app STEP=app_stage: (step STEP)
    #!/usr/bin/env bash
    set -euo pipefail
    dir="$({{ just }} _stage-dir {{ STEP }})"
    echo "Serving $dir/app.py at http://{{ host }}:{{ port }} with {{ workers }} worker(s) (docs: /docs)"
    exec "{{ bin }}/uvicorn" app:app --app-dir "$dir" --host {{ host }} --port {{ port }} \
        --workers {{ workers }}

# (Where Debian's redis-server service already listens on 6379, use it instead.)
#
# Run a redis-server on 127.0.0.1:REDIS_PORT in the foreground for the app (no persistence: a restart starts from 0)
[group('app')]
redis REDIS_PORT="6379": setup-redis
    redis-server --port {{ REDIS_PORT }} --bind 127.0.0.1 --save "" --appendonly no

# The folder of stage STEP ("4" or "04"), or an error naming the stages that exist
[private]
_stage-dir STEP:
    #!/usr/bin/env bash
    set -euo pipefail
    stage="$(printf '%02d' "$((10#{{ STEP }}))")"
    dirs=(steps/step-"$stage"-*)
    if [ ! -d "${dirs[0]}" ]; then
        echo "There is no stage $stage; the stages: $(ls steps | tr '\n' ' ')" >&2
        exit 1
    fi
    echo "${dirs[0]}"
