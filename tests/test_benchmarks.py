"""The benchmarks run: the GPU one on CPU at small sizes (so it works when a CUDA machine is lent), and all of them
in one command in smoke mode (one pair per row)."""

from __future__ import annotations

import json
import math
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
    row = r"^\| (DCGAN|conv VAE)[^|]*\| fp32, contiguous \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|.*\| ([\d.]+)% \|$"
    rows = re.findall(row, done.stdout, flags=re.MULTILINE)
    assert [r[0] for r in rows] == ["DCGAN", "conv VAE"], done.stdout
    for _, a, b, ratio, fraction in rows:
        assert float(a) > 0 and float(b) > 0 and float(ratio) > 0 and 0 < float(fraction) < 100
    assert "measured peak matmul" in done.stdout


@pytest.mark.slow
def test_all_benchmarks_quick_prints_every_row_with_finite_positive_figures(tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    done = subprocess.run([sys.executable, "all.py", "--smoke", "--json", str(out)], cwd=BENCHMARKS,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    names = [r["name"] for r in rows]
    expected = [f"overhead: {family} on" for family in ("gan", "cgan", "dcgan", "wgan_gp", "vae", "beta_vae")] + [
        "panel attached / detached", "heatmap attached / detached", "explorer probe / bare decode: dcgan",
        "explorer probe / bare decode: vae", "heatmap plane 128x128 frame", "heatmap plane 128x128 scoring",
        "heatmap score grid 16+16 frame", "heatmap score grid 16+16 scoring", "import genwidgets / import torch",
        "import genwidgets + first genwidgets.train"]
    for prefix in expected:
        assert sum(name.startswith(prefix) for name in names) == 1, (prefix, names)
    assert len(rows) == len(expected)
    for r in rows:  # figures only: the ratios depend on what else the shared machine is doing
        for key in ("genwidgets", "reference", "ratio"):
            assert math.isfinite(r[key]) and r[key] > 0, r
        assert r["pairs"] >= 1 and r["verdict"] in ("pass", "miss", "-")
    for r in rows:  # the printed table has the same rows
        assert f"| {r['name']} |" in done.stdout
