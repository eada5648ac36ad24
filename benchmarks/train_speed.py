"""Train steps/s of the built-in families on CPU: through a genwidgets Run vs. calling train_step bare.

    .venv/bin/python benchmarks/train_speed.py [--rounds 5] [--steps 60]

A = a background ``Run`` (events, metrics reads, sample grids every 100 steps);
B = a bare loop calling ``model.train_step`` on the same model and data in the same process.
Pairs alternate (A B A B ...); the table gives medians and the median ratio A/B.
"""

from __future__ import annotations

import argparse
import functools

import torch
from _common import alternate, rate, summary

import genwidgets as gw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    rt = gw.Runtime.create(device="cpu")
    print(f"torch {torch.__version__}, {rt.num_threads} threads, {args.steps} steps per sample, {args.rounds} pairs")
    print("| model on mnist | Run steps/s (A) | bare train_step steps/s (B) | A/B | pairs |")
    print("|---|---|---|---|---|")
    mnist = gw.load_data("mnist")
    for family in ("dcgan", "vae"):
        model = gw.build_model(family, mnist.spec, runtime=rt)
        run = gw.Run(model, mnist, steps=None, log_every=10, sample_every=100, checkpoint_every=None)
        measure_run = functools.partial(rate, functools.partial(_train_with_run, run, args.steps))
        measure_bare = functools.partial(rate, functools.partial(_train_bare, run, args.steps))
        measure_run(), measure_bare()  # warm up both paths
        xs, ys = alternate(measure_run, measure_bare, args.rounds)
        print(summary(family, xs, ys, "", "Run", "bare"))


def _train_with_run(run: gw.Run, steps: int) -> int:
    start = run.step_count
    run.steps = start + steps
    run.start().wait()
    return run.step_count - start


def _train_bare(run: gw.Run, steps: int) -> int:
    for _ in range(steps):
        run.model.train_step(run.data.get_batch(run.sampler.next_indices()))
    return steps

if __name__ == "__main__":
    main()
