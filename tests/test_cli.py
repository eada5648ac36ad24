"""The command line, run as a real subprocess the way a user runs it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

import genwidgets
from genwidgets.runtime.checkpoint import list_checkpoints, read_checkpoint

BIN = str(Path(sys.executable).with_name("genwidgets"))


def gw(*args, check=True, timeout=300):
    proc = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"genwidgets {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_plugins_json_lists_builtin_models_with_capabilities():
    plugins = {p["name"]: p for p in json.loads(gw("plugins", "--json").stdout)}
    models = {m["name"]: m["capabilities"] for m in plugins["models"]["models"]}
    assert set(models) == {"dcgan", "vae", "gan", "cgan", "wgan_gp", "beta_vae"}
    assert models["cgan"]["conditional"] and not models["gan"]["conditional"]
    assert models["dcgan"] == {"can_sample": True, "can_encode": True, "can_decode": True,
                               "can_discriminate": True, "conditional": False}
    assert models["vae"]["can_encode"] and models["vae"]["can_decode"]
    assert plugins["models"]["distribution"] == "genwidgets" and plugins["models"]["error"] is None


def test_datasets_json():
    sets = {d["name"]: d for d in json.loads(gw("datasets", "--json").stdout)}
    assert sets["mnist"]["shape"] == [1, 28, 28] and sets["mnist"]["size"] == 5000
    assert sets["ring"]["kind"] == "points" and sets["dsprites"]["size"] == 737280


def test_train_then_sample(tmp_path):
    out = tmp_path / "run"
    proc = gw("train", "dcgan", "--data", "digits", "--preset", "tiny", "--steps", "12", "--out", str(out),
              "--sample-every", "6", "--log-every", "3", "--json", "--quiet")
    summary = json.loads(proc.stdout)
    assert summary["state"] == "finished" and summary["steps"] == 12
    assert set(summary["metrics"]) == {"loss_d", "loss_g", "d_real", "d_fake"}
    assert [p.name for p in list_checkpoints(out)] == ["step-00000012"]
    grid = np.asarray(Image.open(out / "samples.png"))
    assert grid.ndim == 2 and grid.std() > 0  # a real grid of samples, not a blank image
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step-00000006.png", "step-00000012.png"]
    gw("sample", str(out), "-n", "16", "--out", str(tmp_path / "g.png"))
    assert Image.open(tmp_path / "g.png").size == (2 * (4 * 10 + 2), 2 * (4 * 10 + 2))


def test_vae_writes_reconstructions_and_resume_continues(tmp_path):
    out = tmp_path / "vae"
    gw("train", "vae", "--data", "digits", "--preset", "tiny", "--steps", "10", "--out", str(out), "--quiet")
    assert (out / "reconstructions.png").exists()
    proc = gw("train", "--resume", str(out), "--steps", "16", "--json", "--quiet")
    assert json.loads(proc.stdout)["steps"] == 16
    assert [p.name for p in list_checkpoints(out)] == ["step-00000010", "step-00000016"]


def test_resume_changes_live_hyperparameters_and_refuses_the_rest(tmp_path):
    """A learning-rate drop on resume: --set edits the editable fields; fixed ones and run options are refused."""
    out = tmp_path / "vae"
    gw("train", "vae", "--data", "digits", "--preset", "tiny", "--steps", "6", "--out", str(out), "--quiet")
    gw("train", "--resume", str(out), "--steps", "9", "--set", "lr=2.5e-4", "--quiet")
    _, state = read_checkpoint(list_checkpoints(out)[-1])
    assert state["step"] == 9 and state["config"]["lr"] == 2.5e-4
    assert [g["lr"] for g in state["optimizers"]["model"]["param_groups"]] == [2.5e-4]

    proc = gw("train", "--resume", str(out), "--steps", "12", "--set", "latent_dim=3", check=False)
    assert proc.returncode == 1 and "latent_dim cannot change during training" in proc.stderr
    proc = gw("train", "--resume", str(out), "--preset", "tiny", "--seed", "3", check=False)
    assert proc.returncode == 2 and "drop --preset, --seed" in proc.stderr
    assert list_checkpoints(out)[-1].name == "step-00000009"  # the refused commands trained nothing


def test_resume_takes_new_cadences_and_checks_the_data(tmp_path):
    """--checkpoint-every and --data reach a resumed run (they were ignored); data of another shape is refused."""
    out = tmp_path / "vae"
    gw("train", "vae", "--data", "digits", "--preset", "tiny", "--steps", "4", "--out", str(out), "--quiet")
    gw("train", "--resume", str(out), "--steps", "8", "--checkpoint-every", "2", "--data", "digits", "--quiet")
    assert [p.name for p in list_checkpoints(out)] == ["step-00000004", "step-00000006", "step-00000008"]
    _, state = read_checkpoint(list_checkpoints(out)[-1])
    assert state["run"]["checkpoint_every"] == 2 and state["run"]["log_every"] == 10  # the others kept

    proc = gw("train", "--resume", str(out), "--steps", "10", "--data", "mnist", check=False)
    assert proc.returncode == 1
    assert "trained on 'digits': images shaped (1, 8, 8)" in proc.stderr and "(1, 28, 28)" in proc.stderr
    assert list_checkpoints(out)[-1].name == "step-00000008"


def test_resume_with_out_branches_and_leaves_the_original_run(tmp_path):
    """An lr-drop branch from a middle checkpoint goes to --out; the original run's checkpoints are untouched."""
    out, branch = tmp_path / "vae", tmp_path / "branch"
    gw("train", "vae", "--data", "digits", "--preset", "tiny", "--steps", "6", "--checkpoint-every", "3",
       "--out", str(out), "--quiet")
    before = {p.name: (p / "weights.safetensors").read_bytes() for p in list_checkpoints(out)}
    gw("train", "--resume", str(out / "checkpoints" / "step-00000003"), "--out", str(branch), "--steps", "8",
       "--set", "lr=1e-4", "--quiet")
    assert [p.name for p in list_checkpoints(branch)] == ["step-00000006", "step-00000008"]
    _, state = read_checkpoint(list_checkpoints(branch)[-1])
    assert state["step"] == 8 and state["config"]["lr"] == 1e-4
    assert {p.name: (p / "weights.safetensors").read_bytes() for p in list_checkpoints(out)} == before


