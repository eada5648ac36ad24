"""No user action loses data: saves never replace what genwidgets did not write, runs never mix.

Each test here reproduces a data-loss path found by trying the suite as a user would: saving over a
folder of the user's, a new run reusing another run's folder (pruning then deleted its checkpoints),
a crash mid-save or mid-prune leaving temporaries and half-deleted checkpoints, and a logger on a
full disk tearing ``metrics.csv``.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

import genwidgets as gw
from genwidgets import CheckpointError, RunError
from genwidgets.runtime import checkpoint as ckpt

TINY = {"preset": "tiny", "device": "cpu"}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _user_folder(folder: Path) -> dict[str, bytes]:
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("my notes\n")
    (folder / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return _tree(folder)


def _gan(tmp_path: Path, **options):
    options = {"steps": 20, "log_every": 5, "sample_every": 10, "checkpoint_every": 10, **options}
    return gw.train("gan", data="ring", start=False, **TINY, **options)


# ---- run.save(path) -------------------------------------------------------------------------
def test_save_refuses_a_folder_genwidgets_did_not_write(tmp_path):
    target = tmp_path / "mine"
    before = _user_folder(target)
    run = _gan(tmp_path)
    run.step(2)
    with pytest.raises(CheckpointError, match=r"holds files genwidgets did not write \(notes.txt, sub/\).*new or "
                                              r"empty folder"):
        run.save(target)
    assert _tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary or .old- folder left beside


def test_save_refuses_an_existing_file_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "results.bin"
    target.write_bytes(b"precious")
    run = _gan(tmp_path)
    run.step(1)
    with pytest.raises(CheckpointError, match=r"a file \(or link\) is already there and genwidgets did not write it"):
        run.save(target)
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.bin"]


def test_save_replaces_its_own_checkpoint_and_fills_an_empty_folder(tmp_path):
    run = _gan(tmp_path)
    run.step(1)
    first = run.save(tmp_path / "ckpt")
    run.step(1)
    assert run.save(tmp_path / "ckpt") == first
    assert ckpt.read_checkpoint(first)[1]["step"] == 2
    (tmp_path / "empty").mkdir()
    assert ckpt.read_checkpoint(run.save(tmp_path / "empty"))[1]["step"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "empty"]


def test_write_checkpoint_refuses_a_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    with pytest.raises(CheckpointError, match="a file \\(or link\\)"):
        ckpt.write_checkpoint(tmp_path / "link", {"w": torch.zeros(1)}, {"step": 0})
    assert list(real.iterdir()) == []


# ---- runs never mix in one folder ------------------------------------------------------------
def test_a_new_run_refuses_another_runs_folder_and_keeps_its_checkpoints(tmp_path):
    out = tmp_path / "run"
    gan = _gan(tmp_path, out=out, steps=30)
    gan.start().wait()
    kept = _tree(out / "checkpoints")
    assert [p.name for p in ckpt.list_checkpoints(out)] == ["step-00000010", "step-00000020", "step-00000030"]
    vae = gw.train("vae", data="ring", out=out, steps=5, start=False, **TINY)
    refusal = r"already holds another run's checkpoints \(steps 10-30\).*--resume .*new --out"
    with pytest.raises(RunError, match=refusal):
        vae.start()
    with pytest.raises(RunError, match="another run's checkpoints"):
        vae.step(1)
    assert _tree(out / "checkpoints") == kept
    assert gw.load_model(out).name == "gan"


def test_a_new_run_refuses_a_folder_with_another_runs_metrics(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("step,time\n1,0.1\n")
    run = _gan(tmp_path, out=out)
    with pytest.raises(RunError, match=r"another run's metrics.csv"):
        run.start()
    assert (out / "metrics.csv").read_text() == "step,time\n1,0.1\n"


def test_resume_continues_in_its_own_folder_but_refuses_to_mix_with_later_checkpoints(tmp_path):
    out = tmp_path / "run"
    _gan(tmp_path, out=out, steps=30).start().wait()
    resumed = gw.resume(out, steps=40, start=False)  # the newest checkpoint: continuing the same history
    resumed.start().wait()
    assert [p.name for p in ckpt.list_checkpoints(out)][-1] == "step-00000040"
    middle = gw.resume(out / "checkpoints" / "step-00000020", steps=50, start=False)
    with pytest.raises(RunError, match=r"also holds checkpoints after the one this run resumes from.*--out NEW_DIR"):
        middle.start()
    branch = gw.resume(out / "checkpoints" / "step-00000020", steps=25, out=tmp_path / "branch", start=False)
    branch.start().wait()
    assert [p.name for p in ckpt.list_checkpoints(tmp_path / "branch")] == ["step-00000025"]
    assert [p.name for p in ckpt.list_checkpoints(out)][-1] == "step-00000040"


def test_resume_of_a_loose_checkpoint_needs_out(tmp_path):
    run = _gan(tmp_path)
    run.step(2)
    loose = run.save(tmp_path / "loose")
    with pytest.raises(gw.ConfigError, match=r"not inside a run folder.*pass out="):
        gw.resume(loose, start=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loose"]


@pytest.mark.slow
def test_cli_refuses_to_reuse_a_longer_runs_out_folder(tmp_path):
    out = tmp_path / "run"
    common = ["--data", "ring", "--preset", "tiny", "--device", "cpu", "--out", str(out), "--quiet"]
    first = subprocess.run([sys.executable, "-m", "genwidgets", "train", "gan", "--steps", "40",
                            "--checkpoint-every", "10", *common], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    kept = _tree(out / "checkpoints")
    second = subprocess.run([sys.executable, "-m", "genwidgets", "train", "vae", "--steps", "5", *common],
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 1
    error_lines = [line for line in second.stderr.splitlines() if line.startswith("genwidgets: error:")]
    assert len(error_lines) == 1 and "--resume" in error_lines[0] and "Traceback" not in second.stderr
    assert _tree(out / "checkpoints") == kept


# ---- crashes mid-save and mid-prune ------------------------------------------------------------
def test_incomplete_checkpoints_are_never_listed(tmp_path):
    root = tmp_path / "checkpoints"
    good = ckpt.write_checkpoint(root / "step-00000010", {"w": torch.zeros(2)}, {"step": 10})
    half = ckpt.write_checkpoint(root / "step-00000020", {"w": torch.zeros(2)}, {"step": 20})
    (half / "state.json").unlink()  # what an interrupted rmtree used to leave under the real name
    assert ckpt.list_checkpoints(tmp_path) == [good]
    assert ckpt.resolve_checkpoint(tmp_path) == good


def test_stale_temporaries_of_dead_writers_are_cleaned_at_the_next_start(tmp_path):
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    for name in (f".tmp-step-00000500-{dead_pid}-ab12cd34", f".trash-step-00000400-{dead_pid}-00ff00ff",
                 f".tmp-step-00000600-{os.getpid()}-live0001", ".tmp-step-00000300-x1y2z3w4", "user-file"):
        (folder / name).mkdir()
        (folder / name / "weights.safetensors").write_bytes(b"0" * 100)
    legacy = folder / ".tmp-step-00000300-x1y2z3w4"
    old = time.time() - 2 * ckpt.LEGACY_STALE_SECONDS
    os.utime(legacy, (old, old))
    run = _gan(tmp_path, out=tmp_path / "run", steps=10)
    run.start().wait()
    left = sorted(p.name for p in folder.iterdir())
    assert left == [f".tmp-step-00000600-{os.getpid()}-live0001", "step-00000010", "user-file"]


KILL_MID_WRITE = textwrap.dedent("""
    import sys, torch
    from genwidgets.runtime import checkpoint as ckpt
    root = sys.argv[1]
    weights = {"w": torch.randn(4_000_000)}  # 16 MB: every write takes a while
    step = 0
    while True:
        step += 1
        ckpt.write_checkpoint(f"{root}/step-{step:08d}", weights, {"step": step})
        for old in ckpt.list_checkpoints(root)[:-2]:
            ckpt.remove_checkpoint(old)
