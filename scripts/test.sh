#!/usr/bin/env bash
# Installs everything the test suite needs into .venv (and the pinned agent CLIs
# into .agents/ when npm is available), then runs the whole suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    # Debian and Ubuntu ship venv separately.
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    fi
    "$PYTHON" -m venv .venv
  fi
fi
.venv/bin/python -m pip install --quiet --upgrade pip 'setuptools>=77'
.venv/bin/python -m pip install --quiet -e '.[test]'

# The chat page's browser tests drive the system Chromium (Playwright's own browser download
# cannot work offline). CI runs as root on Debian; elsewhere they skip, naming this command.
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null || echo "chromium install failed: browser tests will be skipped"
fi

if [ "${AGENTAPI_SKIP_AGENT_INSTALL:-}" != "1" ] && [ -x scripts/install-agents.sh ]; then
  # Real agent CLIs for the end-to-end tests; a failed install skips those tests only.
  scripts/install-agents.sh ${AGENTAPI_TEST_AGENTS:-} || echo "agent install failed: end-to-end tests will be skipped"
fi

# Style and types are part of the suite: a change that breaks them fails here, not in review.
.venv/bin/ruff check agentapi tests benchmarks scripts
.venv/bin/ruff format --check agentapi tests benchmarks scripts
.venv/bin/mypy

# Most tests wait on real agents and real timers, not on the CPU: two workers halve the time.
exec .venv/bin/python -m pytest -n "${AGENTAPI_TEST_WORKERS:-2}" --dist loadgroup "$@"
