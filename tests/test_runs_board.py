"""The runs board's Python side: what it sends (rows, curves, grids), its polling, opening runs, its fallbacks.

The browser tests (tests/browser/test_board.py) check what a person sees; these check the messages and
rules behind it on hand-written run folders, without a front end.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genwidgets import board_app
from genwidgets.errors import ConfigError
from genwidgets.runtime import run_card
from genwidgets.widgets.runs_board import RunsBoard, _grid_at
from genwidgets.widgets.wire import unpack

HEADER = "step,time,steps_per_sec,loss,kl\n"


def _run(root: Path, name: str, *, beta: float, rows: int, state: str = "finished", grids: tuple[int, ...] = (),
         checkpoints: tuple[int, ...] = ()) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    card = {run_card.MARK: 1, "model": "beta_vae", "plugin": "models", "data": {"name": "digits", "options": {}},
            "config": {"beta": beta, "seed": 0, "lr": 1e-3}, "steps": rows, "state": state, "step": rows,
            "error": None, "pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
            "updated": time.time(), "resumed_from": None, "edits": [[rows // 2, {"lr": 1e-4}]],
            "capabilities": ["sample", "encode", "decode"]}
    (folder / "run.json").write_text(json.dumps(card))
    (folder / "metrics.csv").write_text(HEADER + "".join(f"{s},{s},9,{1 / s:.6g},{beta * 0.1:.6g}\n"
                                                         for s in range(1, rows + 1)))
    for step in grids:
        (folder / "samples").mkdir(exist_ok=True)
        Image.fromarray(np.full((4, 4), step % 256, np.uint8)).save(folder / "samples" / f"step-{step:08d}.png")
    for step in checkpoints:
        ckpt = folder / "checkpoints" / f"step-{step:08d}"
        ckpt.mkdir(parents=True)
        (ckpt / "state.json").write_text("{}")
        (ckpt / "weights.safetensors").write_bytes(b"")
    return folder


@pytest.fixture
def board(tmp_path: Path):
    _run(tmp_path, "beta=1", beta=1.0, rows=5000, grids=(10, 20, 30), checkpoints=(5000,))
    _run(tmp_path, "beta=4", beta=4.0, rows=300, grids=(10, 20), state="running")
    widget = RunsBoard(tmp_path, interval=60.0, max_points=100, opener=lambda path, view: (path.name, view))
    yield widget
    widget.close()


def test_rows_varied_fields_and_the_default_choices(board: RunsBoard) -> None:
    assert [r["id"] for r in board.rows] == ["beta=1", "beta=4"]
    assert board.varied == ["beta"]  # seed and lr are the same in both runs
    assert board.metric == "loss" and board.param == "beta" and board.selected == ["beta=1", "beta=4"]
    assert board.rows[0]["views"] == ["panel", "explorer"]  # beta_vae decodes, does not discriminate
    assert board.rows[1]["views"] == []  # no checkpoint yet: nothing to open


def test_curves_are_float64_buffers_bounded_by_max_points_and_end_at_the_newest_row(board: RunsBoard) -> None:
    content, buffers = board.curves_message()
    message = unpack(content, buffers)
    first, second = message["curves"]
    assert first["steps"].dtype == np.float64 and len(first["steps"]) <= 101  # 100 kept + the newest row
    assert first["steps"][-1] == 5000 and first["values"][-1] == pytest.approx(1 / 5000, rel=1e-5)
    assert len(second["steps"]) <= 101 and second["steps"][-1] == 300 and first["edits"] == [[2500, {"lr": 1e-4}]]
    assert sum(len(b) for b in buffers) <= 2 * 2 * 101 * 8


def test_grids_at_a_step_are_the_newest_saved_at_or_before_it(board: RunsBoard) -> None:
    assert board.grid_steps == [10, 20, 30]
    board.grid_step = 25
    content, buffers = board.grids_message()
    grids = unpack(content, buffers)["grids"]
    assert [(g["id"], g["step"]) for g in grids] == [("beta=1", 20), ("beta=4", 20)]
    image = Image.open(io.BytesIO(bytes(grids[0]["png"])))
    assert np.asarray(image)[0, 0] == 20
    assert _grid_at([10, 20, 30], -1) == 30 and _grid_at([10, 20, 30], 5) == 10


def test_poll_follows_new_rows_and_new_runs(board: RunsBoard, tmp_path: Path) -> None:
    sent: list[dict] = []
    board.send = lambda content, buffers=None: sent.append(unpack(content, buffers or []))  # type: ignore[method-assign]
    assert board.poll() is False and sent == []  # nothing changed, nothing sent
    with open(tmp_path / "beta=4" / "metrics.csv", "a") as fh:
        fh.write("301,301,9,0.5,0.4\n")
    board.poll()
    curves = [m for m in sent if m["op"] == "curves"]
    assert curves and curves[-1]["curves"][1]["steps"][-1] == 301
    assert [m["op"] for m in sent].count("grids") == 1  # the first time; a new metrics row is no new grid
    sent.clear()
    with open(tmp_path / "beta=4" / "metrics.csv", "a") as fh:
        fh.write("302,302,9,0.5,0.4\n")
    board.poll()
    assert [m["op"] for m in sent] == ["curves", "rows"]
    assert [r["id"] for r in sent[1]["rows"]] == ["beta=4"] and sent[1]["rows"][0]["step"] == 302  # the changed row
    sent.clear()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "beta=4" / "samples" / "step-00000030.png")
    board.poll()
    assert [m["op"] for m in sent] == ["rows", "grids"] and sent[-1]["grids"][1]["step"] == 30
    _run(tmp_path, "beta=8", beta=8.0, rows=10)
    refreshed = board.refreshed
    sent.clear()
    assert board.poll() is True
    assert [r["id"] for r in board.rows][-1] == "beta=8" and board.refreshed == refreshed + 1
    assert sent[0] == {"op": "rows", "rows": [board.rows[-1]], "removed": []}
    shutil.rmtree(tmp_path / "beta=8")
    sent.clear()
    board.poll()
    assert sent == [{"op": "rows", "rows": [], "removed": ["beta=8"]}] and len(board.rows) == 2


def test_opening_a_run_uses_the_opener_and_refuses_what_cannot_open(board: RunsBoard) -> None:
    assert board.open_run("beta=1", "explorer") == ("beta=1", "explorer")
    assert board.message == "opened beta=1 in the explorer"
    with pytest.raises(ConfigError, match="no checkpoint yet"):
        board.open_run("beta=4", "explorer")
    with pytest.raises(ConfigError, match="unknown view"):
        board.open_run("beta=1", "tensorboard")
    with pytest.raises(KeyError):
        board.open_run("nope", "panel")
    board._request("open", {"id": "beta=4", "view": "panel"})  # from the front end: a message, not an exception
    assert "could not open 'beta=4'" in board.message


def test_a_running_run_is_not_resumed_into_a_second_writer(tmp_path: Path) -> None:
    _run(tmp_path, "live", beta=1.0, rows=50, state="running", checkpoints=(40,))
    widget = RunsBoard(tmp_path, interval=60.0, opener=lambda path, view: view)
    try:
        with pytest.raises(ConfigError, match="training in another process"):
            widget.open_run("live", "panel")
        assert widget.open_run("live", "explorer") == "explorer"
    finally:
        widget.close()


def test_the_board_imports_and_opens_without_torch(tmp_path: Path) -> None:
    """A board over run folders with cards needs no torch (2 s of a kernel's start): the page opens in a second."""
    _run(tmp_path, "beta=1", beta=1.0, rows=20, grids=(10,), checkpoints=(20,))
    code = ("import sys, genwidgets as gw; b = gw.board(sys.argv[1]); "
            "print(b.widget.rows[0]['views'], 'torch' in sys.modules); b.close()")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.stdout.split("\n")[0] == "['panel', 'explorer'] False", out.stdout + out.stderr


def test_the_png_fallback_lists_the_runs(board: RunsBoard) -> None:
    image = Image.open(io.BytesIO(board.to_png()))
    assert image.format == "PNG" and image.size[1] >= 40 + 16 * 4


def test_the_page_notebook_and_its_refusals(tmp_path: Path) -> None:
    nb = board_app.board_notebook(tmp_path, 0.5)
    assert nb["cells"][0]["source"] == f"import genwidgets as gw\ngw.board({str(tmp_path)!r}, interval=0.5)"
    command = board_app.voila_command(tmp_path / "x.ipynb", port=8999, theme="dark")
    assert "--Voila.ip=127.0.0.1" in command and "--theme=dark" in command and "--port=8999" in command
    with pytest.raises(ConfigError, match="is not a folder"):
        board_app.serve(tmp_path / "missing", open_browser=False)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        RunsBoard(tmp_path / "missing")
