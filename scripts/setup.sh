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
# The bundles are built by hatch-jupyter-builder at install; rebuild if one is missing or older than
# the sources or the front-end dependencies (one ES module per widget, see js/build.mjs).
stale=0
for bundle in training_panel latent_explorer discriminator_heatmap; do
  out=genwidgets/static/$bundle.js
  if [ ! -f "$out" ] || [ -n "$(find js/src js/package.json js/build.mjs -newer "$out" -print -quit)" ]; then
    stale=1
  fi
done
if [ "$stale" = 1 ]; then
  (cd js && npm install --no-audit --no-fund --silent && npm run --silent build)
fi
