"""Sweeps: every combination trained as a normal run directory, resumable, never writing where it must not.

Real tiny runs of a beta-VAE on the embedded dSprites (the issue's beta sweep, 2 values x 2 seeds) and on
the digits; real files on disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import genwidgets as gw
from genwidgets.errors import ConfigError
from genwidgets.runtime.checkpoint import list_checkpoints, read_checkpoint
from genwidgets.sweeps import MANIFEST, claim, plan_sweep, point_status

BIN = str(Path(sys.executable).with_name("genwidgets"))


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time (to show nothing was rewritten)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_beta_sweep_trains_every_combination_as_a_run_directory_and_a_restart_skips_them(tmp_path):
    out = tmp_path / "beta"
    sweep = gw.sweep("beta_vae", data="dsprites", preset="tiny", vary={"beta": [1, 4]}, seeds=[0, 1], steps=4,
                     out=out, log_every=2, sample_every=4, checkpoint_every=0)
    assert sweep.wait(timeout=600) and sweep.state == "finished", sweep.outcomes
    names = ["beta=1,seed=0", "beta=1,seed=1", "beta=4,seed=0", "beta=4,seed=1"]
    assert [o["name"] for o in sweep.outcomes] == names
    assert all(o["state"] == "finished" and o["step"] == 4 and o["was"] == "new" for o in sweep.outcomes)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["vary"] == {"beta": [1, 4]} and [r["name"] for r in manifest["runs"]] == names
    for name in names:
        (ckpt,) = list_checkpoints(out / name)
        _, state = read_checkpoint(ckpt)
        beta, seed = float(name.split(",")[0].split("=")[1]), int(name.rsplit("=", 1)[1])
        assert state["step"] == 4 and state["config"]["beta"] == beta and state["config"]["seed"] == seed
        assert gw.load_model(out / name).name == "beta_vae"  # a normal run directory: every tool reads it
    # the two seeds of one beta are different runs
    weights = {n: torch.cat([p.flatten() for p in gw.load_model(out / n).parameters()]) for n in names}
    assert not torch.equal(weights["beta=1,seed=0"], weights["beta=1,seed=1"])

    before = _snapshot(out)
    again = gw.sweep("beta_vae", data="dsprites", preset="tiny", vary={"beta": [1, 4]}, seeds=[0, 1], steps=4,
                     out=out, log_every=2, sample_every=4, checkpoint_every=0)
    assert again.wait(timeout=120) and again.state == "finished"
    assert [o["was"] for o in again.outcomes] == ["finished"] * 4
    assert _snapshot(out) == before  # nothing trained, nothing rewritten


def test_a_restarted_sweep_resumes_a_run_that_stopped_part_way(tmp_path):
    plan = plan_sweep("vae", "digits", vary={"lr": [1e-3, 2e-3]}, steps=6, out=tmp_path / "s", preset="tiny")
    claim(plan)
    first = plan.points[0]
    # the first run stopped at step 3 of 6 (its own total was 3: as if the sweep was stopped there)
    gw.train("vae", data="digits", preset="tiny", steps=3, config=first.config(plan.config), out=first.out,
             checkpoint_every=0).wait()
    assert [s.state for _, s in plan.status()] == ["partial", "new"]
    sweep = gw.sweep("vae", data="digits", vary={"lr": [1e-3, 2e-3]}, steps=6, out=tmp_path / "s", preset="tiny",
                     checkpoint_every=0)
    assert sweep.wait(timeout=300) and sweep.state == "finished", sweep.outcomes
    assert [(o["was"], o["state"], o["step"]) for o in sweep.outcomes] == [("partial", "finished", 6),
                                                                         ("new", "finished", 6)]
    assert [p.name for p in list_checkpoints(first.out)] == ["step-00000003", "step-00000006"]


def test_a_bad_combination_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ConfigError, match=r"sweep run 'lr=-1.0,seed=0'.*lr"):
        gw.sweep("vae", data="digits", vary={"lr": [1e-3, -1.0]}, steps=4, out=tmp_path / "s")
    with pytest.raises(ConfigError, match="vary the seed with seeds="):
        gw.sweep("vae", data="digits", vary={"seed": [1, 2]}, steps=4, out=tmp_path / "s")
    with pytest.raises(ConfigError, match="non-empty list"):
        gw.sweep("vae", data="digits", vary={"lr": []}, steps=4, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_a_foreign_folder_or_another_plan_is_refused_and_left_as_it_is(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("my notes")
    with pytest.raises(ConfigError, match="is not a genwidgets sweep"):
        gw.sweep("vae", data="digits", vary={"lr": [1e-3]}, steps=4, out=foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"] and (foreign / "notes.txt").read_text() == "my notes"

    claim(plan_sweep("vae", "digits", vary={"lr": [1e-3]}, steps=4, out=tmp_path / "s"))
    manifest = (tmp_path / "s" / MANIFEST).read_text()
    with pytest.raises(ConfigError, match=r"another plan \(steps: 4 there, 8 now\)"):
        gw.sweep("vae", data="digits", vary={"lr": [1e-3]}, steps=8, out=tmp_path / "s")
    assert (tmp_path / "s" / MANIFEST).read_text() == manifest


def test_a_run_folder_without_checkpoints_is_reported_and_kept_while_the_others_train(tmp_path):
    plan = plan_sweep("vae", "digits", vary={"lr": [1e-3, 2e-3]}, steps=3, out=tmp_path / "s", preset="tiny")
    claim(plan)
    broken = plan.points[0].out
    broken.mkdir()
    (broken / "metrics.csv").write_text("step,loss\n")  # a run that died before its first checkpoint
    assert point_status(plan.points[0], 3).state == "broken"
    sweep = gw.sweep("vae", data="digits", vary={"lr": [1e-3, 2e-3]}, steps=3, out=tmp_path / "s", preset="tiny",
                     checkpoint_every=0)
    assert sweep.wait(timeout=300) and sweep.state == "failed"
    first, second = sweep.outcomes
    assert first["state"] == "failed" and "holds no checkpoint" in first["error"] and "delete" in first["error"]
    assert second["state"] == "finished" and second["step"] == 3
    assert (broken / "metrics.csv").read_text() == "step,loss\n"


def test_the_command_line_sweep_runs_and_a_second_call_continues_it(tmp_path):
    out = tmp_path / "cli"
    args = [BIN, "sweep", "vae", "--data", "digits", "--preset", "tiny", "--vary", "lr=0.001,0.002", "--seeds", "0,1",
            "--steps", "3", "--checkpoint-every", "0", "--out", str(out), "--quiet", "--json"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)["runs"]
    assert [(r["name"], r["state"], r["step"]) for r in runs] == [
        ("lr=0.001,seed=0", "finished", 3), ("lr=0.001,seed=1", "finished", 3),
        ("lr=0.002,seed=0", "finished", 3), ("lr=0.002,seed=1", "finished", 3)]
    again = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and all(r["was"] == "finished" for r in json.loads(again.stdout)["runs"])
    assert again.stderr.count("skipped") == 4
    bad = subprocess.run([BIN, "sweep", "vae", "--vary", "lr", "--out", str(tmp_path / "x")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "--vary expects KEY=V1,V2" in bad.stderr and not (tmp_path / "x").exists()


def test_genwidgets_sweep_is_the_function_even_after_its_module_is_imported():
    import genwidgets.sweeps  # noqa: F401 - a submodule named like the function would shadow it on the package

    assert callable(gw.sweep) and gw.sweep.__module__ == "genwidgets.sweeps" and gw.Sweep.__name__ == "Sweep"
