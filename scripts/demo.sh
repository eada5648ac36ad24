#!/usr/bin/env bash
# The main job: set up, then train DCGAN on the embedded MNIST digits with every widget attached
# (training panel, latent explorer, discriminator heatmap) and write their figures, checkpoints and
# reconstructions to runs/demo. `bash scripts/demo.sh --lab` opens the quickstart notebook in JupyterLab
# instead (the same studio, live); options after --lab go to `jupyter lab` (e.g. --no-browser --port 8899),
# and --allow-root is added when run as root (containers, cloud notebooks).
# OUT (default runs/demo) is the folder, STEPS (default 2000) the headless run's steps; see scripts/setup.sh for
# choosing the torch build (GENWIDGETS_TORCH_INDEX, GENWIDGETS_TORCH_SPEC).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${1:-}" = "--lab" ]; then
  shift
  exec .venv/bin/genwidgets demo --out "${OUT:-runs/demo}" "$@"
fi
exec .venv/bin/genwidgets demo --headless --steps "${STEPS:-2000}" --out "${OUT:-runs/demo}" "$@"
