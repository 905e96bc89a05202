# The two commands of the Quick start: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The exact, known-good versions: pyproject.toml has ranges, constraints.txt pins.
CONSTRAINTS := constraints.txt

.PHONY: serve test lint format bench soak contract-long constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The sandbox (server extra) and the test tools, at the versions of constraints.txt.
$(STAMP): $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[server,test]"
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/pin-mock serve $(ARGS)

# The suite runs on every core (pytest-xdist); PYTEST_ARGS="-n 0" runs it in one process.
test: $(STAMP)
	$(BIN)/ruff check src tests bench docs
	$(BIN)/openapi-spec-validator openapi/pin.yaml
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench docs
	$(BIN)/ruff format --check src tests bench docs

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
