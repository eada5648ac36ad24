"""Per-step metric bookkeeping: MetricSums' paths against each other and against the per-key code it replaced.

    .venv/bin/python benchmarks/metric_sums.py [--metrics 5] [--rounds 9]
    .venv/bin/python benchmarks/metric_sums.py --in-loop [--rounds 11]

Every side does what a Run does after each step: add the step's 0-dim metric tensors to the
interval's sums and check them for NaN/inf. Default mode, the bookkeeping alone on fixed tensors:
A = MetricSums' stacked row (one stack, one add, one fused check), B = the previous code (one add
per metric, one isfinite + host read per metric). ``--in-loop``: inside a real training loop
(WGAN-GP, tiny preset, on ``ring``, one CPU thread), the bookkeeping timed after each real step:
A = ``MetricSums(on_host=True)`` (floats, what a CPU Run uses), B = the stacked row. (Whole-loop
timings cannot resolve 10 us in a 2.6 ms step on this machine.) Alternating rounds, medians of
microseconds per step and of the per-round ratios A/B.
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


def bookkeeping_in_loop(on_host: bool, steps: int, model, data, log_every: int = 10) -> list[float]:
    """Train ``steps`` WGAN-GP steps; time (seconds) MetricSums(on_host=on_host)'s work after each, as a Run does it."""
    sums, spent = MetricSums(on_host=on_host), []
    for _ in range(steps):
        metrics = model.train_step(data.get_batch(torch.randint(len(data), (model.config.batch_size,))))
        t0 = time.perf_counter()
        row = sums.add(metrics)
        if row is None or not MetricSums.row_is_finite(row):
            raise AssertionError("unexpected fallback or non-finite value")
        if sums.count == log_every:
            sums.means()
        spent.append(time.perf_counter() - t0)
    return spent


def in_loop(rounds: int, steps: int) -> None:
    """Print the in-loop comparison (see the module docstring)."""
    import genwidgets as gw

    data = gw.load_data("ring")
    model = gw.build_model("wgan_gp", data.spec, preset="tiny", runtime=gw.Runtime.create(device="cpu", num_threads=1))
    a, b = [], []
    for on_host in (True, False):
        bookkeeping_in_loop(on_host, 100, model, data)
    for _ in range(rounds):
        for out, on_host in ((a, True), (b, False)):
            out.append(statistics.mean(bookkeeping_in_loop(on_host, steps, model, data)) * 1e6)
    print(f"torch {torch.__version__}, 1 thread, wgan_gp tiny on ring (steps of about 2.6 ms), {rounds} alternating "
          f"rounds of {steps} steps; microseconds of bookkeeping per step, the metric flush every 10 steps included")
    print(f"floats, on_host=True (A): {statistics.median(a):.1f} us/step; stacked row (B): {statistics.median(b):.1f} "
          f"us/step; median A/B {statistics.median(x / y for x, y in zip(a, b, strict=True)):.3f}")


def main() -> None:
    """Print the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=5, help="metrics per step (WGAN-GP returns 5)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per timed round (default 2000, or 300 with --in-loop)")
    parser.add_argument("--in-loop", action="store_true", help="compare the paths inside a WGAN-GP training loop")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.in_loop:
        in_loop(args.rounds, args.steps or 300)
        return
    args.steps = args.steps or 2000
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
