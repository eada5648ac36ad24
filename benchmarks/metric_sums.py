"""Per-step metric bookkeeping: MetricSums (stacked) against the per-key sums and checks it replaced.

    .venv/bin/python benchmarks/metric_sums.py [--metrics 5] [--rounds 9]

Both sides do what a Run does after every CPU step: add the step's 0-dim metric tensors to the
interval's sums and check them for NaN/inf. A = MetricSums (one stack, one add, one fused check);
B = the previous code (one add per metric, one isfinite + host read per metric). Alternating
rounds, medians of microseconds per step and of the per-round ratios A/B.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from genwidgets.runtime.metric_sums import MetricSums


def per_key(metrics: dict[str, torch.Tensor], steps: int) -> None:
    """The replaced code: per-metric sums and per-metric finiteness checks."""
    sums: dict[str, torch.Tensor] = {}
    for _ in range(steps):
        for key, value in metrics.items():
            tensor = value.detach().float()
            sums[key] = sums[key] + tensor if key in sums else tensor
        for value in metrics.values():
            if not bool(torch.isfinite(value.detach().float()).all()):
                raise AssertionError("unexpected non-finite value")


def stacked(metrics: dict[str, torch.Tensor], steps: int) -> None:
    """MetricSums as the Run uses it."""
    sums = MetricSums()
    for _ in range(steps):
        row = sums.add(metrics)
        if row is None or not MetricSums.row_is_finite(row):
            raise AssertionError("unexpected fallback or non-finite value")


def main() -> None:
    """Print the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=5, help="metrics per step (WGAN-GP returns 5)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=2000, help="steps per timed round")
    args = parser.parse_args()
    torch.set_num_threads(1)
    metrics = {f"m{i}": torch.tensor(float(i)) for i in range(args.metrics)}
    stacked(metrics, 200)
    per_key(metrics, 200)
    a, b = [], []
    for _ in range(args.rounds):
        for out, fn in ((a, stacked), (b, per_key)):
            t0 = time.perf_counter()
            fn(metrics, args.steps)
            out.append((time.perf_counter() - t0) / args.steps * 1e6)
    print(f"torch {torch.__version__}, 1 thread, {args.metrics} metrics, {args.rounds} alternating rounds "
          f"of {args.steps} steps")
    print(f"MetricSums (A): {statistics.median(a):.1f} us/step; per-key (B): {statistics.median(b):.1f} us/step; "
          f"median A/B {statistics.median(x / y for x, y in zip(a, b, strict=True)):.3f}")


if __name__ == "__main__":
    main()
