# The two commands of the Quick start: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test lint format bench contract-long clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/pin-mock serve $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check src tests bench docs
	$(BIN)/openapi-spec-validator openapi/pin.yaml
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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

contract-long: $(STAMP)
	PIN_MOCK_LONG=1 $(BIN)/python -m pytest -m slow tests/contract -o addopts="" -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache
