# Two commands: `make run` (set up, then the walkthrough) and `make test` (set up, then
# lint, type checks and every test). `make bench` rewrites docs/benchmarks.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: fuzz run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "seedguard needs Python 3.11 or newer (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/seedguard demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n 2

test: lint typecheck pytest

# Longer budgets than `make test`: the OpenAPI contract on both databases, hostile values,
# and the parser fuzz harnesses (hypothesis; 20,000 examples each).
fuzz: $(STAMP)
	SEEDGUARD_SCHEMATHESIS_EXAMPLES=100 SEEDGUARD_SCHEMATHESIS_DATABASES=sqlite,postgresql \
	SEEDGUARD_HOSTILE_EXAMPLES=500 SEEDGUARD_FUZZ_EXAMPLES=20000 \
	$(BIN)/pytest -q -p no:randomly tests/server/test_contract.py tests/server/test_hostile_input.py \
	tests/test_fuzz_parsers.py

bench: $(STAMP)
	$(BIN)/python -m bench.run --output docs/benchmarks.md

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
