"""Cost of a live TrainingPanel: training steps/s with a panel attached vs none, and bytes per update.

    nice -n 10 .venv/bin/python benchmarks/panel.py [--pairs 5] [--steps 600] [--preset tiny]

A = a DCGAN run on ``mnist`` with a TrainingPanel attached and updating (at its default
``max_rate`` of 10 updates/s); B = the same run with no panel. Every run is built fresh (same
seed, same run length) in this one process, and pairs alternate A B A B ... so load swings hit
both alike. Metrics are logged every step and samples drawn every 20 steps, so the panel
gets as many events as a run can give it.

Outside a kernel a widget's comm sends nowhere, so the panel here gets a comm that does what
ipykernel's does with a message before the socket: JSON-encode it and copy its buffers. The
comm counts those bytes, which gives the wire figures: bytes each data message puts on the
comm (its JSON content plus buffers) against the raw bytes of what changed (float32 metric
rows incl. the step column, uint8 images).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from _common import alternate, comm_class, summary
from comm.base_comm import BaseComm

import genwidgets as gw
from genwidgets.widgets import TrainingPanel


class SerializingComm(BaseComm):
    """Encodes each message as ipykernel would (JSON + buffer copies) and counts the bytes."""

    #: (bytes, messages) by kind: "custom" (data messages) and "update" (trait changes).
    counts: dict[str, list[int]] = {}

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
        copies = [bytes(b) for b in buffers or []]
        kind = (data or {}).get("method", msg_type) if msg_type == "comm_msg" else msg_type
        entry = SerializingComm.counts.setdefault(kind, [0, 0])
        entry[0] += len(text) + sum(map(len, copies))
        entry[1] += 1


def train(*, steps: int, preset: str, panel: bool, stats: list | None = None) -> float:
    """Steps/s of one fresh DCGAN run on mnist, with a live TrainingPanel attached or none."""
    run = gw.train("dcgan", data="mnist", preset=preset, steps=steps, log_every=1,
                   sample_every=20, checkpoint_every=None, start=False)
    widget = TrainingPanel(run) if panel else None
    t0 = time.perf_counter()
    run.start().wait()
    rate = steps / (time.perf_counter() - t0)
    if widget is not None:
        widget.wait_idle()
        if stats is not None:
            stats.append((list(widget.feed.stats), widget._coalescer.flushes))
        widget.close()
    return rate


def measure(*, pairs: int, steps: int = 600, preset: str = "tiny") -> tuple[list[float], list[float], list]:
    """Steps/s with a panel (A) and without (B), ``pairs`` alternating pairs after one warm-up run.

    Returns A, B and each panel run's (feed stats, flushes). Panels use :class:`SerializingComm`.
    """
    with comm_class(SerializingComm):
        train(steps=steps, preset=preset, panel=True)  # warm-up: data cache, allocator, first-call costs
        stats: list = []
        with_panel, without = alternate(lambda: train(steps=steps, preset=preset, panel=True, stats=stats),
                                        lambda: train(steps=steps, preset=preset, panel=False), pairs)
    return with_panel, without, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--preset", default="tiny")
    args = parser.parse_args()
    with_panel, without, stats = measure(pairs=args.pairs, steps=args.steps, preset=args.preset)
    print(f"python {sys.version.split()[0]}, DCGAN preset {args.preset!r} on mnist, {args.steps} steps/run, "
          f"log_every=1, sample_every=20\n")
    print("| case | with panel (A) | no panel (B) | median ratio A/B | pairs |")
    print("|---|---|---|---|---|")
    print(summary("DCGAN mnist CPU steps/s", with_panel, without, "steps/s", "panel", "none"))
    print("\nper-pair ratios:", ", ".join(f"{a / b:.3f}" for a, b in zip(with_panel, without, strict=True)))

    records = [s for run_stats, _ in stats for s in run_stats]
    flushes = sum(f for _, f in stats)
    print("\n| message | count | median bytes sent | median raw bytes | median ratio | max ratio | total ratio |")
    print("|---|---|---|---|---|---|---|")
    for op in ("append", "samples"):
        rows = [s for s in records if s.op == op]
        ratios = [s.payload / s.raw for s in rows]
        print(f"| {op} | {len(rows)} | {statistics.median(s.payload for s in rows):.0f} | "
              f"{statistics.median(s.raw for s in rows):.0f} | {statistics.median(ratios):.3f} | "
              f"{max(ratios):.3f} | {sum(s.payload for s in rows) / sum(s.raw for s in rows):.3f} |")
    data = [s for s in records if s.op in ("append", "samples")]
    seconds = args.steps / statistics.median(with_panel)
    print(f"\nupdates (flushes) per run: {flushes / len(stats):.0f} in ~{seconds:.1f} s; "
          f"data bytes sent / raw bytes over all updates: "
          f"{sum(s.payload for s in data) / sum(s.raw for s in data):.4f}")
    print("\nwhole comm messages as ipykernel would encode them (all panels, warm-up included):")
    for kind, (nbytes, count) in sorted(SerializingComm.counts.items()):
        print(f"  {kind}: {count:,} messages, {nbytes:,} bytes ({nbytes / count:,.0f} per message)")


if __name__ == "__main__":
    main()
