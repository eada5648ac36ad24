"""Latent explorer probe latency: kernel round trip of a probe vs the bare decoder forward pass.

    nice -n 10 .venv/bin/python benchmarks/explorer.py [--pairs 200] [--models dcgan vae]

For each model (the family's default configuration on ``mnist``, CPU, fp32), pairs alternate:

* A = a probe's round trip in the kernel: from the moment the front end's ``probe`` message is
  handed to the widget (as ipykernel's comm handler does) to the moment the output message with
  the decoded image's bytes reaches the comm (which JSON-encodes it and copies its buffers, as
  ipykernel's does before the socket). It includes lifting the map point to a full code, the
  nearest-point search over the map, decoding, uint8 conversion and packing.
* B = the bare decoder forward pass for one code: ``model.decode(z)`` under ``torch.no_grad``
  in eval mode, on the same frozen model the explorer uses.

The issue's target: median(A) <= 2 x median(B) + 5 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from typing import Any

import numpy as np
import torch
from _common import alternate, comm_class
from comm.base_comm import BaseComm

import genwidgets as gw
from genwidgets.widgets import LatentExplorer


class TimingComm(BaseComm):
    """Encodes each message as ipykernel would (JSON + buffer copies); notes when an output arrives."""

    arrived = threading.Event()

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        json.dumps(data, separators=(",", ":"), allow_nan=False)
        for b in buffers or []:
            bytes(b)
        content = (data or {}).get("content") if msg_type == "comm_msg" else None
        if isinstance(content, dict) and content.get("op") == "output":
            TimingComm.arrived.set()


def measure(name: str, pairs: int, *, preset: str | None = None, n: int = 2000,
            warmup: int = 20) -> tuple[list[float], list[float]]:
    """Probe round trips (A) and bare decodes (B) in ms for family ``name`` on mnist, ``pairs`` alternating pairs.

    The model is the family's default configuration (or ``preset``), untrained, on one CPU thread;
    the explorer maps ``n`` points and uses :class:`TimingComm`. ``warmup`` pairs run first, untimed.
    """
    with comm_class(TimingComm):
        return _measure(name, pairs, preset=preset, n=n, warmup=warmup)


def _measure(name: str, pairs: int, *, preset: str | None, n: int, warmup: int) -> tuple[list[float], list[float]]:
    data = gw.load_data("mnist")
    model = gw.build_model(name, data.spec, preset=preset, runtime=gw.Runtime.create(device="cpu", num_threads=1))
    explorer = LatentExplorer(model, data, n=n)
    frozen = explorer.session.view.model
    rng = np.random.default_rng(0)
    points = explorer.session.state.points
    lo, hi = points.min(axis=0), points.max(axis=0)
    counter = iter(range(1, 10**9))

    def round_trip() -> float:
        x, y = rng.uniform(lo, hi)
        TimingComm.arrived.clear()
        t0 = time.perf_counter()
        explorer._on_front_end_msg(explorer, {"op": "probe", "x": float(x), "y": float(y), "seq": next(counter)}, [])
        TimingComm.arrived.wait(10)
        elapsed = time.perf_counter() - t0
        explorer.wait_idle()  # let the z-trait sync finish outside the timed part
        return 1000 * elapsed

    def bare() -> float:
        z = torch.from_numpy(rng.standard_normal((1, frozen.latent_dim)).astype(np.float32))
        t0 = time.perf_counter()
        with torch.no_grad(), frozen.evaluating():
            frozen.decode(z)
        return 1000 * (time.perf_counter() - t0)

    for _ in range(warmup):  # warm-up: allocator, first-call costs, the worker's thread setup
        round_trip()
        bare()
    result = alternate(round_trip, bare, pairs)
    explorer.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--models", nargs="+", default=["dcgan", "vae"])
    args = parser.parse_args()
    torch.set_num_threads(1)  # the bare decode's thread; the explorer's worker follows the runtime's (1)
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, CPU, default configs on mnist, "
          f"{args.pairs} alternating pairs per model\n")
    print("| model | probe round trip (A) | bare decode (B) | median A/B | target 2B + 5 ms | met |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        a, b = measure(name, args.pairs)
        ma, mb = statistics.median(a), statistics.median(b)
        ratio = statistics.median([x / y for x, y in zip(a, b, strict=True)])
        target = 2 * mb + 5
        print(f"| {name} | {ma:.2f} ms | {mb:.2f} ms | {ratio:.2f} | {target:.2f} ms | "
              f"{'yes' if ma <= target else 'NO'} |")


if __name__ == "__main__":
    main()
