"""What the host allocator tuning buys: the overhead benchmark with glibc's default malloc vs the tuned one.

    nice -n 10 .venv/bin/python benchmarks/host_allocator.py [--rounds 5] [--pairs 2] [--only dcgan/mnist,gan/mnist]

``genwidgets/device/host_allocator.py`` fixes glibc's mmap and trim thresholds when a CPU Run starts.
mallopt is process-wide and cannot be undone, so each side runs in its own interpreter:

* tuned = overhead.py's measurement (``overhead.prepare_case``) as it is (the Run tunes the process
  when it starts, so the plain loop's windows run tuned too);
* default = the same with ``GENWIDGETS_HOST_ALLOCATOR=default``.

The two interpreters alternate (tuned, default, tuned, default, ...) ``--pairs`` times per family; each
reports its Run and plain-loop steps/s (medians of ``--rounds`` alternating windows after two warm-up
pairs, as in overhead.py), its A/B, and the minor page faults and system CPU time per training step over
the timed windows.
The table gives, per side, the medians over its interpreters, and the tuned/default ratio of the
plain loop's and the Run's steps/s (median of the per-pair ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(key: str, rounds: int) -> dict[str, float]:
    """overhead.py's measurement of case ``key`` (FAMILY/DATA) in this process; medians, faults per timed step."""
    import torch
    from _common import alternate, median_ratio
    from overhead import CASES, prepare_case

    from genwidgets.device.host_allocator import host_allocator_state

    torch.set_num_threads(1)
    case = next(c for c in CASES if f"{c.family}/{c.data}" == key)
    measure_run, measure_plain, windows = prepare_case(case)
    try:
        for _ in range(2):  # warm-up (the Run tuned the allocator when it started, unless told not to)
            measure_run(), measure_plain()
        before = resource.getrusage(resource.RUSAGE_SELF)
        xs, ys = alternate(measure_run, measure_plain, rounds)
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        windows.close()
    timed_steps = case.steps * 2 * rounds
    return {"run": statistics.median(xs), "plain": statistics.median(ys), "ratio": median_ratio(xs, ys),
            "faults_per_step": (after.ru_minflt - before.ru_minflt) / timed_steps,
            "sys_ms_per_step": (after.ru_stime - before.ru_stime) * 1e3 / timed_steps,
            "state": host_allocator_state()}


def _side(family: str, rounds: int, tuned: bool) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["GENWIDGETS_HOST_ALLOCATOR"] = "tuned" if tuned else "default"
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", family,
                           "--rounds", str(rounds)], capture_output=True, text=True, env=env, cwd=HERE, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker for {family} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="Run/plain window pairs inside each interpreter")
    parser.add_argument("--pairs", type=int, default=2, help="tuned/default interpreter pairs per family")
    parser.add_argument("--only", default="dcgan/mnist,gan/mnist,wgan_gp/ring",
                        help="comma-separated FAMILY/DATA cases of overhead.py")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rounds)))
        return
    print(f"{args.pairs} tuned/default interpreter pairs per family, {args.rounds} Run/plain window pairs in each")
    print("| family | side | Run steps/s | plain steps/s | Run/plain | minor faults/step | sys ms/step |")
    print("|---|---|---|---|---|---|---|")
    for family in [f for f in args.only.split(",") if f]:  # FAMILY/DATA
        sides: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for _ in range(args.pairs):
            for tuned in (True, False):
                sides[tuned].append(_side(family, args.rounds, tuned))
        for tuned in (True, False):
            rows = sides[tuned]
            med = {k: statistics.median(r[k] for r in rows) for k in ("run", "plain", "ratio", "faults_per_step",
                                                                        "sys_ms_per_step")}
            print(f"| {family} | {'tuned' if tuned else 'default'} | {med['run']:.2f} | {med['plain']:.2f} | "
                  f"{med['ratio']:.3f} | {med['faults_per_step']:.0f} | {med['sys_ms_per_step']:.2f} |", flush=True)
        gain_plain = statistics.median(t["plain"] / d["plain"] for t, d in zip(sides[True], sides[False], strict=True))
        gain_run = statistics.median(t["run"] / d["run"] for t, d in zip(sides[True], sides[False], strict=True))
        print(f"| {family} | tuned / default | {gain_run:.3f} | {gain_plain:.3f} | | | |", flush=True)


if __name__ == "__main__":
    main()
