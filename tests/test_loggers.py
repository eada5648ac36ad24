import csv
import importlib.util
import json
import os
import subprocess
import sys

import pytest

import genwidgets


def test_csv_logger_writes_one_row_per_logged_step_and_appends_on_resume(tmp_path):
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=20, out=tmp_path, log_every=5,
                           checkpoint_every=None, sample_every=20)
    run.wait()
    run.events.flush()
    rows = list(csv.DictReader((tmp_path / "metrics.csv").read_text().splitlines()))
    assert [int(r["step"]) for r in rows] == [5, 10, 15, 20]
    assert set(rows[0]) == {"step", "time", "steps_per_sec", "loss", "recon", "kl", "elbo"}
    assert abs(float(rows[-1]["loss"]) - run.history.snapshot()["values"]["loss"][-1]) < 1e-4
    resumed = genwidgets.resume(tmp_path, steps=30)
    resumed.wait()
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("step,") and sum(line.startswith("step,") for line in lines) == 1
    assert [int(r["step"]) for r in csv.DictReader(lines)] == [5, 10, 15, 20, 25, 30]


def test_logger_is_a_plugin_that_can_be_left_out(monkeypatch, tmp_path):
    plugins = {p["name"]: p for p in genwidgets.list_plugins()}
    assert plugins["csv"]["hooks"] == ["on_train_event"] and plugins["csv"]["distribution"] == "genwidgets"
    monkeypatch.setenv("GENWIDGETS_LOAD_PLUGINS", "models,datasets")
    genwidgets.reset_registry()
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=5, out=tmp_path, log_every=5, checkpoint_every=None)
    run.wait()
    assert not (tmp_path / "metrics.csv").exists()


def _tensorboard_or_skip():
    """The TensorBoard logger needs the optional ``tensorboard`` extra; CI installs it (scripts/test.sh)."""
    if importlib.util.find_spec("tensorboard") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tensorboard is not installed; CI must install genwidgets[tensorboard]")
        pytest.skip("tensorboard is not installed (pip install genwidgets[tensorboard])")


def test_tensorboard_logger_writes_scalars_and_sample_grids(tmp_path):
    """Protects: the TensorBoard logger plugin (scalars per logged step, image grids, writer closed at the end)."""
    _tensorboard_or_skip()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from genwidgets.loggers import tensorboard_logger

    plugins = {p["name"]: p for p in genwidgets.list_plugins()}
    assert plugins["tensorboard"]["hooks"] == ["on_train_event"] and plugins["tensorboard"]["error"] is None
    run = genwidgets.train("vae", data="digits", preset="tiny", steps=20, out=tmp_path, log_every=5,
                           checkpoint_every=None, sample_every=10)
    run.wait()
    run.events.flush()
    assert id(run) not in tensorboard_logger._writers  # closed (and flushed) when the run finished
    events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"images": 0}).Reload()
    loss = events.Scalars("train/loss")
    assert [e.step for e in loss] == [5, 10, 15, 20]
    assert abs(loss[-1].value - run.history.snapshot()["values"]["loss"][-1]) < 1e-4
    assert {"train/recon", "train/kl", "perf/steps_per_sec"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Images("samples")] == [10, 20]


def test_tensorboard_logger_is_inert_without_tensorboard(tmp_path):
    """Protects: without the optional extra the plugin implements no hook, so runs neither fail nor log errors."""
    code = f"""
import sys, json
sys.modules["tensorboard"] = None      # as if the package were not installed
import genwidgets
run = genwidgets.train("vae", data="ring", preset="tiny", steps=5, out={str(tmp_path)!r}, log_every=5,
                       checkpoint_every=None)
run.wait()
print(json.dumps({{p["name"]: p for p in genwidgets.list_plugins()}}["tensorboard"]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    record = json.loads(out.stdout.strip().splitlines()[-1])
    assert record["hooks"] == [] and record["error"] is None
    assert not (tmp_path / "tensorboard").exists() and (tmp_path / "metrics.csv").exists()
