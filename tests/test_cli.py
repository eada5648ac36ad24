"""The command line, run as a real subprocess the way a user runs it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import genwidgets
from genwidgets.errors import ConfigError
from genwidgets.runtime.checkpoint import list_checkpoints, read_checkpoint

BIN = str(Path(sys.executable).with_name("genwidgets"))
#: Every test runs `genwidgets` in subprocesses (each imports torch), most of them train.
pytestmark = pytest.mark.slow


def gw(*args, check=True, timeout=300):
    proc = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"genwidgets {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_plugins_json_lists_builtin_models_and_the_text_their_capabilities():
    plugins = {p["name"]: p for p in json.loads(gw("plugins", "--json").stdout)}
    assert plugins == {p["name"]: p for p in genwidgets.list_plugins()}  # the same shape as the Python API
    assert set(plugins["models"]["models"]) == {"dcgan", "vae", "gan", "cgan", "wgan_gp", "beta_vae"}
    assert plugins["models"]["distribution"] == "genwidgets" and plugins["models"]["error"] is None
    text = gw("plugins").stdout.splitlines()
    verbs = {line.split()[1]: line.split(None, 2)[2] for line in text if line.startswith("  model ")}
    assert verbs["dcgan"] == "sample, encode, decode, discriminate"
    assert verbs["cgan"] == "sample, encode, decode, discriminate, conditional"
    assert verbs["vae"] == "sample, encode, decode"


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
    assert "SIGINT: stopping after this step and writing a final checkpoint" in stderr
    (final,) = list_checkpoints(out)
    _, state = read_checkpoint(final)
    assert state["step"] >= 250 and final.name == f"step-{state['step']:08d}"
    assert "stopped at step" in stdout


def test_resume_past_the_runs_total_names_steps_and_writes_nothing(tmp_path):
    """A branch that forgets --steps: one line naming --steps (the CLI's option, not Python's), nothing in --out."""
    out, branch = tmp_path / "vae", tmp_path / "branch"
    gw("train", "vae", "--data", "digits", "--preset", "tiny", "--steps", "4", "--out", str(out), "--quiet")
    middle = out / "checkpoints" / "step-00000004"
    proc = gw("train", "--resume", str(middle), "--out", str(branch), "--set", "lr=1e-5", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"genwidgets: error: checkpoint {middle} is at step 4, already the run's total of 4 steps; to train more, "
        "pass a larger total, e.g. --steps 8"]
    assert not branch.exists()  # no TensorBoard event file (or anything else) before the run trains

    with pytest.raises(ConfigError, match=r"at step 4, already the run's total of 4 steps.*e\.g\. steps=8$"):
        genwidgets.resume(middle, out=branch)  # Python names its own argument
    assert not branch.exists()

    proc = gw("train", "--resume", str(middle), "--out", str(branch), "--steps", "6", "--set", "lr=1e-5", "--quiet")
    assert proc.stderr.splitlines()[0].startswith(
        f"resuming vae from {middle} at step 4 of 6 with lr=1e-5, on digits (1797 examples) on cpu")
    assert [p.name for p in list_checkpoints(branch)] == ["step-00000006"]


def test_planned_edits_print_a_line_as_they_apply_and_the_bar_shows_one_rate(tmp_path):
    """--at edits say when they apply (above the bar); the bar shows tqdm's step/s only; 0 = final checkpoint only."""
    out = tmp_path / "vae"
    proc = gw("train", "vae", "--data", "digits", "--preset", "tiny", "--steps", "300", "--at", "150:lr=2e-4",
              "--at", "200:lr=1e-4", "--log-every", "5", "--checkpoint-every", "0", "--out", str(out))
    lines = proc.stderr.replace("\r", "\n").splitlines()
    assert "step 150: edit applied: lr=0.0002" in lines and "step 200: edit applied: lr=0.0001" in lines
    assert "step/s" in proc.stderr and "it/s" not in proc.stderr  # one rate: tqdm's, not a second postfix
    assert [p.name for p in list_checkpoints(out)] == ["step-00000300"]
    _, state = read_checkpoint(list_checkpoints(out)[-1])
    assert state["config"]["lr"] == 1e-4


