"""All benchmarks in one command: genwidgets against its bare-PyTorch reference, one table (issue 9).

    cd benchmarks && nice -n 10 ../.venv/bin/python all.py [--quick | --smoke] [--json PATH] [--only overhead,panel]
    nice -n 10 .venv/bin/python benchmarks/all.py               # the same, from the repository root

Every row is measured in this one process (import times in fresh subprocesses), as alternating
pairs A B A B ... after untimed warm-up, so load swings on a shared machine hit both sides alike.
Each row gives the median of A (genwidgets), the median of B (the reference), the median of the
per-pair ratios A/B, the goal and whether the medians meet it:

* ``overhead``: steps/s of a genwidgets ``Run`` over a hand-written PyTorch loop on the same
  networks, optimizers and data, every built-in family (``overhead.py``; goal >= 0.97).
* ``panel``: steps/s of a DCGAN run with a live ``TrainingPanel`` over the same run with none
  (``panel.py``; goal >= 0.95).
* ``heatmap attached``: steps/s of the ``toy2d`` GAN with a live ``DiscriminatorHeatmap`` over
  none (``heatmap.py``; goal >= 0.90).
* ``explorer``: a ``LatentExplorer`` probe's round trip in the kernel over a bare
  ``decode`` of one code, in ms (``explorer.py``; goal: A <= 2 B + 5 ms).
* ``heatmap frame`` / ``heatmap scoring``: ms for one heatmap frame (the widget's ``compute()``)
  and for the grid scoring alone (``score_plane`` / ``score_examples``), each over one bare
  ``discriminate`` call on the same batch: the 128 x 128 data-plane grid of the ``toy2d`` GAN
  and the 16 real + 16 generated images of a DCGAN's score grid (``heatmap.py --frames``; no goal).
* ``import``: seconds of ``import genwidgets`` (lazy: it does not import torch) over
  ``import torch``, and of ``import genwidgets`` plus the first use of ``genwidgets.train``
  (which imports torch and the API) over ``import torch``, each in a fresh interpreter
  (``python -I``), rounds alternating the three (goal for the first: < 1).

``--quick`` uses tiny presets, short windows and few pairs (about 40 s on 2 cores);
``--smoke`` measures each row once at the smallest sizes (what the test suite runs: it checks that every
benchmark runs, its figures mean nothing); the default takes about 6 minutes on a lightly loaded
2-core machine. The model benchmarks run on the CPU with one torch thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import explorer
import heatmap
import overhead
import panel
import torch
from _common import median_ratio

import genwidgets as gw

#: The groups of rows, in the order they run (``--only`` picks some).
GROUPS = ("overhead", "panel", "heatmap", "explorer", "frames", "import")


@dataclasses.dataclass
class Settings:
    """How long each group measures (``--quick`` or the default)."""

    overhead_cases: list[overhead.Case]
    overhead_rounds: int
    overhead_scale: float
    panel_pairs: int
    panel_steps: int
    heatmap_pairs: int
    heatmap_steps: int
    explorer_pairs: int
    explorer_warmup: int
    explorer_points: int
    explorer_preset: str | None
    frame_rounds: int
    frame_preset: str | None
    import_rounds: int


#: One case per family at its tiny preset, windows of a few tenths of a second.
QUICK_CASES = [
    overhead.Case("gan", "ring", "tiny", 60),
    overhead.Case("cgan", "mnist", "tiny", 30),
    overhead.Case("dcgan", "mnist", "tiny", 30),
    overhead.Case("wgan_gp", "ring", "tiny", 40),
    overhead.Case("vae", "mnist", "tiny", 40),
    overhead.Case("beta_vae", "mnist", "tiny", 40),
]

QUICK = Settings(overhead_cases=QUICK_CASES, overhead_rounds=2, overhead_scale=1.0, panel_pairs=2, panel_steps=100,
                 heatmap_pairs=2, heatmap_steps=200, explorer_pairs=20, explorer_warmup=5, explorer_points=500,
                 explorer_preset="tiny", frame_rounds=5, frame_preset="tiny", import_rounds=3)
#: One pair per row at the tiny presets: the test suite's check that every benchmark still runs (no figures).
SMOKE = Settings(overhead_cases=[dataclasses.replace(c, steps=max(10, c.steps // 3)) for c in QUICK_CASES],
                 overhead_rounds=1, overhead_scale=0.5, panel_pairs=1, panel_steps=30, heatmap_pairs=1,
                 heatmap_steps=60, explorer_pairs=3, explorer_warmup=2, explorer_points=200, explorer_preset="tiny",
                 frame_rounds=2, frame_preset="tiny", import_rounds=1)
DEFAULT = Settings(overhead_cases=overhead.CASES, overhead_rounds=7, overhead_scale=1.5, panel_pairs=7,
                   panel_steps=600, heatmap_pairs=5, heatmap_steps=1000, explorer_pairs=200, explorer_warmup=20,
                   explorer_points=2000, explorer_preset=None, frame_rounds=30, frame_preset=None, import_rounds=9)


@dataclasses.dataclass
class Row:
    """One line of the table: genwidgets (A) against its reference (B), medians over ``pairs`` pairs.

    ``a`` and ``b`` keep every timed sample, in pair order (they go into the JSON, not the table).
    """

    group: str
    name: str
    unit: str
    genwidgets: float
    reference: float
    ratio: float
    goal: str
    met: bool | None
    pairs: int
    a: list[float] = dataclasses.field(default_factory=list, repr=False)
    b: list[float] = dataclasses.field(default_factory=list, repr=False)

    @property
    def verdict(self) -> str:
        """``pass``, ``miss``, or ``-`` where the row has no goal."""
        return "-" if self.met is None else ("pass" if self.met else "miss")


def _row(group: str, name: str, unit: str, a: list[float], b: list[float], *, goal: str = "",
         check: Callable[[float, float, float], bool] | None = None) -> Row:
    """A row from paired samples; ``check(median A, median B, ratio)`` decides pass/miss."""
    ma, mb, ratio = statistics.median(a), statistics.median(b), median_ratio(a, b)
    met = None if check is None else bool(check(ma, mb, ratio))
    return Row(group, name, unit, ma, mb, ratio, goal, met, len(a), list(a), list(b))


def _at_least(bound: float) -> Callable[[float, float, float], bool]:
    return lambda _a, _b, ratio: ratio >= bound


def _preset(preset: str | None) -> str:
    return preset or "default"


# ---- the groups ----------------------------------------------------------------------------------

def overhead_rows(s: Settings) -> list[Row]:
    """A Run's steps/s over the plain loop's, every case of ``s``."""
    rt = gw.Runtime.create(device="cpu", num_threads=1)
    rows = []
    for case in s.overhead_cases:
        a, b = overhead.measure_case(case, rounds=s.overhead_rounds, scale=s.overhead_scale, runtime=rt)
        rows.append(_row("overhead", f"overhead: {case.family} on {case.data} ({_preset(case.preset)})", "steps/s",
                         a, b, goal=">= 0.97", check=_at_least(0.97)))
    return rows


def panel_rows(s: Settings) -> list[Row]:
    """Steps/s with a live TrainingPanel over none."""
    a, b, _ = panel.measure(pairs=s.panel_pairs, steps=s.panel_steps, preset="tiny")
    return [_row("panel", f"panel attached / detached: dcgan on mnist (tiny, {s.panel_steps} steps)", "steps/s",
                 a, b, goal=">= 0.95", check=_at_least(0.95))]


def heatmap_rows(s: Settings) -> list[Row]:
    """Steps/s with a live DiscriminatorHeatmap over none."""
    a, b, _ = heatmap.measure(pairs=s.heatmap_pairs, steps=s.heatmap_steps)
    return [_row("heatmap", f"heatmap attached / detached: gan on ring (toy2d, {s.heatmap_steps} steps)",
                 "steps/s", a, b, goal=">= 0.90", check=_at_least(0.90))]


def explorer_rows(s: Settings) -> list[Row]:
    """A probe's kernel round trip over a bare decode, DCGAN and VAE on mnist."""
    rows = []
    for family in ("dcgan", "vae"):
        a, b = explorer.measure(family, s.explorer_pairs, preset=s.explorer_preset, n=s.explorer_points,
                                warmup=s.explorer_warmup)
        rows.append(_row("explorer", f"explorer probe / bare decode: {family} on mnist ({_preset(s.explorer_preset)})",
                         "ms", a, b, goal="A <= 2B + 5 ms", check=lambda ma, mb, _r: ma <= 2 * mb + 5))
    return rows


