#!/usr/bin/env bash
# Set up everything the tests need (Chromium for the real-browser tests included) and run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null) \
      || echo "warning: could not install chromium; browser tests will fail under CI=true" >&2
  else
    echo "note: chromium missing and not root; browser tests will be skipped (run: sudo apt-get install chromium)" >&2
  fi
fi
scripts/setup.sh test,tensorboard
# The example third-party plugin, installed like any other, so the contract suite covers it.
.venv/bin/python -m pip install -q --no-deps -e examples/genwidgets-example-plugin
.venv/bin/ruff check genwidgets plugins tests benchmarks examples scripts notebooks
# The front end's types: one interface of traits per widget (js/src/widgets/*.ts), checked by tsc.
[ -x js/node_modules/.bin/tsc ] || (cd js && npm install --no-audit --no-fund --silent)
(cd js && node_modules/.bin/tsc --noEmit)
# One pytest-xdist worker per CPU (GENWIDGETS_TEST_WORKERS to choose; 1 runs in-process, without xdist).
# --dist loadgroup: a free worker takes the next test, except that each group of WORKER_GROUPS in
# tests/conftest.py runs on one worker: all browser tests (so JupyterLab and Notebook 7 start once
# per run) and the demo's two JupyterLab runs. The long tests (marked slow or browser) go first.
# --durations=25: the slowest tests are listed at the end of every run.
workers=${GENWIDGETS_TEST_WORKERS:-$(nproc)}
if [ "$workers" -gt 1 ]; then
  set -- -n "$workers" --dist loadgroup "$@"
fi
exec .venv/bin/python -m pytest --durations=25 "$@"
