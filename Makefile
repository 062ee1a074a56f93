# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
#
# Installs are reproducible: uv.lock pins every package with its hashes (the `test` extra and the
# installer's `tools` group included). `make install` bootstraps the locked uv with pip
# (--require-hashes), then `uv sync --frozen` installs exactly the lock, nothing resolved.
# `make lock` refreshes the lock after a change to pyproject.toml's dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(BIN)/uv
BOOTSTRAP := tools/bootstrap-requirements.txt
# uv installs into this .venv with its interpreter: never another environment, never a download.
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never
SYNC := $(UV) sync --frozen --extra test --python $(BIN)/python --quiet

.PHONY: install demo test check lint typecheck lock lock-upgrade lock-check bench clean browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The locked uv, hash-checked, installed by the venv's own pip.
$(UV): $(BOOTSTRAP) | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(BOOTSTRAP)
	touch $(UV)

# A stale lock stops here with the command to run, rather than installing the wrong set.
# Dependencies first, then the project itself (editable) built by the locked setuptools.
$(STAMP): $(UV) pyproject.toml uv.lock
	UV=$(UV) tools/lockfile.sh check >/dev/null
	$(SYNC) --no-install-project
	$(SYNC) --no-build-isolation
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/golive sandbox --port 3978 --servicenow-port 3979 --teams-port 3980 --slack-port 3981 \
		--pagerduty-port 3983 --github-port 3984 --jira-port 3985 \
		--state-dir .sandbox --now 2022-05-03T15:00:00Z --speed 1

# Headless Chromium for the browser tests (Debian's package; they are skipped where it is missing).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		( (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: browser tests will be skipped" )

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

# Every static check, each run even when an earlier one fails, so one run lists every problem.
check: $(STAMP)
	@status=0; \
	echo "== lock";          UV=$(UV) tools/lockfile.sh check || status=1; \
	echo "== ruff check";    $(BIN)/ruff check . || status=1; \
	echo "== ruff format";   $(BIN)/ruff format --check . || status=1; \
	echo "== mypy";          $(BIN)/mypy || status=1; \
	echo "== import-linter"; $(BIN)/lint-imports || status=1; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

lock: $(UV)
	UV=$(UV) tools/lockfile.sh refresh

lock-upgrade: $(UV)
	UV=$(UV) tools/lockfile.sh upgrade

lock-check: $(UV)
	UV=$(UV) tools/lockfile.sh check

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .sandbox .pytest_cache .mypy_cache