def frame_rows(s: Settings) -> list[Row]:
    """Heatmap frame and grid-scoring times over a bare ``discriminate`` on the same batch."""
    rows = []
    for view, label in (("plane", "plane 128x128"), ("scores", "score grid 16+16")):
        family, data, preset, _ = heatmap.FRAME_CASES[view]
        preset = s.frame_preset if view == "scores" and s.frame_preset else preset
        t = heatmap.frame_times(view, rounds=s.frame_rounds, preset=preset)
        where = f"{family} on {data} ({_preset(preset)})"
        rows.append(_row("frames", f"heatmap {label} frame / bare discriminate: {where}", "ms", t["frame"], t["bare"]))
        rows.append(_row("frames", f"heatmap {label} scoring / bare discriminate: {where}", "ms",
                         t["scoring"], t["bare"]))
    return rows


#: Code each fresh interpreter runs; it prints the seconds it measured.
IMPORT_CODE = {
    "genwidgets": "import time; t0 = time.perf_counter(); import genwidgets; print(time.perf_counter() - t0)",
    "first_use": ("import time; t0 = time.perf_counter(); import genwidgets; genwidgets.train; "
                  "print(time.perf_counter() - t0)"),
    "torch": "import time; t0 = time.perf_counter(); import torch; print(time.perf_counter() - t0)",
}


