#!/usr/bin/env bash
# Create .venv, install torch first (pinned), then genwidgets (editable) and its extras.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh test
#
# Which torch build: `torch==2.13.0` from pip's configured index. From PyPI that is a CUDA build on
# Linux x86-64 (it pulls several GB of NVIDIA libraries) and the CPU build on macOS and Windows; a
# machine whose pip configuration offers a CPU wheel (a CPU-only index or wheel folder) gets that. Choose with:
#   GENWIDGETS_TORCH_INDEX=https://download.pytorch.org/whl/cpu   install torch from that index (--index-url):
#                                                                  the CPU build, or .../whl/cu126 etc.
#   GENWIDGETS_TORCH_SPEC='torch==2.13.0+cpu'                     another requirement (default torch==2.13.0)
#   GENWIDGETS_SETUP_DRY_RUN=1                                    print the commands instead of running them
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_SPEC=${GENWIDGETS_TORCH_SPEC:-torch==2.13.0}
TORCH_INDEX=${GENWIDGETS_TORCH_INDEX:-}

run() {
  if [ -n "${GENWIDGETS_SETUP_DRY_RUN:-}" ]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}

[ -x .venv/bin/python ] || run "$PY" -m venv .venv
run .venv/bin/python -m pip install -q --upgrade pip
# torch first, so that the package's own `torch>=2.4,<3` requirement is met and pip pulls no other build.
if [ -n "$TORCH_INDEX" ]; then
  run .venv/bin/python -m pip install -q --index-url "$TORCH_INDEX" "$TORCH_SPEC"
else
  run .venv/bin/python -m pip install -q "$TORCH_SPEC"
fi
EXTRAS=${1:-}
if [ -n "$EXTRAS" ]; then
  run .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
else
  run .venv/bin/python -m pip install -q -e .
fi
# The front end is built by hatch-jupyter-builder at install; rebuild if a module is missing or older than
# the sources, the vendored plotly.js build or the front-end dependencies (see js/build.mjs).
stale=0
for bundle in frontend loader; do
  out=genwidgets/static/$bundle.js
  if [ ! -f "$out" ] || [ -n "$(find js/src js/vendor js/package.json js/build.mjs -newer "$out" -print -quit)" ]; then
    stale=1
  fi
done
if [ "$stale" = 1 ]; then
  (cd js && run npm install --no-audit --no-fund --silent && run npm run --silent build)
fi
