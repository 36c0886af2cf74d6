# Two commands: `make run` (set up, then the walkthrough) and `make test` (set up, then
# lint, type checks and every test). `make bench` rewrites docs/benchmarks.md; `make lock`
# regenerates requirements/*.txt (pinned, hashed); `make dist` builds a reproducible release.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: fuzz run test lint typecheck pytest bench lock dist clean

# Exactly what CI tested: every package pinned and hashed in requirements/*.txt (`make lock`
# writes them from pyproject.toml's ranges). The project itself goes in without its
# dependencies and without build isolation (its build backend is in the lock too).
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	--custom-compile-command "make lock" --quiet
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check

$(STAMP): pyproject.toml requirements/build.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "seedguard needs Python 3.11 or newer (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r requirements/build.txt
	$(PIP) install --require-hashes --no-deps --no-build-isolation -r requirements/dev.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	$(PIP) check
	@touch $(STAMP)

# The core lock's packages as wheels (two of them built here from their hashed sdists), for
# tests/test_packaging.py's core-only venv, which installs them offline.
CORE_WHEELS := $(VENV)/wheels-core/.done
$(CORE_WHEELS): $(STAMP) requirements/core.txt
	rm -rf $(VENV)/wheels-core
	$(PIP) wheel --require-hashes --no-deps --no-build-isolation -r requirements/core.txt \
		-w $(VENV)/wheels-core
	@touch $(CORE_WHEELS)

# dev first; the build tools and the core install then take dev's versions where they share
# a package, so a core-only install runs what CI tested.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements/dev.txt
	$(BIN)/uv pip compile requirements/build.in -c requirements/dev.txt $(LOCK_FLAGS) \
		-o requirements/build.txt
	$(BIN)/uv pip compile pyproject.toml -c requirements/dev.txt $(LOCK_FLAGS) \
		-o requirements/core.txt

# A release: the wheel and sdist, byte for byte reproducible from the commit
# (SOURCE_DATE_EPOCH is the commit's time), and their SHA-256 (docs/releases.md).
dist: $(STAMP)
	rm -rf dist
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) $(BIN)/python -m build --no-isolation --outdir dist
	cd dist && sha256sum * > SHA256SUMS && cat SHA256SUMS

run: $(STAMP)
	$(BIN)/seedguard demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(CORE_WHEELS)
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
