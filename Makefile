# Every target creates the virtualenv when it is missing, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/vzaps-async onboard --simulate --count 25

lint: $(STAMP)
	$(BIN)/ruff check vzaps_async tests benchmarks examples
	$(BIN)/ruff format --check vzaps_async tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy vzaps_async

pytest: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.journals

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