def import_seconds(what: str) -> float:
    """Seconds ``IMPORT_CODE[what]`` measured in a fresh, isolated interpreter (``python -I``)."""
    done = subprocess.run([sys.executable, "-I", "-c", IMPORT_CODE[what]], capture_output=True, text=True,
                          timeout=120, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def import_rows(s: Settings) -> list[Row]:
    """Import times in fresh interpreters, rounds alternating genwidgets, first use, torch (one warm-up round)."""
    times: dict[str, list[float]] = {k: [] for k in IMPORT_CODE}
    for i in range(s.import_rounds + 1):
        for what in IMPORT_CODE:
            seconds = import_seconds(what)
            if i:  # the first round warms the file cache
                times[what].append(1000 * seconds)
    return [
        _row("import", "import genwidgets / import torch", "ms", times["genwidgets"], times["torch"], goal="< 1",
             check=lambda _a, _b, ratio: ratio < 1),
        _row("import", "import genwidgets + first genwidgets.train / import torch", "ms", times["first_use"],
             times["torch"]),
    ]


RUNNERS: dict[str, Callable[[Settings], list[Row]]] = {
    "overhead": overhead_rows, "panel": panel_rows, "heatmap": heatmap_rows, "explorer": explorer_rows,
    "frames": frame_rows, "import": import_rows,
}


# ---- output --------------------------------------------------------------------------------------

def _progress(row: Row) -> None:
    print(f"  {row.name}: {row.genwidgets:.2f} vs {row.reference:.2f} {row.unit}, ratio {row.ratio:.3f}",
          file=sys.stderr, flush=True)


def table(rows: list[Row]) -> str:
    """The markdown table."""
    lines = ["| row | genwidgets (A) | reference (B) | median A/B | goal | pass/miss | pairs |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.genwidgets:.2f} {r.unit} | {r.reference:.2f} {r.unit} | {r.ratio:.3f} | "
                     f"{r.goal or '-'} | {r.verdict} | {r.pairs} |")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    """What ran the benchmarks."""
    return {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
            "platform": platform.platform(), "torch_threads": torch.get_num_threads()}


def main(argv: list[str] | None = None) -> int:
    """Run the groups, print the table, write it as JSON when asked; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny presets, few pairs (about a minute)")
    parser.add_argument("--smoke", action="store_true",
                        help="one pair per row: checks that every benchmark runs (the test suite's; no figures)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the table as JSON")
    parser.add_argument("--only", default="", help=f"comma-separated groups to run, from {','.join(GROUPS)}")
    args = parser.parse_args(argv)
    only = [g for g in args.only.split(",") if g] or list(GROUPS)
    unknown = sorted(set(only) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    mode = "smoke" if args.smoke else "quick" if args.quick else "default"
    settings = {"smoke": SMOKE, "quick": QUICK, "default": DEFAULT}[mode]
    torch.set_num_threads(1)
    load_start, t0 = os.getloadavg(), time.perf_counter()
    rows: list[Row] = []
    for group in GROUPS:
        if group not in only:
            continue
        print(f"[{time.perf_counter() - t0:6.1f} s] {group} ...", file=sys.stderr, flush=True)
        new = RUNNERS[group](settings)
        for row in new:
            _progress(row)
        rows.extend(new)
        gc.collect()
    elapsed, load_end = time.perf_counter() - t0, os.getloadavg()
    info = machine()
    print(f"genwidgets benchmarks ({mode} mode): python {info['python']}, torch {info['torch']}, "
          f"{info['cpus']} CPUs, 1 torch thread; {elapsed:.0f} s; load average "
          f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end\n")
    if mode == "smoke":
        print("smoke mode measures one pair per row to check that every benchmark runs: do not read its figures\n")
    print(table(rows))
    bad = [r.name for r in rows if not all(math.isfinite(v) and v > 0 for v in (r.genwidgets, r.reference, r.ratio))]
    if bad:
        print(f"\nnot finite and positive: {', '.join(bad)}")
    if args.json is not None:
        doc = {"mode": mode, "elapsed_s": elapsed, "loadavg_start": load_start, "loadavg_end": load_end,
               "machine": info, "groups": [g for g in GROUPS if g in only],
               "rows": [{**dataclasses.asdict(r), "verdict": r.verdict} for r in rows]}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
