#!/usr/bin/env bash
# The main job: set up, then train DCGAN on the embedded MNIST images and write samples + checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/genwidgets train dcgan --data mnist --steps "${STEPS:-2000}" --out "${OUT:-runs/dcgan-mnist}" "$@"