def test_errors_are_one_line_and_nonzero(tmp_path):
    proc = gw("train", "gan9000", "--data", "mnist", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "genwidgets: error: no model named 'gan9000'; registered models: "
        f"{', '.join(genwidgets.get_registry().model_names())} "  # built-ins and installed plugins (the example)
        "(see `genwidgets plugins` for plugins that failed to load)")
    assert "Traceback" not in proc.stderr
    proc = gw("train", "dcgan", "--data", "ring", "--steps", "1", "--out", str(tmp_path / "x"), check=False)
    assert proc.returncode == 1 and "model 'dcgan' trains on images data" in proc.stderr
    proc = gw("train", "vae", "--set", "latent_dim=0", "--out", str(tmp_path / "y"), check=False)
    assert "VAEConfig.latent_dim=0 is out of range" in proc.stderr
    proc = gw("sample", str(tmp_path / "missing"), check=False)
    assert proc.returncode == 1 and "no checkpoint at" in proc.stderr
    proc = gw("--debug", "train", "gan9000", check=False)
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_ctrl_c_stops_cleanly_and_saves(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([BIN, "train", "vae", "--data", "ring", "--preset", "tiny", "--steps", "1000000",
                             "--out", str(out), "--checkpoint-every", "1000000", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "samples.png").exists() and time.monotonic() < deadline:  # wait until it trains
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted: stopping and saving a final checkpoint" in stderr
    (final,) = list_checkpoints(out)
    _, state = read_checkpoint(final)
    assert state["step"] >= 250 and final.name == f"step-{state['step']:08d}"
    assert "stopped at step" in stdout
