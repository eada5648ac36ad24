"""Soak: memory of a long run of a small 2-D GAN with a TrainingPanel attached.

    nice -n 10 .venv/bin/python benchmarks/soak.py [--steps 200000] [--every 5000]

The ``gan`` family at its ``tiny`` preset trains on ``ring`` (CPU, one torch thread) for
``--steps`` steps with a live :class:`~genwidgets.widgets.TrainingPanel` attached at its
defaults. Outside a kernel a widget's comm sends nowhere, so the panel gets a comm that does
what ipykernel's does with a message before the socket (JSON-encode it, copy its buffers) and
then drops it, like a front end that keeps up. The run keeps its default metric history bound.

Every ``--every`` steps the process's resident set size (RSS, from ``/proc/self/statm``) is
recorded. The figure of merit is the growth from step 10,000 (after warm-up: allocator pools,
first sample grids, the panel's history filling up) to the end; the target is under 50 MB.
Prints a Markdown table and a JSON line with every sample.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from typing import Any

import comm
from comm.base_comm import BaseComm

import genwidgets as gw
from genwidgets.widgets import TrainingPanel

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident set size of this process in MB (1e6 bytes)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 1e6


class EncodingComm(BaseComm):
    """Encodes each message as ipykernel would (JSON + buffer copies), counts it, and drops it."""

    messages = 0
    nbytes = 0

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str).encode()
        EncodingComm.messages += 1
        EncodingComm.nbytes += len(text) + sum(len(bytes(b)) for b in buffers or [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--every", type=int, default=5_000)
    parser.add_argument("--warmup", type=int, default=10_000)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    comm.create_comm = EncodingComm
    run = gw.train("gan", data="ring", preset="tiny", steps=None, checkpoint_every=None, start=False)
    panel = TrainingPanel(run)
    samples: list[tuple[int, float, float]] = [(0, 0.0, rss_mb())]
    t0 = time.perf_counter()
    run.start()
    target = args.every
    while target <= args.steps:
        while run.step_count < target and run.state == "running":
            time.sleep(0.05)
        if run.state != "running":
            raise SystemExit(f"the run stopped early: {run.state} {run.error!r}")
        if target >= args.steps:
            run.stop()
        gc.collect()
        samples.append((run.step_count, time.perf_counter() - t0, rss_mb()))
        print(f"step {samples[-1][0]:>7}  {samples[-1][1]:7.0f} s  RSS {samples[-1][2]:7.1f} MB", flush=True)
        target += args.every
    panel.wait_idle()
    base = next(m for s, _, m in samples if s >= args.warmup)
    peak_after = max(m for s, _, m in samples if s >= args.warmup)
    print(f"\npython {sys.version.split()[0]}, torch {torch.__version__}, gan tiny on ring, CPU, 1 thread, "
          f"TrainingPanel at its defaults; {samples[-1][0]:,} steps in {samples[-1][1]:.0f} s "
          f"({samples[-1][0] / samples[-1][1]:.0f} steps/s); panel messages {EncodingComm.messages:,} "
          f"({EncodingComm.nbytes / 1e6:.1f} MB encoded)\n")
    print(f"| step | RSS (MB) | growth since step {args.warmup:,} (MB) |")
    print("|---|---|---|")
    marks = {0, args.warmup, *range(0, args.steps + 1, max(args.steps // 10, 1))}
    for target, (step, _, mb) in zip(range(0, args.steps + args.every, args.every), samples, strict=False):
        if target in marks:  # sampled at the first check after each mark (a step or two past it)
            print(f"| {step:,} | {mb:.1f} | {mb - base:+.1f} |")
    print(f"\nRSS growth from step {args.warmup:,} to the end: {samples[-1][2] - base:+.1f} MB "
          f"(peak after warm-up {peak_after - base:+.1f} MB); history rows kept: {len(run.history)}")
    print(json.dumps({"samples": samples}))
    panel.close()


if __name__ == "__main__":
    main()
