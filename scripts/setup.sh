#!/usr/bin/env bash
# Create .venv with the CPU build of torch first, then genwidgets (editable) and its extras.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The CPU build of torch first: a bare `torch` requirement could pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
EXTRAS=${1:-}
if [ -n "$EXTRAS" ]; then
  .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
else
  .venv/bin/python -m pip install -q -e .
fi
# The bundle is built by hatch-jupyter-builder at install; rebuild if sources are newer.
if [ ! -f genwidgets/static/training_panel.js ] || [ -n "$(find js/src -newer genwidgets/static/training_panel.js -print -quit)" ]; then
  (cd js && npm install --no-audit --no-fund --silent && npm run --silent build)
fi
