"""Cost of a live DiscriminatorHeatmap: training steps/s with the heatmap attached vs none.

    cd benchmarks && nice -n 10 ../.venv/bin/python heatmap.py [--pairs 7] [--steps 1500] [--in-place]
    cd benchmarks && nice -n 10 ../.venv/bin/python heatmap.py --frames [--pairs 30]

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

``--frames`` times one frame instead (no training): for the data-plane view (the ``toy2d`` GAN
on ``ring``, 128 x 128 grid) and the image score grid (DCGAN on ``mnist``, 16 real + 16
generated images), rounds alternate the widget's whole frame (``compute()``: weight snapshot,
grid scores, points, arrows or images), the library's grid scoring alone (``score_plane`` /
``score_examples``) and a bare ``discriminate`` call on the same batch (eval mode, ``no_grad``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
from _common import alternate, comm_class, median_ratio, summary
from comm.base_comm import BaseComm

import genwidgets as gw
from genwidgets.scores.grid import PlaneGrid, score_plane
from genwidgets.scores.score_grid import score_examples
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


def train(*, steps: int, heatmap: bool, in_place: bool = False, stats: list | None = None) -> float:
    """Steps/s of one fresh ``toy2d`` GAN run on ring, with a live DiscriminatorHeatmap attached or none."""
    run = gw.train("gan", data="ring", preset="toy2d", steps=steps, log_every=10, sample_every=100,
                   checkpoint_every=None, start=False)
    widget = DiscriminatorHeatmap(run, copy_model=not in_place) if heatmap else None
    if widget is not None:
        widget.wait_idle()  # the first frame (at step 0) is not part of the timed run
        before = widget._coalescer.flushes
    t0 = time.perf_counter()
    run.start().wait()
    rate = steps / (time.perf_counter() - t0)
    if widget is not None:
        widget.wait_idle()
        if stats is not None:
            stats.append((widget._coalescer.flushes - before, widget.frame_ms))
        widget.close()
    return rate


def measure(*, pairs: int, steps: int = 1500, in_place: bool = False) -> tuple[list[float], list[float], list]:
    """Steps/s with a heatmap (A) and without (B), ``pairs`` alternating pairs after one warm-up run.

    Returns A, B and each heatmap run's (frames sent, last frame's ms). Widgets use :class:`SerializingComm`.
    """
    with comm_class(SerializingComm):
        train(steps=steps, heatmap=True, in_place=in_place)  # warm-up: data, allocator, first-call costs
        stats: list = []
        with_map, without = alternate(lambda: train(steps=steps, heatmap=True, in_place=in_place, stats=stats),
                                      lambda: train(steps=steps, heatmap=False), pairs)
    return with_map, without, stats


#: The two frame-timing cases: view -> (family, data, preset, what the batch is).
FRAME_CASES = {
    "plane": ("gan", "ring", "toy2d", "128x128 data-plane grid"),
    "scores": ("dcgan", "mnist", None, "16 real + 16 generated images"),
}


def frame_times(view: str, *, rounds: int, warmup: int = 3, preset: str | None = None) -> dict[str, list[float]]:
    """Milliseconds per frame of ``view`` (see :data:`FRAME_CASES`), ``rounds`` rounds after ``warmup`` untimed ones.

    Each round times, in turn: ``frame`` (the widget's ``compute()``), ``scoring`` (``score_plane`` or
    ``score_examples`` alone) and ``bare`` (one ``discriminate`` call on the same batch), all on
    the same untrained model with one CPU thread. ``preset`` overrides the case's preset.
    """
    family, data_name, case_preset, _ = FRAME_CASES[view]
    data = gw.load_data(data_name)
    model = gw.build_model(family, data.spec, preset=preset or case_preset,
                           runtime=gw.Runtime.create(device="cpu", num_threads=1))
    with comm_class(SerializingComm):
        widget = DiscriminatorHeatmap(model, data=data, view=view)
    widget.wait_idle()  # the widget's own first frame, computed in its thread
    s = widget.settings()
    if view == "plane":
        grid = PlaneGrid(*s.extent, resolution=s.resolution)
        batch = grid.points()

        def scoring() -> object:
            return score_plane(model.discriminate, grid)
    else:
        with torch.no_grad(), model.evaluating():
            codes, _ = model.fixed_noise()
            fake = model.sample(s.examples, z=codes[: s.examples]).float().cpu()
        real = widget._real.of_class(None, s.examples).float().cpu()
        batch = torch.cat([real, fake])

        def scoring() -> object:
            return score_examples(model.discriminate, real, fake)

    def timed(fn: Callable[[], object], *, frozen: bool) -> float:
        t0 = time.perf_counter()
        if frozen:
            with torch.no_grad(), model.evaluating():
                fn()
        else:
            fn()
        return 1000 * (time.perf_counter() - t0)

    cases: dict[str, tuple[Callable[[], object], bool]] = {
        "frame": (widget.compute, False), "scoring": (scoring, True), "bare": (lambda: model.discriminate(batch), True)}
    out: dict[str, list[float]] = {k: [] for k in cases}
    for i in range(warmup + rounds):
        for key, (fn, frozen) in cases.items():
            ms = timed(fn, frozen=frozen)
            if i >= warmup:
                out[key].append(ms)
    widget.close()
    return out


def print_frames(rounds: int) -> None:
    """Print the frame-timing table (``--frames``)."""
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, 1 thread, untrained models, "
          f"{rounds} rounds per view\n")
    print("| view | batch | whole frame | grid scoring | bare discriminate | scoring / bare | frame / bare |")
    print("|---|---|---|---|---|---|---|")
    for view, (family, data, _, what) in FRAME_CASES.items():
        t = frame_times(view, rounds=rounds)
        med = {k: statistics.median(v) for k, v in t.items()}
        ratio = {k: median_ratio(t[k], t["bare"]) for k in ("scoring", "frame")}
        print(f"| {view} ({family} on {data}) | {what} | {med['frame']:.2f} ms | {med['scoring']:.2f} ms | "
              f"{med['bare']:.2f} ms | {ratio['scoring']:.2f} | {ratio['frame']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--in-place", action="store_true", help="copy_model=False (compute under the step lock)")
    parser.add_argument("--frames", action="store_true", help="time single frames (no training); --pairs = rounds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.frames:
        print_frames(args.pairs)
        return
    with_map, without, stats = measure(pairs=args.pairs, steps=args.steps, in_place=args.in_place)
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