def test_out_of_range_numbers_are_refused_in_one_line(tmp_path):
    """sample -n 0 / -3 gave tracebacks, --checkpoint-every -1 meant every step: each is now one line, nothing runs."""
    out = tmp_path / "vae"
    gw("train", "vae", "--data", "digits", "--preset", "tiny", "--steps", "2", "--out", str(out), "--quiet")
    cases = [
        (["sample", str(out), "-n", "0"], "argument -n: must be an integer from 1 to 10000, got 0"),
        (["sample", str(out), "-n", "-3"], "argument -n: must be an integer from 1 to 10000, got -3"),
        (["sample", str(out), "-n", "100000"], "got 100000; for more, run sample again with another --seed"),
        (["sample", str(out), "--scale", "0"], "argument --scale: must be an integer from 1 to 16, got 0"),
        (["evaluate", str(out), "--n", "0"], "argument --n: must be an integer >= 1, got 0"),
    ]
    train = ["train", "vae", "--data", "digits", "--preset", "tiny", "--out", str(tmp_path / "new"), "--quiet"]
    cases += [([*train, "--steps", "2", flag, "-1"], f"argument {flag}: must be an integer >= {low}, got -1")
              for flag, low in (("--checkpoint-every", 0), ("--log-every", 1), ("--sample-every", 1))]
    cases += [([*train, "--steps", value], f"argument --steps: must be an integer >= 1, got {value}")
              for value in ("0", "-3")]
    cases += [(["train", "--resume", str(out), "--steps", "-1"], "argument --steps: must be an integer >= 1, got -1")]
    for args, message in cases:
        proc = gw(*args, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert proc.stderr.strip().splitlines()[-1].endswith(message), (args, proc.stderr)
    assert not (tmp_path / "new").exists() and not (Path.cwd() / "samples.png").exists()
    assert [p.name for p in list_checkpoints(out)] == ["step-00000002"]


def test_argument_errors_answer_before_torch_loads():
    """A mistyped flag is refused by the parser alone: `genwidgets --help` and `sample -n 0` never import torch."""
    probe = ("import sys\nfrom genwidgets.cli import main\ntry:\n    main(sys.argv[1:])\n"
             "except SystemExit as end:\n    print('torch' in sys.modules, end.code)")
    for args in (["sample", "runs/x", "-n", "0"], ["train", "vae", "--steps", "-3"]):
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
        assert proc.stdout.split() == ["False", "2"], (args, proc.stdout, proc.stderr)
        assert "must be an integer" in proc.stderr


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """`genwidgets datasets | head`: when the reader has gone, exit with SIGPIPE's status and print nothing."""
    for command in (["datasets"], ["plugins"], ["datasets", "--json"]):
        errors = tmp_path / "stderr.txt"
        with errors.open("w") as err:
            proc = subprocess.Popen([BIN, *command], stdout=subprocess.PIPE, stderr=err)
            proc.stdout.close()  # the reader goes away before the command writes anything
            code = proc.wait(timeout=120)
        assert errors.read_text() == "" and code == 128 + signal.SIGPIPE, (command, code, errors.read_text())


def test_evaluate_says_why_a_group_was_skipped(tmp_path):
    """A group left out by --metrics is skipped for that reason (it printed `skipped (None)`)."""
    out = tmp_path / "vae"
    gw("train", "vae", "--data", "ring", "--preset", "tiny", "--steps", "2", "--out", str(out), "--quiet")
    proc = gw("evaluate", str(out), "--metrics", "modes", "--n", "200")
    assert "likelihood: skipped (not among the groups asked for (modes))" in proc.stdout.splitlines()
    assert "skipped (None)" not in proc.stdout
    result = json.loads(gw("evaluate", str(out), "--metrics", "modes", "--n", "200", "--json").stdout)
    assert result["skipped"]["likelihood"] == "not among the groups asked for (modes)"
