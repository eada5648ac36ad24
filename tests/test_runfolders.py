"""The run-folder reader behind the runs board: run cards, ``metrics.csv`` followed live, summaries, the index.

Most tests write run folders by hand in ``tmp_path`` (cards, CSVs, checkpoint folders, evaluation files)
so each case -- a damaged card, a torn CSV row, a replaced file, a crashed run -- is exact and fast; one
test trains a real tiny VAE and reads its folder back the way the board does.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import genwidgets
from genwidgets.errors import ConfigError
from genwidgets.runfolders import MetricsFile, MetricsFileError, RunsIndex, find_run_folders, last_row, summarise
from genwidgets.runfolders import evaluations as saved
from genwidgets.runfolders import metrics_file as metrics_file_module
from genwidgets.runfolders.runs import foreign_summary
from genwidgets.runtime import run_card
from genwidgets.runtime.history import MetricHistory

HEADER = "step,time,steps_per_sec,loss,kl\n"


# ---- helpers ----------------------------------------------------------------------------------------


def _rows(first: int, last: int) -> str:
    """CSV rows for steps ``first..last`` (inclusive), as the CSV logger writes them."""
    return "".join(f"{s},{1000 + s * 0.01:.3f},50,{1.0 / s:.6g},{s * 0.001:.6g}\n" for s in range(first, last + 1))


def _write_metrics(folder: Path, last: int, *, first: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.csv"
    path.write_text(HEADER + _rows(first, last))
    return path


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def _card(folder: Path, **changes) -> Path:
    """A run card as :func:`run_card.write_card` writes it, with ``changes`` applied."""
    folder.mkdir(parents=True, exist_ok=True)
    card = {run_card.MARK: 1, "model": "vae", "plugin": "models", "data": {"name": "digits", "options": {}},
            "config": {"lr": 1e-3, "beta": 1.0, "seed": 0}, "steps": 100, "state": "finished", "step": 100,
            "error": None, "pid": os.getpid(), "host": socket.gethostname(), "started": time.time() - 5,
            "updated": time.time(), "resumed_from": None, "edits": []}
    card.update(changes)
    path = folder / run_card.FILENAME
    path.write_text(json.dumps(card))
    return path


def _checkpoint(folder: Path, step: int, *, weights: bool = True) -> Path:
    ckpt = folder / "checkpoints" / f"step-{step:08d}"
    ckpt.mkdir(parents=True)
    (ckpt / "state.json").write_text(json.dumps({"model": "vae", "step": step}))
    if weights:
        (ckpt / "weights.safetensors").write_bytes(b"\0" * 16)
    return ckpt


def _dead_pid() -> int:
    """The pid of a process this test started and waited for (so it is gone)."""
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


# ---- MetricsFile and last_row ----------------------------------------------------------------------------


def test_follow_thins_exactly_like_metric_history(tmp_path):
    path = _write_metrics(tmp_path, 10_000)
    history = MetricHistory(200)
    for step in range(1, 10_001):
        history.append(step, {"loss": 1.0 / step})

    followed = MetricsFile(path, max_points=200)
    assert followed.follow() == 10_000
    assert followed.steps.tolist() == history.steps
    assert followed.stride == history.stride
    assert len(followed.rows) < 200
    assert np.allclose(followed.column("loss"), history.values["loss"], rtol=1e-5)
    steps, values = followed.curve("loss")
    assert steps[-1] == 10_000 and steps[:-1].tolist() == history.steps  # the curve ends at the newest row
    assert values[-1] == pytest.approx(1e-4)


def test_follow_in_pieces_keeps_the_same_rows_as_one_read(tmp_path, monkeypatch):
    """Appends cut mid-row, read in small chunks, thin to the same rows as MetricHistory."""
    monkeypatch.setattr(metrics_file_module, "CHUNK_BYTES", 1000)  # many chunks per read, cut mid-row
    text = _rows(1, 3000)
    path = tmp_path / "metrics.csv"
    path.write_text(HEADER)
    followed = MetricsFile(path, max_points=64)
    rng = np.random.default_rng(0)
    at, read = 0, 0
    while at < len(text):
        cut = min(len(text), at + int(rng.integers(1, 5000)))
        _append(path, text[at:cut])
        at = cut
        read += followed.follow()
    history = MetricHistory(64)
    for step in range(1, 3001):
        history.append(step, {"loss": 0.0})
    assert read == 3000
    assert followed.steps.tolist() == history.steps
    assert followed.last[0] == 3000


def test_follow_reads_only_the_appended_rows(tmp_path):
    path = _write_metrics(tmp_path, 50)
    followed = MetricsFile(path, max_points=1000)
    assert followed.follow() == 50
    assert followed.follow() == 0  # nothing new
    # Spoil a row already read, in place (same file, same size): a reader that re-reads the file would fail on it.
    data = path.read_bytes()
    start = data.index(b"\n10,") + 1
    end = data.index(b"\n", start)
    with open(path, "r+b") as fh:
        fh.seek(start)
        fh.write(b"x" * (end - start))
    _append(path, _rows(51, 60))
    assert followed.follow() == 10
    assert followed.steps.tolist() == list(range(1, 61))
    assert followed.column("kl")[-1] == pytest.approx(0.06)


def test_a_half_written_row_is_read_once_completed(tmp_path):
    path = _write_metrics(tmp_path, 5)
    followed = MetricsFile(path)
    assert followed.follow() == 5
    _append(path, "6,1000.06,50,0.1")  # the logger is mid-write
    assert followed.follow() == 0
    assert followed.steps.tolist() == [1, 2, 3, 4, 5]
    assert followed.curve("loss")[0][-1] == 5
    _append(path, "666,0.006\n")
    assert followed.follow() == 1
    assert followed.steps[-1] == 6
    assert followed.column("loss")[-1] == pytest.approx(0.1666)
    assert followed.column("kl")[-1] == pytest.approx(0.006)


def test_an_empty_field_is_nan(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(HEADER + "1,1000.0,50,0.5,0.1\n2,1000.1,50,,0.2\n3,1000.2,50,0.3,\n")
    followed = MetricsFile(path)
    assert followed.follow() == 3
    loss, kl = followed.column("loss"), followed.column("kl")
    assert loss[0] == 0.5 and math.isnan(loss[1]) and loss[2] == pytest.approx(0.3)
    assert math.isnan(kl[2]) and kl[1] == pytest.approx(0.2)
    row = last_row(path)
    assert row["loss"] == pytest.approx(0.3) and math.isnan(row["kl"])


def test_a_non_numeric_row_raises_naming_the_row(tmp_path):
    path = _write_metrics(tmp_path, 4)
    followed = MetricsFile(path)
    assert followed.follow() == 4
    _append(path, "5,1000.05,50,0.2,0.005\n6,1000.06,50,oops,0.006\n7,1000.07,50,0.1,0.007\n")
    with pytest.raises(MetricsFileError, match=r"row 6\b"):
        followed.follow()
    # The bad row is still there: asking again must fail again, not skip past it to a truncated curve.
    with pytest.raises(MetricsFileError, match=r"row 6\b"):
        followed.follow()
    assert followed.steps.tolist() == [1, 2, 3, 4]


def test_a_row_with_the_wrong_number_of_fields_raises(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(HEADER + "1,1000.0,50,0.5,0.1\n2,1000.1,50,0.4\n")
    with pytest.raises(MetricsFileError, match="4 fields, the header 5"):
        MetricsFile(path).follow()


def test_a_replaced_file_is_read_again_from_the_start(tmp_path):
    path = _write_metrics(tmp_path, 20)
    followed = MetricsFile(path)
    assert followed.follow() == 20
    new = tmp_path / "metrics.csv.new"  # another run's file, longer, with other columns, moved into place
    new.write_text("step,time,steps_per_sec,d_loss\n" + "".join(f"{s},{s}.0,9,{s * 2}\n" for s in range(1, 41)))
    assert new.stat().st_ino != path.stat().st_ino
    os.replace(new, path)
    assert followed.follow() == 40
    assert followed.columns == ["step", "time", "steps_per_sec", "d_loss"]
    assert followed.steps.tolist() == list(range(1, 41))
    assert followed.curve("d_loss")[1][-1] == 80
    with pytest.raises(ValueError):
        followed.curve("loss")


def test_a_truncated_file_is_read_again_from_the_start(tmp_path):
    path = _write_metrics(tmp_path, 30)
    followed = MetricsFile(path)
    followed.follow()
    with open(path, "r+", encoding="utf-8") as fh:  # same inode, shorter: a run restarted into the folder
        fh.truncate(0)
        fh.write(HEADER + _rows(1, 3))
    assert followed.follow() == 3
    assert followed.steps.tolist() == [1, 2, 3]


def test_not_a_metrics_header_is_refused(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,acc\n1,0.5\n")
    with pytest.raises(MetricsFileError, match="genwidgets"):
        MetricsFile(path).follow()
    with pytest.raises(MetricsFileError):
        last_row(path)
    with pytest.raises(ValueError):
        MetricsFile(path, max_points=3)


def test_last_row_of_a_header_only_file_is_none(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(HEADER)
    assert last_row(path) is None


def test_last_row_of_a_large_file_reads_the_tail(tmp_path):
    path = tmp_path / "metrics.csv"
    # A large file whose early rows are not even numbers: only the tail is read, so it does not matter.
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER + "garbage,x,y,z,w\n" + _rows(1, 60_000))
    assert path.stat().st_size > 100 * metrics_file_module.TAIL_BYTES
    row = last_row(path)
    assert row == {"step": 60_000, "time": pytest.approx(1600.0), "steps_per_sec": 50,
                   "loss": pytest.approx(1 / 60_000, rel=1e-5), "kl": pytest.approx(60.0)}
    _append(path, "60001,1600.01,50,0.5")  # a row being written: the newest complete row is still the answer
    assert last_row(path)["step"] == 60_000


# ---- find_run_folders and summarise ----------------------------------------------------------------------


def test_find_run_folders_walks_sweeps_and_skips_hidden(tmp_path):
    _card(tmp_path / "sweep" / "lr=1e-3")
    _write_metrics(tmp_path / "sweep" / "lr=1e-2", 3)
    _checkpoint(tmp_path / "old", 10)
    (tmp_path / "sweep" / "notes").mkdir()
    _card(tmp_path / ".trash" / "deleted")
    (tmp_path / "readme-only").mkdir()
    (tmp_path / "readme-only" / "README.md").write_text("not a run")
    (tmp_path / "sweep" / "lr=1e-3" / "samples").mkdir()

    runs, foreign = find_run_folders(tmp_path)
    assert runs == [tmp_path / "old", tmp_path / "sweep" / "lr=1e-2", tmp_path / "sweep" / "lr=1e-3"]
    assert foreign == [tmp_path / "readme-only", tmp_path / "sweep" / "notes"]
    assert find_run_folders(tmp_path / "old") == ([tmp_path / "old"], [])  # the root may be a run itself

    row = foreign_summary(tmp_path / "readme-only", tmp_path)
    assert (row.id, row.state) == ("readme-only", "foreign") and "not a genwidgets run" in row.error


def test_summarise_reads_card_metrics_checkpoints_evaluations_and_grids(tmp_path):
    run = tmp_path / "sweep" / "a"
    _card(run, state="running", step=20, edits=[[10, {"lr": 1e-4}]])
    _write_metrics(run, 30)
    _checkpoint(run, 10)
    _checkpoint(run, 20)
    (run / "samples").mkdir()
    for step in (20, 10, 30):
        (run / "samples" / f"step-{step:08d}.png").write_bytes(b"png")
    (run / "samples" / "notes.png").write_bytes(b"png")
    saved.save_evaluation({"model": "vae", "metrics": {"images": {"fid": 40.0, "n": 100}}},
                          run / "checkpoints" / "step-00000010")
    saved.save_evaluation({"model": "vae", "metrics": {"images": {"fid": 30.0, "n": 100}}},
                          run / "checkpoints" / "step-00000020")

    summary = summarise(run, tmp_path)
    assert summary.id == "sweep/a"
    assert (summary.model, summary.data, summary.steps) == ("vae", "digits", 100)
    assert summary.state == "running"  # this process is alive
    assert summary.step == 30  # the metrics are newer than the card
    assert summary.metrics == {"loss": pytest.approx(1 / 30), "kl": pytest.approx(0.03)}
    assert summary.checkpoints == [10, 20]
    assert summary.grids == [10, 20, 30]
    assert summary.evaluation_step == 20 and summary.evaluation == {"images.fid": 30.0}
    assert summary.edits == [[10, {"lr": 1e-4}]]
    assert summary.error is None
    row = summary.to_row()
    assert row["grids"] == 3 and row["config"] == {"lr": 1e-3, "beta": 1.0, "seed": 0}
    json.dumps(row, allow_nan=False)


def test_a_card_saying_running_whose_process_is_gone_is_crashed(tmp_path):
    pid = _dead_pid()
    _card(tmp_path / "dead", state="running", pid=pid)
    _card(tmp_path / "paused", state="paused", pid=pid)
    _card(tmp_path / "elsewhere", state="running", pid=pid, host=socket.gethostname() + "-other")
    _card(tmp_path / "done", state="finished", pid=pid)
    _card(tmp_path / "alive", state="running", pid=os.getpid())
    states = {p.name: summarise(p, tmp_path).state for p in find_run_folders(tmp_path)[0]}
    # Another host's pid says nothing here; a finished run's process is meant to be gone.
    assert states == {"dead": "crashed", "paused": "crashed", "elsewhere": "running", "done": "finished",
                      "alive": "running"}
    assert run_card.process_gone({"state": "running", "pid": pid, "host": socket.gethostname()})
    assert not run_card.process_gone({"state": "running", "pid": None, "host": socket.gethostname()})


def test_damaged_folders_are_listed_with_errors_without_spoiling_the_others(tmp_path):
    _card(tmp_path / "good", step=30)
    _write_metrics(tmp_path / "good", 30)
    (tmp_path / "bad-card").mkdir()
    (tmp_path / "bad-card" / "run.json").write_text('{"genwidgets_run": 1, "model": ')  # torn
    _write_metrics(tmp_path / "bad-card", 7)
    _card(tmp_path / "bad-checkpoint", step=20)
    _checkpoint(tmp_path / "bad-checkpoint", 10)
    _checkpoint(tmp_path / "bad-checkpoint", 20, weights=False)
    _card(tmp_path / "bad-csv")
    (tmp_path / "bad-csv" / "metrics.csv").write_text("epoch,accuracy\n1,0.9\n")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "readme.txt").write_text("hello")

    index = RunsIndex(tmp_path)
    index.refresh()
    rows = {row["id"]: row for row in index.rows()}
    assert set(rows) == {"good", "bad-card", "bad-checkpoint", "bad-csv", "foreign"}

    assert rows["good"]["error"] is None and rows["good"]["state"] == "finished"
    assert rows["good"]["metrics"]["loss"] == pytest.approx(1 / 30)

    assert "run.json" in rows["bad-card"]["error"]
    assert rows["bad-card"]["step"] == 7 and rows["bad-card"]["metrics"]["kl"] == pytest.approx(0.007)

    assert "step-00000020" in rows["bad-checkpoint"]["error"]
    assert rows["bad-checkpoint"]["checkpoints"] == [10] and rows["bad-checkpoint"]["state"] == "finished"

    assert rows["bad-csv"]["error"].startswith("metrics.csv") and rows["bad-csv"]["model"] == "vae"
    assert rows["bad-csv"]["metrics"] == {}

    assert rows["foreign"]["state"] == "foreign" and rows["foreign"]["error"]


def test_a_folder_of_checkpoints_without_a_card_is_summarised_from_the_newest(tmp_path):
    run = tmp_path / "old-run"
    for step in (10, 20):
        ckpt = _checkpoint(run, step)
        (ckpt / "state.json").write_text(json.dumps({
            "model": "dcgan", "step": step, "data": {"name": "mnist"}, "config": {"lr_g": 2e-4 * step},
            "run": {"steps": 20, "edits": [[5, {"lr_g": 1e-4}]]}}))
    summary = summarise(run, tmp_path)
    assert (summary.model, summary.data, summary.state, summary.step) == ("dcgan", "mnist", "saved", 20)
    assert summary.config == {"lr_g": pytest.approx(4e-3)} and summary.edits == [[5, {"lr_g": 1e-4}]]
    assert summary.error is None


# ---- RunsIndex ----------------------------------------------------------------------------------------------


def test_index_refresh_re_reads_only_what_changed(tmp_path):
    for name in ("a", "b", "c"):
        _card(tmp_path / name)
        _write_metrics(tmp_path / name, 10)
    index = RunsIndex(tmp_path)
    first = index.refresh()
    assert sorted(first.changed) == ["a", "b", "c"] and first.removed == []

    again = index.refresh()
    assert not again and again.changed == [] and again.removed == []

    _append(tmp_path / "b" / "metrics.csv", _rows(11, 12))
    grown = index.refresh()
    assert grown.changed == ["b"] and grown.removed == []
    assert {r["id"]: r["step"] for r in index.rows()} == {"a": 100, "b": 100, "c": 100}
    assert index.runs["b"].metrics["loss"] == pytest.approx(1 / 12)

    shutil.rmtree(tmp_path / "c")
    gone = index.refresh()
    assert gone.changed == [] and gone.removed == ["c"]
    assert [r["id"] for r in index.rows()] == ["a", "b"]
    with pytest.raises(FileNotFoundError):
        RunsIndex(tmp_path / "c")


def test_index_sees_a_card_rewritten_with_the_same_size_and_time(tmp_path):
    """A card is replaced atomically; on a coarse-clocked file system its size and time may not change."""
    path = _card(tmp_path / "a", state="running", updated=1.0)
    index = RunsIndex(tmp_path)
    index.refresh()
    before = path.stat()
    tmp = tmp_path / "a" / ".run.json.tmp"
    tmp.write_text(path.read_text().replace('"running"', '"stopped"'))
    os.replace(tmp, path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert index.refresh().changed == ["a"]
    assert index.runs["a"].state == "stopped"


def test_index_reports_a_run_folder_that_lost_its_files(tmp_path):
    _write_metrics(tmp_path / "a", 3)
    _write_metrics(tmp_path / "b", 3)
    index = RunsIndex(tmp_path)
    index.refresh()
    (tmp_path / "a" / "metrics.csv").unlink()
    (tmp_path / "a" / "notes.txt").write_text("the run was moved away")
    refresh = index.refresh()
    assert refresh.changed == ["a"] and refresh.removed == []
    assert index.runs["a"].state == "foreign"
    assert not index.refresh()  # a foreign folder that stays foreign is not reported again


def test_varied_config_lists_exactly_the_fields_that_differ(tmp_path):
    _card(tmp_path / "v1", config={"lr": 1e-3, "beta": 1.0, "seed": 0, "hidden": [32]})
    _card(tmp_path / "v2", config={"lr": 1e-3, "beta": 4.0, "seed": 0, "hidden": [32]})
    _card(tmp_path / "v3", config={"lr": 1e-3, "beta": 4.0, "seed": 1, "hidden": [32]})
    # Another family's lr differs, but fields are compared within a family only.
    _card(tmp_path / "g1", model="dcgan", config={"lr": 2e-4, "hidden": [32]})
    index = RunsIndex(tmp_path)
    index.refresh()
    assert index.varied_config() == ["beta", "seed"]
    _card(tmp_path / "v4", config={"lr": 1e-3, "beta": 4.0, "seed": 1, "hidden": [64, 64]})
    index.refresh()
    assert index.varied_config() == ["beta", "hidden", "seed"]


def test_curves_and_metric_names(tmp_path):
    _card(tmp_path / "a")
    _write_metrics(tmp_path / "a", 10)
    _card(tmp_path / "g", model="dcgan")
    (tmp_path / "g" / "metrics.csv").write_text("step,time,steps_per_sec,d_loss\n1,0.0,5,0.7\n")
    _card(tmp_path / "fresh")  # started, nothing logged yet
    saved.save_evaluation({"metrics": {"images": {"fid": 12.5}}}, tmp_path / "a" / "checkpoints" / "step-00000010")
    index = RunsIndex(tmp_path, max_points=100)
    index.refresh()
    assert index.metric_names() == ["d_loss", "kl", "loss", "images.fid"]

    curves = index.curves(["a", "g", "fresh", "unknown"], "loss")
    steps, values = curves["a"]
    assert steps.tolist() == list(range(1, 11)) and values[-1] == pytest.approx(0.1)
    assert isinstance(curves["g"], str) and "loss" in curves["g"]
    assert curves["fresh"] == "no metrics.csv yet"
    assert "unknown" not in curves

    _append(tmp_path / "a" / "metrics.csv", _rows(11, 15))
    steps, _ = index.curves(["a"], "loss")["a"]
    assert steps[-1] == 15
    _append(tmp_path / "a" / "metrics.csv", "16,1.0,50,bad,0.1\n")
    assert "row 16" in index.curves(["a"], "loss")["a"]


# ---- evaluations kept beside a run ---------------------------------------------------------------------------


def test_saved_evaluations_merge_groups_and_refuse_a_foreign_file(tmp_path):
    run = tmp_path / "run"
    checkpoint = run / "checkpoints" / "step-00000040"
    first = {"model": "vae", "data": "digits", "seed": 0, "seconds": {"images": 3.0},
             "metrics": {"images": {"fid": 41.2, "n": 500, "bins": 20, "note": "ok", "per_class": [1, 2],
                                    "ok": True}}}
    path = saved.save_evaluation(first, checkpoint)
    assert path == run / "evaluations" / "step-00000040.json"
    second = {"model": "vae", "data": "digits", "seed": 7, "seconds": {"disentanglement": 1.5},
              "metrics": {"disentanglement": {"mig": 0.31, "bins": 20}}}
    saved.save_evaluation(second, checkpoint)
    content = json.loads(path.read_text())
    assert content[saved.MARK] == 1 and content["step"] == 40
    assert set(content["metrics"]) == {"images", "disentanglement"}
    assert content["seed"] == {"images": 0, "disentanglement": 7}
    assert content["seconds"] == {"images": 3.0, "disentanglement": 1.5}
    assert saved.scalar_metrics(content) == {"images.fid": 41.2, "disentanglement.mig": 0.31}

    saved.save_evaluation({"metrics": {"images": {"fid": 38.0}}}, checkpoint)  # measured again: replaced
    assert saved.scalar_metrics(saved.load_evaluations(run)[40]) == {"images.fid": 38.0, "disentanglement.mig": 0.31}

    foreign = saved.evaluation_path(run, 60)
    foreign.write_bytes(b'{"fid": 1.0}\n')
    with pytest.raises(ConfigError, match="not written by genwidgets"):
        saved.save_evaluation(first, run / "checkpoints" / "step-00000060")
    assert foreign.read_bytes() == b'{"fid": 1.0}\n'
    assert list(saved.load_evaluations(run)) == [40]  # the foreign file is not read as an evaluation

    assert saved.run_dir_of(run / "step-00000070") == run  # a checkpoint written straight into the run folder
    with pytest.raises(ConfigError, match="step-N"):
        saved.save_evaluation(first, run / "checkpoints" / "best")


def test_scalar_metrics_keeps_only_finite_measured_numbers():
    evaluation = {"metrics": {
        "images": {"fid": 12, "n": 1000, "k": 3, "seed": 0, "precision": 0.5, "nan": float("nan"),
                   "inf": float("inf"), "flag": False, "text": "x", "curve": [0.1], "fid_per_label": {"0": 3.0}},
        "disentanglement": {"mig": {"mig": 0.31, "bins": 20, "per_factor": {"scale": 0.1}},
                            "factor_vae": {"accuracy": 0.8, "n": 50}},
        "skipped": "not a group of numbers"}}
    assert saved.scalar_metrics(evaluation) == {
        "images.fid": 12.0, "images.precision": 0.5, "disentanglement.mig": 0.31,
        "disentanglement.factor_vae.accuracy": 0.8}


# ---- one real run -------------------------------------------------------------------------------------------


def test_a_real_run_writes_a_card_the_board_reads(tmp_path):
    out = tmp_path / "r"
    run = genwidgets.train("vae", data="digits", preset="tiny", steps=40, out=out, log_every=10, sample_every=20,
                           checkpoint_every=20, device="cpu", schedule={20: {"lr": 1e-4}})
    run.wait()
    assert run.events.flush(30.0)

    card = run_card.read_card(out)
    assert card is not None
    assert (card["state"], card["step"], card["steps"], card["model"]) == ("finished", 40, 40, "vae")
    assert card["data"]["name"] == "digits"
    assert card["config"] == run.model.config.to_dict() and card["config"]["lr"] == pytest.approx(1e-4)
    assert card["edits"] == [[20, {"lr": 1e-4}]]
    assert card["pid"] == os.getpid() and card["error"] is None and card["started"] <= card["updated"]
    assert not run_card.process_gone(card)

    index = RunsIndex(tmp_path)
    assert index.refresh().changed == ["r"]
    summary = index.runs["r"]
    assert (summary.state, summary.step, summary.data, summary.error) == ("finished", 40, "digits", None)
    assert summary.checkpoints == [20, 40]
    assert summary.grids == [20, 40]
    assert {"loss", "kl"} <= set(summary.metrics)
    assert summary.metrics["loss"] == pytest.approx(run.latest_metrics["loss"], rel=1e-5)
    assert summary.edits == [[20, {"lr": 1e-4}]]
    steps, _ = index.curves(["r"], "loss")["r"]
    assert steps.tolist() == [10, 20, 30, 40]
    assert not index.refresh()