""")


def _newest_step(root: Path) -> int:
    return max((int(p.name.removeprefix("step-")) for p in root.glob("step-*")), default=0)


@pytest.mark.slow
def test_kill_9_mid_save_or_prune_leaves_only_complete_checkpoints(tmp_path):
    for attempt in range(3):
        # A folder per attempt: the writer numbers its checkpoints from 1 and keeps the newest 2, so in a
        # shared folder it pruned its own new ones and "3 + attempt" of them never appeared (a 120 s wait).
        root = tmp_path / f"checkpoints-{attempt}"
        proc = subprocess.Popen([sys.executable, "-c", KILL_MID_WRITE, str(root)])
        deadline = time.monotonic() + 120
        while _newest_step(root) < 3 + attempt:  # it has written (and pruned) a few times
            assert proc.poll() is None, f"the writer exited with {proc.returncode}"
            assert time.monotonic() < deadline, f"only {_newest_step(root)} checkpoints written in 120 s"
            time.sleep(0.01)
        time.sleep(0.05 * attempt)  # vary where in a write or prune the kill lands
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        for path in ckpt.list_checkpoints(root):
            tensors, state = ckpt.read_checkpoint(path)  # every listed checkpoint is whole
            assert tensors["w"].numel() == 4_000_000
        ckpt.clean_stale_temporaries(root)
        assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


# ---- loggers on a full disk ------------------------------------------------------------------
FULL_DISK_TRAIN = textwrap.dedent("""
    import resource, signal, sys
    from genwidgets import cli
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    sys.exit(cli.main(sys.argv[2:]))
""")


@pytest.mark.slow
def test_a_full_disk_never_tears_metrics_csv_and_every_failure_is_reported(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "GENWIDGETS_LOAD_PLUGINS": "models,datasets,csv"}
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK_TRAIN, "3000", "train", "gan", "--data", "ring", "--preset", "tiny",
         "--device", "cpu", "--steps", "300", "--log-every", "1", "--sample-every", "50", "--checkpoint-every", "0",
         "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=300, env=env)
    text = (out / "metrics.csv").read_bytes().decode()
    assert text.endswith("\n")
    rows = list(csv.reader(text.splitlines()))
    assert len(rows) > 5 and all(len(row) == len(rows[0]) for row in rows)
    assert int(rows[-1][0]) < 300  # the limit was reached before the run ended
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert any("plugin 'csv' failed" in w and "File too large" in w for w in warnings), result.stderr
    assert any("sample grid of step" in w for w in warnings), result.stderr
    assert "Traceback" not in result.stderr
    # the final checkpoint does not fit either: the run fails cleanly, with one line, and nothing half-written
    assert result.returncode == 1 and "genwidgets: error: could not write checkpoint" in result.stderr
    assert ckpt.list_checkpoints(out) == [] and not [p for p in out.rglob(".*tmp*")]
