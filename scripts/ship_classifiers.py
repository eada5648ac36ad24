"""Train the classifiers of the embedded labelled image sets and write them into the package.

FID, KID, precision/recall and the classifier accuracy of samples are measured in the feature space
of a small classifier trained on the data set itself (:mod:`genwidgets.metrics.classifier`). For
the embedded sets that are slow to train on (MNIST), the package ships that classifier, so
that the first ``evaluate`` (and the latent explorer's predicted-class map of a GAN) needs no
training, and every machine measures in the same feature space. The files are exactly what
:func:`~genwidgets.metrics.classifier.get_classifier` would write to the cache, named by the same
cache key; a change of the recipe, the network or the data changes the key, and
``tests/test_metrics.py`` then fails until this script is run again:

    .venv/bin/python scripts/ship_classifiers.py [mnist]
"""

from __future__ import annotations

import sys
import time

import torch

import genwidgets as gw
from genwidgets.metrics.classifier import SHIPPED, SHIPPED_DIR, ship_classifier


def main(names: list[str]) -> None:
    """Train and write the classifier of each named data set (default: every one in SHIPPED)."""
    torch.set_num_threads(max(1, torch.get_num_threads()))
    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    for name in names or list(SHIPPED):
        t0 = time.perf_counter()
        path, trained = ship_classifier(gw.load_data(name))
        print(f"{name}: held-out accuracy {trained.heldout_accuracy:.4f}, {time.perf_counter() - t0:.0f} s "
              f"-> {path.relative_to(SHIPPED_DIR.parents[2])} ({path.stat().st_size / 1e6:.2f} MB)")
        for old in SHIPPED_DIR.glob(f"{name}-*.safetensors"):
            if old != path:
                old.unlink()
                print(f"  removed the stale {old.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
