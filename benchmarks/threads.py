"""CPU threads for small models: steps/s of DCGAN and VAE on mnist with 1 thread vs N threads.

    .venv/bin/python benchmarks/threads.py [--rounds 5] [--steps 40]

Alternating pairs (1, N, 1, N, ...); medians and the median ratio N/1. This is the measurement
behind genwidgets.device.runtime.DEFAULT_MAX_THREADS.
"""

from __future__ import annotations

import argparse
import functools
import os

import torch
from _common import alternate, rate, summary

import genwidgets as gw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"torch {torch.__version__}, {cores} cores available, {args.steps} steps per sample")
    print(f"| model | {cores} threads steps/s | 1 thread steps/s | {cores}/1 | pairs |")
    print("|---|---|---|---|---|")
    mnist = gw.load_data("mnist")
    for family in ("dcgan", "vae"):
        model = gw.build_model(family, mnist.spec, runtime=gw.Runtime.create(device="cpu"))
        run = gw.Run(model, mnist, plugin_events=False)
        one = functools.partial(_steps_per_sec, run, 1, args.steps)
        many = functools.partial(_steps_per_sec, run, cores, args.steps)
        one(), many()  # warm up
        ones, manys = alternate(one, many, args.rounds)
        print(summary(family, manys, ones, "", f"{cores}", "1"))


def _steps_per_sec(run: gw.Run, threads: int, steps: int) -> float:
    torch.set_num_threads(threads)

    def go() -> int:
        for _ in range(steps):
            run.model.train_step(run.data.get_batch(run.sampler.next_indices()))
        return steps

    return rate(go)

if __name__ == "__main__":
    main()
