"""The GPU benchmark runs (on CPU, at small sizes), so it works when a CUDA machine is lent."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.slow
def test_gpu_benchmark_runs_on_cpu_at_small_sizes_and_prints_its_table() -> None:
    done = subprocess.run([sys.executable, "gpu.py", "--small", "--pairs", "1", "--steps", "4"], cwd=BENCHMARKS,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = re.findall(r"^\| (DCGAN|conv VAE)[^|]*\| fp32 \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|.*\| ([\d.]+)% \|$",
                      done.stdout, flags=re.MULTILINE)
    assert [r[0] for r in rows] == ["DCGAN", "conv VAE"], done.stdout
    for _, a, b, ratio, fraction in rows:
        assert float(a) > 0 and float(b) > 0 and float(ratio) > 0 and 0 < float(fraction) < 100
    assert "measured peak matmul" in done.stdout
