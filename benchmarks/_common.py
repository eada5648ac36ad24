"""Helpers for benchmarks: alternating A/B timing, medians and ratios."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator


def rate(fn: Callable[[], int]) -> float:
    """Run ``fn`` (which returns how many items it processed) and return items per second."""
    t0 = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t0)


def alternate(a: Callable[[], float], b: Callable[[], float], rounds: int) -> tuple[list[float], list[float]]:
    """Measure A B A B ... so machine-load swings hit both sides alike."""
    xs, ys = [], []
    for _ in range(rounds):
        xs.append(a())
        ys.append(b())
    return xs, ys


def summary(name: str, xs: list[float], ys: list[float], unit: str, a: str, b: str) -> str:
    """One table row: medians of A and B and the median of the per-pair ratios A/B."""
    ratios = [x / y for x, y in zip(xs, ys, strict=True)]
    return (f"| {name} | {statistics.median(xs):.2f} {unit} | {statistics.median(ys):.2f} {unit} | "
            f"{statistics.median(ratios):.3f} | {len(xs)} |")


def median_ratio(xs: list[float], ys: list[float]) -> float:
    """The median of the per-pair ratios A/B."""
    return statistics.median(x / y for x, y in zip(xs, ys, strict=True))


@contextlib.contextmanager
def comm_class(cls: type) -> Iterator[None]:
    """Make widgets opened in this block use comm class ``cls`` (the ``comm`` package's factory), then restore it."""
    import comm

    previous = comm.create_comm
    comm.create_comm = cls
    try:
        yield
    finally:
        comm.create_comm = previous
