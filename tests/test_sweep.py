"""Sweeps: every combination trained as a normal run directory, resumable, never writing where it must not.

Real tiny runs of a beta-VAE on the embedded dSprites (the issue's beta sweep, 2 values x 2 seeds) and on
the digits; real files on disk. ``parallel=K`` sweeps start real launcher processes (torchrun, one worker each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import genwidgets as gw
from genwidgets import sweeps
from genwidgets.errors import ConfigError
from genwidgets.runtime.checkpoint import list_checkpoints, read_checkpoint
from genwidgets.sweeps import MANIFEST, WORKERS, claim, plan_sweep, point_status, usable_cores

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


def _metrics_steps(run_dir: Path) -> list[int]:
    return [int(line.split(",", 1)[0]) for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]]


@pytest.mark.slow
def test_a_parallel_sweep_trains_each_run_in_its_own_process_into_a_normal_run_directory(tmp_path):
    """Protects: parallel=2 trains two runs at once, each a one-thread process; a partial run is resumed in its
    own folder; each folder is what a run in the kernel writes (same weights and metrics); a restart does nothing."""
    options = {"preset": "tiny", "vary": {"beta": [1, 4]}, "seeds": [0], "steps": 6, "out": tmp_path / "s"}
    run_options = {"log_every": 3, "sample_every": 6, "checkpoint_every": 0}
    plan = plan_sweep("beta_vae", "dsprites", **options)
    claim(plan)
    partial, new = plan.points
    gw.train("beta_vae", data="dsprites", preset="tiny", steps=3, config=partial.config(plan.config), out=partial.out,
             **run_options).wait()
    reference = gw.train("beta_vae", data="dsprites", preset="tiny", steps=6, config=new.config(plan.config),
                         out=tmp_path / "reference", **run_options).wait()
    started: list = []
    sweep = gw.sweep("beta_vae", data="dsprites", parallel=2, on_run=lambda run, point: started.append(run),
                     **options, **run_options)
    assert sweep.wait(timeout=300) and sweep.state == "finished", sweep.outcomes
    assert sorted((o["name"], o["was"], o["state"], o["step"]) for o in sweep.outcomes) == [
        ("beta=1,seed=0", "partial", "finished", 6), ("beta=4,seed=0", "new", "finished", 6)]
    assert len(started) == 2 and all(isinstance(r, gw.LaunchedRun) and r.returncode == 0 for r in started)
    assert all(r.runtime.info["num_threads"] == 1 and r.processes == 1 for r in started)
    assert [c.name for c in list_checkpoints(partial.out)] == ["step-00000003", "step-00000006"]
    assert _metrics_steps(partial.out) == [3, 6]  # the resumed run appended to its own metrics
    assert [c.name for c in list_checkpoints(new.out)] == ["step-00000006"]
    assert read_checkpoint(list_checkpoints(new.out)[-1])[1]["config"]["beta"] == 4.0
    assert {p.name for p in new.out.iterdir()} == {p.name for p in reference.out_dir.iterdir()}
    ours, theirs = gw.load_model(new.out).state_dict(), gw.load_model(reference.out_dir).state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    loss = [line.split(",")[3:] for line in (new.out / "metrics.csv").read_text().splitlines()]
    assert loss == [line.split(",")[3:] for line in (reference.out_dir / "metrics.csv").read_text().splitlines()]
    assert (tmp_path / "s" / WORKERS / new.name / "workers.log").is_file()

    before = _snapshot(tmp_path / "s")
    again = gw.sweep("beta_vae", data="dsprites", parallel=2, **options, **run_options)
    assert again.wait(timeout=60) and again.state == "finished"
    assert [o["was"] for o in again.outcomes] == ["finished"] * 2
    cli = subprocess.run([BIN, "sweep", "beta_vae", "--data", "dsprites", "--preset", "tiny", "--vary", "beta=1,4",
                          "--steps", "6", "--out", str(tmp_path / "s"), "--parallel", "2", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert [(r["name"], r["was"]) for r in json.loads(cli.stdout)["runs"]] == [("beta=1,seed=0", "finished"),
                                                                               ("beta=4,seed=0", "finished")]
    assert cli.stderr.count("skipped") == 2
    assert _snapshot(tmp_path / "s") == before  # nothing started, nothing rewritten


@pytest.mark.slow
def test_stopping_a_parallel_sweep_stops_every_process_after_a_final_checkpoint(tmp_path):
    """Protects: Sweep.stop() asks every process to stop; each writes a final checkpoint and exits, and the runs
    are partial for the next start to resume."""
    started: list = []
    sweep = gw.sweep("vae", data="digits", preset="tiny", vary={"lr": [1e-3, 2e-3]}, steps=1_000_000,
                     out=tmp_path / "s", parallel=2, log_every=1, checkpoint_every=0,
                     on_run=lambda run, point: started.append(run))
    try:
        deadline = time.monotonic() + 120
        while not (len(sweep.running) == 2 and all(r.step_count >= 2 for r in sweep.running.values())):
            assert time.monotonic() < deadline and sweep.state == "running", sweep.outcomes
            time.sleep(0.1)
    finally:
        sweep.stop()
    assert all(r.returncode == 0 and r.state == "stopped" for r in started)
    assert sweep.wait(timeout=60) and sweep.state == "stopped"
    assert sorted(o["state"] for o in sweep.outcomes) == ["stopped", "stopped"]
    stopped_at = {o["name"]: o["step"] for o in sweep.outcomes}
    for point, status in sweep.plan.status():  # each stopped run's newest checkpoint is its final one
        assert status.state == "partial" and status.step == stopped_at[point.name] >= 2


def test_parallel_is_capped_at_the_usable_cores_and_checked_before_anything_is_written(tmp_path, monkeypatch):
    out = tmp_path / "s"
    plan = {"vary": {"lr": [1e-3, 2e-3]}, "steps": 4, "out": out, "preset": "tiny", "start": False}
    cores = usable_cores()
    assert cores == (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    with pytest.warns(RuntimeWarning, match=rf"parallel={cores + 1} is more than the {cores} CPU cores"):
        capped = gw.sweep("vae", data="digits", parallel=cores + 1, **plan)
    assert capped.parallel == cores
    monkeypatch.setattr(sweeps, "usable_cores", lambda: 4)
    assert gw.sweep("vae", data="digits", parallel=4, **plan).parallel == 4
    for bad in (0, True, 1.5):
        with pytest.raises(ConfigError, match="parallel must be a whole number"):
            gw.sweep("vae", data="digits", parallel=bad, **plan)
    with pytest.raises(ConfigError, match="sets processes itself"):
        gw.sweep("vae", data="digits", parallel=2, processes=2, **plan)
    with pytest.raises(ConfigError, match="cannot go to a run's process"):
        gw.sweep("vae", data="digits", parallel=2, loggers=[object()], **plan)
    assert not out.exists()


def test_a_sweep_evaluates_each_finished_run_once_and_keeps_the_result_beside_it(tmp_path):
    """``evaluate=[...]``: each run's metrics land in its ``evaluations/`` (where the board reads them); a restart
    measures nothing again, and an unknown group is refused before anything is written."""
    options = dict(data="ring", preset="toy2d", vary={"lr_g": [1e-3, 2e-3]}, steps=20, evaluate=["modes"],
                   evaluate_n=500, log_every=10, sample_every=10, checkpoint_every=None)
    with pytest.raises(ConfigError, match="unknown metric groups"):
        gw.sweep("gan", out=tmp_path / "bad", **{**options, "evaluate": ["fid"]})
    assert not (tmp_path / "bad").exists()
    s = gw.sweep("gan", out=tmp_path / "s", **options)
    assert s.wait(240) and s.state == "finished", s.outcomes
    kept = tmp_path / "s" / "lr_g=0.001,seed=0" / "evaluations" / "step-00000020.json"
    assert {o["name"]: sorted(o["evaluation"]) for o in s.outcomes} == {
        name: ["modes.hq_percent", "modes.modes_covered", "modes.num_modes", "modes.reverse_kl"]
        for name in ("lr_g=0.001,seed=0", "lr_g=0.002,seed=0")}
    assert json.loads(kept.read_text())["metrics"]["modes"]["num_modes"] == 8
    written = kept.stat().st_mtime_ns
    again = gw.sweep("gan", out=tmp_path / "s", **options)
    assert again.wait(120) and [o["was"] for o in again.outcomes] == ["finished", "finished"]
    assert kept.stat().st_mtime_ns == written and again.outcomes[0]["evaluation"] == s.outcomes[0]["evaluation"]
