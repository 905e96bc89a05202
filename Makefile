# The two commands of the Quick start: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The exact, known-good versions: pyproject.toml has ranges, constraints.txt pins.
CONSTRAINTS := constraints.txt

.PHONY: serve test check docs spec-lint lint format bench soak contract-long contract-repeat constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The sandbox (server extra) and the test tools, at the versions of constraints.txt.
$(STAMP): $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[server,test]"
	touch $(STAMP)

# The docs' Node tools, pinned by docs/package-lock.json: Redocly CLI (renders the
# reference, lints) and Spectral (lints). Node.js 20 or later and npm.
DOCS_NODE := docs/node_modules/.package-lock.json
REFERENCE := build/reference/index.html
NODE_QUIET := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

$(DOCS_NODE): docs/package.json docs/package-lock.json
	npm ci --prefix docs --no-audit --no-fund --loglevel=error
	touch $(DOCS_NODE)

# The API reference: one self-contained HTML page (Redoc) of the sandbox's view of the spec,
# served at /reference (the wheel carries the same page: hatch_build.py).
$(REFERENCE): $(DOCS_NODE) openapi/pin.yaml $(wildcard openapi/*.overlay.yaml) src/pin_mock/overlays.py docs/getting-started.md docs/reference.hbs docs/build_reference.py redocly.yaml | $(STAMP)
	$(BIN)/python docs/build_reference.py

docs: $(REFERENCE)

# The sandbox's view of the contract: pin.yaml plus openapi/*.overlay.yaml (pin_mock/overlays.py).
SANDBOX_VIEW := build/openapi/sandbox.json
$(SANDBOX_VIEW): openapi/pin.yaml $(wildcard openapi/*.overlay.yaml) src/pin_mock/overlays.py | $(STAMP)
	$(BIN)/python -m pin_mock.overlays $@

# Spectral (spectral:oas) and Redocly (recommended) on both documents, PIN's contract and
# the sandbox's view; the tests run them too.
spec-lint: $(DOCS_NODE) $(SANDBOX_VIEW)
	$(NODE_QUIET) docs/node_modules/.bin/spectral lint openapi/pin.yaml $(SANDBOX_VIEW)
	$(NODE_QUIET) docs/node_modules/.bin/redocly lint openapi/pin.yaml $(SANDBOX_VIEW)

# Without Node.js the sandbox still starts; /reference then says what to run.
serve: $(STAMP)
	@$(MAKE) --no-print-directory docs || echo "make serve: the reference at /reference was not built (make docs needs Node.js 20+ and npm)" >&2
	$(BIN)/pin-mock serve $(ARGS)

# The suite runs on every core (pytest-xdist); PYTEST_ARGS="-n 0" runs it in one process.
# The docs tools and the reference first: under CI a failure there fails the run; on a
# machine without Node.js the docs tests are skipped, and say so.
test: $(STAMP)
	@$(MAKE) --no-print-directory docs || { test -z "$$CI" && echo "make test: no Node.js tools: the docs tests will be skipped" >&2; }
	$(BIN)/ruff check src tests bench docs hatch_build.py
	$(BIN)/lint-imports
	$(BIN)/openapi-spec-validator openapi/pin.yaml
	$(BIN)/python -m pytest -n auto --dist worksteal $(PYTEST_ARGS)

# The everyday loop (about a minute on 2 cores): lint, the import contracts and the
# in-process tests on the memory engine; not Redis, real sockets, subprocesses or the
# long runs (markers set by tests/conftest.py). `make test` runs everything.
check: $(STAMP)
	$(BIN)/ruff check src tests bench docs hatch_build.py
	$(BIN)/ruff format --check src tests bench docs hatch_build.py
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not redis and not live and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench docs hatch_build.py
	$(BIN)/ruff format --check src tests bench docs hatch_build.py
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests bench docs
	$(BIN)/ruff check --fix src tests bench docs

bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	npm install --silent --prefix bench
	$(BIN)/python bench/run.py $(ARGS)

# The kit's fuzzing against one sandbox for SOAK_MINUTES (default 10): fails on any 5xx
# or RSS growth past SOAK_RSS_GROWTH_MIB (bench/README.md). Not part of `make test`.
soak: $(STAMP)
	$(BIN)/python bench/soak.py $(ARGS)

contract-long: $(STAMP)
	PIN_MOCK_LONG=1 $(BIN)/python -m pytest -m slow tests/contract -o addopts="" -s $(PYTEST_ARGS)

# Ten back-to-back default runs and ten pytest-plugin runs against one default sandbox
# (tests/contract/test_kit_repeat.py; PIN_MOCK_REPEAT_RUNS changes the count).
contract-repeat: $(STAMP)
	PIN_MOCK_LONG=1 $(BIN)/python -m pytest tests/contract/test_kit_repeat.py -o addopts="" -s $(PYTEST_ARGS)

# Re-resolve constraints.txt from pyproject.toml's ranges in a throwaway venv
# (keeps the file's header comment); then run `make test` on the new set.
LOCK_VENV := build/constraints-venv
constraints:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet ".[server,test]"
	{ sed '/^[^#]/,$$d' $(CONSTRAINTS); $(LOCK_VENV)/bin/python -m pip freeze --exclude pin-mock; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf $(LOCK_VENV)

clean:
	rm -rf $(VENV) build dist .pytest_cache
