"""Cost of a live DiscriminatorHeatmap: training steps/s with the heatmap attached vs none.

    cd benchmarks && nice -n 10 ../.venv/bin/python heatmap.py [--pairs 7] [--steps 1500] [--in-place]

A = a GAN (``toy2d`` preset) on ``ring`` with a DiscriminatorHeatmap attached at its defaults
(128 x 128 data-plane grid, generator arrows on 64 points, ``max_rate`` 4 frames/s); B = the
same run with no widget. Every run is built fresh (same seed, same length) in this one process,
on one torch thread, and pairs alternate A B A B ... so load swings hit both alike. Metrics are
logged every 10 steps (the default), so the heatmap is poked 10+ times a second and recomputes
at its bounded rate.

Outside a kernel a widget's comm sends nowhere, so the widget gets a comm that does what
ipykernel does with a message before the socket: JSON-encode it and copy its buffers (counted).
``--in-place`` measures ``copy_model=False`` instead (frames computed on the live model under
the step lock), to show what the weight snapshot saves.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import comm
import torch
from _common import alternate, summary
from comm.base_comm import BaseComm

import genwidgets as gw
from genwidgets.widgets import DiscriminatorHeatmap


class SerializingComm(BaseComm):
    """Encodes each message as ipykernel would (JSON + buffer copies) and counts the bytes."""

    #: Bytes and count of frame messages.
    frames = [0, 0]

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
        copies = [bytes(b) for b in buffers or []]
        if msg_type == "comm_msg" and (data or {}).get("method") == "custom":
            SerializingComm.frames[0] += len(text) + sum(map(len, copies))
            SerializingComm.frames[1] += 1


def train(args: argparse.Namespace, *, heatmap: bool, stats: list | None = None) -> float:
    run = gw.train("gan", data="ring", preset="toy2d", steps=args.steps, log_every=10, sample_every=100,
                   checkpoint_every=None, start=False)
    widget = DiscriminatorHeatmap(run, copy_model=not args.in_place) if heatmap else None
    if widget is not None:
        widget.wait_idle()  # the first frame (at step 0) is not part of the timed run
        before = widget._coalescer.flushes
    t0 = time.perf_counter()
    run.start().wait()
    rate = args.steps / (time.perf_counter() - t0)
    if widget is not None:
        widget.wait_idle()
        if stats is not None:
            stats.append((widget._coalescer.flushes - before, widget.frame_ms))
        widget.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--in-place", action="store_true", help="copy_model=False (compute under the step lock)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    comm.create_comm = SerializingComm
    train(args, heatmap=True)  # warm-up: data, allocator, first-call costs
    stats: list = []
    with_map, without = alternate(lambda: train(args, heatmap=True, stats=stats),
                                  lambda: train(args, heatmap=False), args.pairs)
    mode = "in place, under the step lock" if args.in_place else "on a weight snapshot"
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, GAN preset 'toy2d' on ring, "
          f"{args.steps} steps/run, log_every=10, 1 thread; heatmap frames computed {mode}\n")
    print("| case | with heatmap (A) | no heatmap (B) | median ratio A/B | pairs |")
    print("|---|---|---|---|---|")
    print(summary("GAN ring CPU steps/s", with_map, without, "steps/s", "heatmap", "none"))
    print("\nper-pair ratios:", ", ".join(f"{a / b:.3f}" for a, b in zip(with_map, without, strict=True)))
    seconds = args.steps / statistics.median(with_map)
    frames = statistics.median(f for f, _ in stats)
    nbytes, count = SerializingComm.frames
    print(f"\nframes per run: median {frames:.0f} in ~{seconds:.1f} s ({frames / seconds:.1f}/s); "
          f"last frame's compute time: median {statistics.median(ms for _, ms in stats):.1f} ms; "
          f"{nbytes / count:,.0f} bytes per frame message (128x128 float32 grid = 65,536 bytes)")


if __name__ == "__main__":
    main()
