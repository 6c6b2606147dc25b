# ContestFlow: `make run` starts the embedded stack, `make test` runs the whole suite (SQLite and PostgreSQL).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The workflow sandbox re-imports the workflow modules for every new workflow; without cached bytecode each of those
# imports compiles the source again (5% of the worker's CPU when 300 projects close registration at once).
unexport PYTHONDONTWRITEBYTECODE
TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: install browser run bench chaos test test-sqlite test-postgres test-cohort lint migrate bench-first-round bench-announce clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install ContestFlow with its tools

# The public pages' test drives Debian's Chromium through its ChromeDriver (no browser download at run time).
browser: ## Install Debian's chromium and chromium-driver when missing (root, or sudo)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver >/dev/null; \
	fi

run: install ## Start Temporal dev server, SMTP sink, migrations, worker and API; Ctrl-C stops all
	$(BIN)/python -m devtools.stack

# The two runs go side by side: each waits on its own dev server and database much of the time, so together they take
# about a third less than one after the other on two cores (each keeps its output until it ends).
test: install browser ## The whole suite, against SQLite and against PostgreSQL
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install browser
	CONTESTFLOW_TEST_DATABASE=sqlite $(BIN)/pytest

test-postgres: install browser
	CONTESTFLOW_TEST_DATABASE=$(TEST_POSTGRES_URL) $(BIN)/pytest

test-cohort: install ## The first-round cohort test at the issue's full size (300 projects) on PostgreSQL
	CONTESTFLOW_STAGE_SIZE=full CONTESTFLOW_TEST_DATABASE=$(TEST_POSTGRES_URL) $(BIN)/pytest -m cohort

lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

migrate: install ## Bring the configured database to the newest schema
	$(BIN)/python -m db.migrate

bench-first-round: install ## Time judge assignment and ranking at national scale (not part of make test)
	$(BIN)/python -m bench.first_round

PROJECTS ?= 25000
CHAOS_PROJECTS ?= 1000
BENCH_ARGS ?=
bench: install ## The national simulator through the API: PROJECTS=25000 (e.g. make bench PROJECTS=1000); not in make test
	$(BIN)/python -m bench.national --projects $(PROJECTS) $(BENCH_ARGS)

# Issue 9: a season under faults with every invariant checked (bench/results/chaos-N.md), then schemathesis with a
# larger budget than make test's. Not part of make test (tests/test_chaos.py is its short version).
chaos: install ## Chaos run: CHAOS_PROJECTS=1000 under worker SIGKILLs, invariants checked; schemathesis at 200 examples
	$(BIN)/python -m bench.chaos --projects $(CHAOS_PROJECTS) $(CHAOS_ARGS)
	CONTESTFLOW_TEST_DATABASE=sqlite CONTESTFLOW_FUZZ_EXAMPLES=200 $(BIN)/pytest -q -p no:cacheprovider tests/test_fuzz.py

bench-announce: install ## Time the first-round announcement to PROJECTS running workflows (not part of make test)
	$(BIN)/python -m bench.announce --projects $(PROJECTS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
