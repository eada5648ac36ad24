"""Runs board at scale: opening, polling, following live runs, loading curves, memory; synthetic run folders.

    nice -n 10 .venv/bin/python benchmarks/board.py [--runs 200] [--rows 100000] [--repeats 7] [--dir PATH]
    .venv/bin/python benchmarks/board.py --quick          # small sizes, a smoke run

The product requirement: a board over 200 run folders with 100k metric rows each opens in <= 2 s and
follows live runs at <= 1 s lag, in bounded memory (curves downsampled for display, sent as binary columns).

**The data.** ``--runs`` synthetic run folders (default 200) under ``--dir`` (kept and reused on the next
call when its parameters match) or a temporary folder, in four sweep-like folders
(``sweep-0/beta=4,seed=1`` ...). Each holds what a ``beta_vae`` run writes: ``run.json`` (the keys of
:func:`genwidgets.runtime.run_card.card_of`, marked ``genwidgets_run: 1``, ``capabilities`` included, so
the board needs no plugin registry), ``metrics.csv`` of
``--rows`` rows (default 100,000; columns ``step,time,steps_per_sec,loss,recon,kl,elbo`` formatted as the
CSV logger writes them, CRLF line ends included), 20 PNG sample grids (``samples/step-XXXXXXXX.png``, about
16 kB each, plus ``samples.png``), one complete checkpoint folder (tiny dummy ``state.json`` and
``weights.safetensors``: the reader only checks that they exist) and, for finished runs, one saved
evaluation. ``--live`` runs (default 4, spread over the sweeps) have cards that say ``running`` (with this
process's pid, so they do not read as crashed); the others say ``finished``. A second tree of the same runs
with a tenth of the rows, and 1/4-size trees of symlinks into both, serve the memory comparison. A kept tree
whose cards are older than :data:`CARD_VERSION` gets new cards, not new data.

**The board** is :class:`~genwidgets.widgets.RunsBoard`, constructed outside a kernel. Its comm is
replaced (as in ``heatmap.py``) by one that does what ipykernel does with each message before the
socket: JSON-encode it and copy its buffers; it counts the bytes per kind of message (``state``: synced
traits; ``rows``: the table rows a poll changed; ``rows (whole table)``: the table a hello sends;
``curves``; ``grids``; ``comm_open``: the widget's initial state) and the table rows sent, and notes when
each ``curves`` message goes out and the newest step of each curve in it. The board's own poll thread
runs only in the live-lag measurement; elsewhere the board gets ``interval=3600`` and is driven by hand.

What is measured (medians over ``--repeats`` alternating repeats unless said otherwise):

* **open**: constructing ``RunsBoard(root)`` (find the folders, summarise each from its card, checkpoint
  and sample listings, evaluation and the tail of its CSV; build the table rows; open the comm with the
  whole state), a new widget each time; the same followed by the front end's ``hello`` (``_hello``: the
  4 selected runs' curves, first read, and grids sent), which is when a displayed board has drawn
  everything; and a bare ``RunsIndex(root).refresh()``. Each with the OS file cache warm, and "cold":
  every file's cached pages dropped first with ``posix_fadvise(DONTNEED)`` (directories stay cached; the
  VM host may still cache the disk). Also the bytes one open + hello sends, by kind. And the first board
  in a fresh interpreter (3 interpreters), alone and with the imports it needs (``import genwidgets``,
  then the board's module), then its hello; and whether ``torch`` is in ``sys.modules`` after the
  imports, after opening and after the hello (the board should never import it), and the interpreter's
  RSS then. Target <= 2 s.
* **poll, nothing changed**: one ``board.poll()`` with 4 runs' curves followed and no file changing,
  the steady cost of following all runs (ms per poll = thousandths of a core at a 1 s poll, twice that at
  the default 0.5 s).
* **live lag**: a writer process appends rows to the ``--live`` runs' ``metrics.csv`` (100 rows/s each,
  whole CRLF rows with one ``write`` as the CSV logger does, the wall-clock write time in the ``time``
  column) for ``--live-seconds`` while the board, with those runs selected and a front end's hello
  answered (the whole table sent, the curves first read, the grids sent), polls on its own thread at each
  ``--interval`` (default 0.5 s, the board's default; the poller runs at a fixed rate). A row's lag is
  from its write to the first ``curves`` message whose curve for that run reaches the row's step;
  every row written counts (the writer stops, then the board gets 2.5 intervals to show the last rows).
  Target: p95 <= 1 s. Also the duration of each poll, the bytes and messages sent per poll (all polls,
  the last idle ones included), by message kind, and the table rows per ``rows`` message.
* **curve load**: ``curves_message()`` for the 4 default selected runs (``--rows`` rows each), first
  read (the followed files dropped before each), and the message size (JSON content + binary buffers),
  bounded by ``max_points`` (2,000 rows kept per curve).
* **memory**: in a fresh interpreter per case (registry and torch loaded first, as in the first runs of
  this benchmark, though the board no longer needs them; the probe also checks that the synthetic cards'
  ``capabilities`` are beta_vae's), the growth of the
  resident set (RSS, sampled every ms from ``/proc/self/statm``: peak and after) from opening a board,
  following 4 curves (first read) and 3 polls; the same with glibc's mmap threshold pinned (see
  :func:`measure_memory`); and tracemalloc's peak and retained bytes for the same work. Cases: N/4 and N
  runs, R/10 and R rows, and N runs of R rows whose 4 followed runs have 10 R rows, against the data's
  size on disk. Bounded means: the peaks do not grow with the followed files' length (past the 4 MB
  chunk a first read parses at a time) and stay far below the data's size.

Prints a Markdown table of the figures with the targets and pass/miss, the machine, and the memory table.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _common import comm_class
from comm.base_comm import BaseComm

from genwidgets.widgets.wire import unpack

PAGE = os.sysconf("SC_PAGE_SIZE")
COLUMNS = ["step", "time", "steps_per_sec", "loss", "recon", "kl", "elbo"]
#: One CSV row as the CSV logger formats it (``step``, ``time:.3f``, ``steps_per_sec:.4g``, metrics ``:.6g``).
ROW_FORMAT = "%d,%.3f,%.4g,%.6g,%.6g,%.6g,%.6g\r\n"
LOG_EVERY = 10
GRIDS = 20
BETAS = (1, 2, 4, 8, 16)
SWEEPS = 4
LR = (5e-4, 1e-4, 1e-3, 2e-4)
MARKER = ".board-bench.json"
TREE_VERSION = 2
#: 2: cards carry ``capabilities`` (as ``card_of`` writes them since the board stopped needing the registry).
CARD_VERSION = 2
#: beta_vae's ``capabilities.names()``, as ``card_of`` writes them (checked by the memory probe, which loads the
#: registry: this process must not import torch).
CAPABILITIES = ["sample", "encode", "decode"]
MAX_POINTS = 2000


# ---- synthetic run folders -------------------------------------------------------------------------------
def run_ids(runs: int) -> list[str]:
    """The folder of each synthetic run, relative to the tree's root, in generation order."""
    per = -(-runs // SWEEPS)
    return [f"sweep-{i // per}/beta={BETAS[(i % per) % len(BETAS)]},seed={(i % per) // len(BETAS)}"
            for i in range(runs)]


def live_ids(runs: int, live: int) -> list[str]:
    """The runs the writer appends to: ``live`` of them, spread over the tree."""
    ids = run_ids(runs)
    return [ids[i * runs // live] for i in range(live)]


def card(run_id: str, index: int, rows: int, state: str) -> dict[str, Any]:
    """A run card with :func:`~genwidgets.runtime.run_card.card_of`'s keys."""
    from genwidgets.runtime.run_card import MARK

    beta = float(run_id.split("beta=")[1].split(",")[0])
    seed = int(run_id.rsplit("seed=", 1)[1])
    sweep = int(run_id.split("/")[0].split("-")[1])
    config = {"batch_size": 64, "seed": seed, "latent_dim": 10, "architecture": "auto", "hidden": [512, 256],
              "width": 32, "likelihood": "auto", "lr": LR[sweep % len(LR)], "beta": beta, "capacity_max": 0.0,
              "capacity_steps": 100000, "gamma": 1000.0}
    last = rows * LOG_EVERY
    return {MARK: 1, "model": "beta_vae", "plugin": "models", "capabilities": list(CAPABILITIES),
            "data": {"name": "dsprites", "options": {}},
            "config": config, "steps": last if state == "finished" else 2 * last, "state": state, "step": last,
            "error": None, "pid": os.getpid(), "host": socket.gethostname(), "started": 1.8e9 + index,
            "updated": 1.8e9 + index + last / 280, "resumed_from": None,
            "edits": [[last // 2, {"lr": LR[sweep % len(LR)] / 2}]] if index % 7 == 0 else []}


def write_card(folder: Path, content: dict[str, Any]) -> None:
    (folder / "run.json").write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")


def metrics_text(index: int, rows: int, beta: float) -> bytes:
    """``rows`` rows of a beta-VAE-like curve, formatted as the CSV logger writes them."""
    rng = np.random.default_rng(index)
    step = np.arange(1, rows + 1, dtype=np.float64) * LOG_EVERY
    sps = rng.uniform(250, 300, rows)
    elapsed = np.cumsum(LOG_EVERY / sps)
    recon = 30 + 60 * np.exp(-step / (2e4 * rows / 1e4)) + rng.normal(0, 1.5, rows)
    kl = 8 + 10 * (1 - np.exp(-step / 5e3)) / beta + rng.normal(0, 0.3, rows)
    loss = recon + beta * kl
    table = np.column_stack([step, elapsed, sps, loss, recon, kl, -(recon + kl)])
    header = ",".join(COLUMNS) + "\r\n"
    return (header + (ROW_FORMAT * rows) % tuple(table.ravel().tolist())).encode()


def grid_pngs(count: int = 4) -> list[bytes]:
    """A few distinct 484x484 grey PNGs of 8x8 tiles, about 16 kB each (a 64-digit MNIST grid's size)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        small = (rng.integers(0, 16, (8, 8, 14, 14)) * 17).astype(np.uint8)
        tiles = small.repeat(2, axis=2).repeat(2, axis=3)
        picture = Image.fromarray(tiles.transpose(0, 2, 1, 3).reshape(224, 224)).resize((484, 484), Image.NEAREST)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def make_run(root: str, run_id: str, index: int, rows: int, state: str, pngs: list[bytes]) -> int:
    """Write one run folder; returns its metrics.csv size."""
    folder = Path(root) / run_id
    (folder / "samples").mkdir(parents=True, exist_ok=True)
    beta = float(run_id.split("beta=")[1].split(",")[0])
    text = metrics_text(index, rows, beta)
    (folder / "metrics.csv").write_bytes(text)
    last = rows * LOG_EVERY
    for k in range(1, GRIDS + 1):
        (folder / "samples" / f"step-{k * last // GRIDS:08d}.png").write_bytes(pngs[(index + k) % len(pngs)])
    (folder / "samples.png").write_bytes(pngs[index % len(pngs)])
    checkpoint = folder / "checkpoints" / f"step-{last:08d}"
    checkpoint.mkdir(parents=True, exist_ok=True)
    (checkpoint / "state.json").write_text(json.dumps({"format": 1, "model": "beta_vae", "step": last}))
    (checkpoint / "weights.safetensors").write_bytes(b"\0" * 16)
    if state == "finished":
        evaluations = folder / "evaluations"
        evaluations.mkdir(exist_ok=True)
        mig = 0.05 + 0.3 * (1 - np.exp(-beta / 4)) + 0.01 * (index % 5)
        (evaluations / f"step-{last:08d}.json").write_text(json.dumps(
            {"genwidgets_evaluation": 1, "step": last, "model": "beta_vae", "data": "dsprites",
             "metrics": {"disentanglement": {"mig": mig, "n": 10000}}, "seed": {"disentanglement": 0},
             "seconds": {"disentanglement": 12.5}}, indent=1))
    write_card(folder, card(run_id, index, rows, state))
    return len(text)


def ensure_tree(root: Path, runs: int, rows: int, live: int, pngs: list[bytes]) -> float:
    """Make (or reuse) the tree of ``runs`` runs of ``rows`` rows at ``root``; returns seconds spent generating."""
    wanted = {"version": TREE_VERSION, "runs": runs, "rows": rows, "live": live_ids(runs, live)}
    marker = root / MARKER
    if marker.exists():
        kept = json.loads(marker.read_text())
        if {k: kept.get(k) for k in wanted} == wanted:
            if kept.get("cards", 1) != CARD_VERSION:  # the same data, older cards: rewrite only the cards
                write_cards(root, runs, rows, wanted["live"])
                kept["cards"] = CARD_VERSION
                marker.write_text(json.dumps(kept))
            restore_live(root, kept)
            return 0.0
        shutil.rmtree(root)  # a tree this benchmark made, for other sizes
    elif root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty and was not made by this benchmark; pass an empty or new --dir")
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ids = run_ids(runs)
    states = ["running" if rid in wanted["live"] else "finished" for rid in ids]
    with ProcessPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        sizes = list(pool.map(make_run, [str(root)] * runs, ids, range(runs), [rows] * runs, states,
                              [pngs] * runs, chunksize=4))
    size_of = dict(zip(ids, sizes, strict=True))
    kept = {**wanted, "cards": CARD_VERSION, "live_sizes": {rid: size_of[rid] for rid in wanted["live"]}}
    marker.write_text(json.dumps(kept))
    restore_live(root, kept)  # the cards were written by pool workers, now gone: give them this process's pid
    return time.perf_counter() - t0


def write_cards(root: Path, runs: int, rows: int, live: list[str]) -> None:
    """Rewrite the card of each real run folder of a tree (not the symlinks into another tree)."""
    for index, rid in enumerate(run_ids(runs)):
        folder = root / rid
        if folder.is_dir() and not folder.is_symlink():
            write_card(folder, card(rid, index, rows, "running" if rid in live else "finished"))


def restore_live(root: Path, kept: dict[str, Any]) -> None:
    """Cut the live runs' CSVs back to their generated length and give their cards this process's pid."""
    for rid, size in kept["live_sizes"].items():
        path = root / rid / "metrics.csv"
        if path.stat().st_size != size:
            os.truncate(path, size)
        content = json.loads((root / rid / "run.json").read_text())
        content.update(pid=os.getpid(), host=socket.gethostname(), state="running")
        write_card(root / rid, content)


def subset_tree(source: Path, target: Path, runs: int, of: int) -> None:
    """A tree of symlinks to ``runs`` of the ``of`` runs in ``source``, spread over its sweep folders."""
    if target.exists():
        shutil.rmtree(target)
    for rid in run_ids(of)[:: of // runs][:runs]:
        (target / rid).parent.mkdir(parents=True, exist_ok=True)
        (target / rid).symlink_to(source / rid, target_is_directory=True)


def heavy_tree(source: Path, target: Path, runs: int, rows: int, pngs: list[bytes]) -> list[str]:
    """``source``'s runs as symlinks, but the four a board selects first are real folders of ``rows`` rows.

    Returns those four ids. Kept between calls like the other trees (a marker file says for which sizes).
    """
    heavy = sorted(run_ids(runs))[:4]
    marker = target / MARKER
    wanted = {"version": TREE_VERSION, "runs": runs, "rows": rows, "heavy": heavy}
    if marker.exists():
        kept = json.loads(marker.read_text())
        if {k: kept.get(k) for k in wanted} == wanted:
            if kept.get("cards", 1) != CARD_VERSION:  # the same data, older cards (the heavy runs are finished)
                write_cards(target, runs, rows, [])
                marker.write_text(json.dumps({**wanted, "cards": CARD_VERSION}))
            return heavy
    if target.exists():
        shutil.rmtree(target)
    index = {rid: i for i, rid in enumerate(run_ids(runs))}
    for rid in run_ids(runs):
        if rid in heavy:
            make_run(str(target), rid, index[rid], rows, "finished", pngs)
        else:
            (target / rid).parent.mkdir(parents=True, exist_ok=True)
            (target / rid).symlink_to(source / rid, target_is_directory=True)
    marker.write_text(json.dumps({**wanted, "cards": CARD_VERSION}))
    return heavy


def disk_bytes(root: Path) -> int:
    total = 0
    for folder, _, files in os.walk(root, followlinks=True):
        total += sum(os.stat(os.path.join(folder, f)).st_size for f in files if f != MARKER)
    return total


def drop_cache(root: Path) -> None:
    """Drop the OS's cached pages of every file under ``root`` (``posix_fadvise(DONTNEED)``; no root needed)."""
    for folder, _, files in os.walk(root, followlinks=True):
        for name in files:
            with contextlib.suppress(OSError):
                fd = os.open(os.path.join(folder, name), os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


# ---- the comm and the board ------------------------------------------------------------------------------
class CountingComm(BaseComm):
    """Encodes each message as ipykernel would (JSON + buffer copies); counts bytes per kind; notes curve sends.

    Kinds: a custom message's ``op`` (``rows``, ``curves``, ``grids``; a ``rows`` message with ``reset``, the
    whole table a hello sends, is ``rows (whole table)``), ``state`` for synced traits, else the message type.
    """

    lock = threading.Lock()
    nbytes: dict[str, int] = {}
    counts: dict[str, int] = {}
    #: Table rows sent per kind of ``rows`` message.
    table_rows: dict[str, int] = {}
    #: (wall time, {run id: newest step in its curve}, bytes) of each ``curves`` message.
    curves: list[tuple[float, dict[str, float], int]] = []

    @classmethod
    def reset(cls) -> None:
        with cls.lock:
            cls.nbytes, cls.counts, cls.curves, cls.table_rows = {}, {}, [], {}

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str).encode()
        copies = [bytes(b) for b in buffers or []]
        size = len(text) + sum(map(len, copies))
        data = data or {}
        content = data.get("content") or {}
        if msg_type == "comm_msg" and data.get("method") == "custom":
            kind = str(content.get("op"))
            if kind == "rows" and content.get("reset"):
                kind = "rows (whole table)"
        elif msg_type == "comm_msg" and data.get("method") == "update":
            kind = "state"
        else:
            kind = msg_type
        newest: dict[str, float] = {}
        if kind == "curves":
            for entry in unpack(data["content"], copies)["curves"]:
                if "steps" in entry and len(entry["steps"]):
                    newest[entry["id"]] = float(entry["steps"][-1])
        with CountingComm.lock:
            CountingComm.nbytes[kind] = CountingComm.nbytes.get(kind, 0) + size
            CountingComm.counts[kind] = CountingComm.counts.get(kind, 0) + 1
            if kind.startswith("rows"):
                CountingComm.table_rows[kind] = CountingComm.table_rows.get(kind, 0) + len(content.get("rows") or [])
            if kind == "curves":
                CountingComm.curves.append((time.time(), newest, size))


@functools.cache
def board_class() -> type:
    """RunsBoard with each poll timed (the poll thread calls the subclass's ``poll``)."""
    from genwidgets.widgets.runs_board import RunsBoard

    class TimedBoard(RunsBoard):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.poll_seconds: list[float] = []
            super().__init__(*args, **kwargs)

        def poll(self) -> bool:
            t0 = time.perf_counter()
            try:
                return super().poll()
            finally:
                self.poll_seconds.append(time.perf_counter() - t0)

    return TimedBoard


def timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def stats(xs: list[float]) -> tuple[float, float]:
    return float(np.median(xs)), float(np.percentile(xs, 95))


# ---- measurements ----------------------------------------------------------------------------------------
def measure_open(root: Path, repeats: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Seconds to construct a board (alone, and with a front end's hello), to refresh a bare index; alternating.

    "cold": every file's cached pages dropped just before (see :func:`drop_cache`). Also what one open + hello
    sends: bytes, messages and table rows per kind of message.
    """
    from genwidgets.runfolders import RunsIndex

    board = board_class()

    def open_board() -> None:
        board(root, interval=3600).close()

    def open_and_hello() -> None:
        widget = board(root, interval=3600)
        widget._hello("bench")  # what a front end's first message asks for: the curves and the grids
        widget.close()

    def refresh() -> None:
        RunsIndex(root).refresh()

    CountingComm.reset()
    open_and_hello()  # warm-up: first-call costs; and what an open + hello sends
    with CountingComm.lock:
        sent = {"bytes": dict(CountingComm.nbytes), "counts": dict(CountingComm.counts),
                "rows": dict(CountingComm.table_rows)}
    out: dict[str, list[float]] = {key: [] for key in (
        "board cold", "board warm", "hello cold", "hello warm", "index cold", "index warm")}
    for _ in range(repeats):
        for key, fn in (("board", open_board), ("hello", open_and_hello), ("index", refresh)):
            drop_cache(root)
            out[f"{key} cold"].append(timed(fn))
            out[f"{key} warm"].append(timed(fn))
    return out, sent


#: Run by a fresh interpreter (``python -c``, so nothing is imported before the timed imports): argv root, benchmarks.
#: Then ``genwidgets.board(root)`` displayed as a notebook would (``_repr_mimebundle_``: the box and the PNG
#: fallback), and whether torch was imported at each stage.
FIRST_OPEN = """
import json, os, sys, time
t0 = time.perf_counter()
import genwidgets
imported = time.perf_counter() - t0
t0 = time.perf_counter()
from genwidgets.widgets.runs_board import RunsBoard
widgets = time.perf_counter() - t0
torch = {"imports": "torch" in sys.modules}
sys.path.insert(0, sys.argv[2])
from _common import comm_class
from board import CountingComm
with comm_class(CountingComm):
    t0 = time.perf_counter()
    board = RunsBoard(sys.argv[1], interval=3600)
    opened = time.perf_counter() - t0
    torch["open"] = "torch" in sys.modules
    t0 = time.perf_counter()
    board._hello("bench")
    hello = time.perf_counter() - t0
    torch["hello"] = "torch" in sys.modules
    board.close()
    with open("/proc/self/statm") as fh:
        rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    t0 = time.perf_counter()
    shown = genwidgets.board(sys.argv[1], interval=3600)
    shown._repr_mimebundle_()
    display = time.perf_counter() - t0
    torch["gw.board displayed"] = "torch" in sys.modules
    shown.close()
print(json.dumps({"import": imported, "widgets": widgets, "open": opened, "hello": hello, "display": display,
                  "rss": rss, "torch": torch}))
"""


def measure_first_open(root: Path, interpreters: int = 3) -> list[dict[str, Any]]:
    """Seconds of ``import genwidgets``, of importing the board's module, of the first open and its hello, of a
    displayed ``genwidgets.board`` after them; RSS after the hello; torch in ``sys.modules``; fresh interpreters."""
    command = [sys.executable, "-c", FIRST_OPEN, str(root), str(Path(__file__).resolve().parent)]
    return [json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            for _ in range(interpreters)]


def measure_poll(root: Path, repeats: int, polls: int = 20) -> tuple[list[float], dict[str, Any]]:
    """Seconds per ``poll()`` with nothing changed (4 curves followed), ``polls`` per repeat; and a board's sizes."""
    board = board_class()(root, interval=3600)
    board.curves_message()  # follow the selected runs' curves, as after a front end's hello
    CountingComm.reset()
    out = []
    for _ in range(repeats):
        for _ in range(polls):
            out.append(timed(board.poll))
    info = {"rows": len(board.rows), "sent": dict(CountingComm.nbytes),
            "rows_json": len(json.dumps(board.rows, separators=(",", ":"), default=str))}
    board.close()
    return out, info


def measure_curves(root: Path, repeats: int) -> tuple[list[float], list[float], int, int, list[int]]:
    """Seconds of a first-read ``curves_message()`` (4 runs), of a second one (nothing new); message bytes."""
    board = board_class()(root, interval=3600)
    first, again = [], []
    message: Any = None
    for _ in range(repeats):
        board.index.curves([], board.metric)  # drop the followed files: the next read is a first read
        t0 = time.perf_counter()
        message = board.curves_message()
        first.append(time.perf_counter() - t0)
        again.append(timed(board.curves_message))
    content, buffers = message
    json_bytes = len(json.dumps(content, separators=(",", ":")).encode())
    buffer_bytes = sum(len(bytes(b)) for b in buffers)
    points = [int(c["steps"]["shape"][0]) for c in content["curves"] if "steps" in c]
    board.close()
    return first, again, json_bytes, buffer_bytes, points


def writer(paths: list[str], seconds: float, rate: float) -> None:
    """Append rows to each CSV at ``rate`` rows/s for ``seconds``, the wall-clock write time in ``time``."""
    steps = []
    for path in paths:
        with open(path, "rb") as fh:
            fh.seek(-200, os.SEEK_END)
            steps.append(int(fh.read().rstrip(b"\r\n").rsplit(b"\n", 1)[-1].split(b",")[0]))
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    tick = 0
    while time.perf_counter() - start < seconds:
        for i, path in enumerate(paths):
            steps[i] += LOG_EVERY
            recon, kl = 30 + rng.normal(0, 1.5), 9 + rng.normal(0, 0.3)
            row = ROW_FORMAT % (steps[i], time.time(), 280.0, recon + 4 * kl, recon, kl, -(recon + kl))
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, row.encode())
            finally:
                os.close(fd)
        tick += 1
        time.sleep(max(0.0, start + tick / rate - time.perf_counter()))


def measure_lag(root: Path, live: list[str], seconds: float, interval: float, rate: float) -> dict[str, Any]:
    """Per-row lag (seconds) from write to the first curves message showing it; poll durations; bytes."""
    offsets = {rid: (root / rid / "metrics.csv").stat().st_size for rid in live}
    board = board_class()(root, interval=interval, selected=live, metric="loss")
    board._hello("bench")  # a front end's hello: the whole table, the first read of the curves, the grids
    board.poll_seconds.clear()
    CountingComm.reset()
    t0 = time.time()
    subprocess.run([sys.executable, __file__, "--write-live", str(seconds), str(rate),
                    *[str(root / rid / "metrics.csv") for rid in live]], check=True)
    time.sleep(2.5 * interval)
    board.close()
    elapsed = time.time() - t0
    with CountingComm.lock:
        messages = list(CountingComm.curves)
        sent, counts, table_rows = dict(CountingComm.nbytes), dict(CountingComm.counts), dict(CountingComm.table_rows)
    lags, unseen = [], 0
    for rid in live:
        with open(root / rid / "metrics.csv", "rb") as fh:
            fh.seek(offsets[rid])
            rows = np.loadtxt(io.BytesIO(fh.read()), delimiter=",", ndmin=2, encoding="utf-8")
        shown = [(t, m[rid]) for t, m, _ in messages if rid in m]
        times = np.array([t for t, _ in shown])
        newest = np.maximum.accumulate(np.array([s for _, s in shown])) if shown else np.zeros(0)
        where = np.searchsorted(newest, rows[:, 0], side="left")
        seen = where < len(newest)
        unseen += int((~seen).sum())
        lags.extend((times[where[seen]] - rows[seen, 1]).tolist())
    polls = board.poll_seconds
    return {"lags": lags, "unseen": unseen, "rows": len(lags) + unseen, "polls": polls, "sent": sent,
            "counts": counts, "table_rows": table_rows, "elapsed": elapsed, "curve_messages": len(messages)}


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 1e6


class PeakRSS:
    """Samples RSS every millisecond in a thread; ``peak`` is the largest seen."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_mb())


def probe_memory(root: str) -> None:
    import gc
    import tracemalloc

    from genwidgets.registry import get_registry

    caps = get_registry().get_model("beta_vae").capabilities.names()  # torch and the plugins, before `before`
    if caps != CAPABILITIES:
        raise SystemExit(f"beta_vae's capabilities are {caps}, the synthetic cards say {CAPABILITIES}: update them")
    board_cls = board_class()
    with comm_class(CountingComm):
        gc.collect()
        before = rss_mb()
        sampler = PeakRSS()
        board = board_cls(root, interval=3600)
        opened = rss_mb()
        board.curves_message()
        for _ in range(3):
            board.poll()
        peak = sampler.stop()
        after = rss_mb()
        board.close()
        del board
        gc.collect()
        tracemalloc.start()
        board = board_cls(root, interval=3600)
        board.curves_message()
        board.poll()
        current, traced_peak = tracemalloc.get_traced_memory()
        board.close()
        tracemalloc.stop()
    print(json.dumps({"rss_before": before, "rss_open": opened - before, "rss_peak": peak - before,
                      "rss_after": after - before, "traced_peak": traced_peak / 1e6, "traced_now": current / 1e6}))


def measure_memory(root: Path, *, fixed_threshold: bool = False) -> dict[str, float]:
    """:func:`probe_memory` in a fresh interpreter; ``fixed_threshold``: with glibc's mmap threshold pinned.

    glibc raises its mmap threshold to the size of a freed mmapped block (up to 32 MB), so after the first
    4 MB parse chunk is freed the next ones come from the heap and stay resident: RSS then counts memory
    the allocator keeps, not memory the board holds. ``MALLOC_MMAP_THRESHOLD_`` pins the threshold.
    """
    env = {**os.environ, **({"MALLOC_MMAP_THRESHOLD_": "131072"} if fixed_threshold else {})}
    out = subprocess.run([sys.executable, __file__, "--probe-memory", str(root)], check=True, capture_output=True,
                         text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def memory_case(root: Path) -> dict[str, float]:
    pinned = measure_memory(root, fixed_threshold=True)
    return {**measure_memory(root), "rss_peak_pinned": pinned["rss_peak"], "rss_after_pinned": pinned["rss_after"],
            "disk": disk_bytes(root) / 1e6}


# ---- report ----------------------------------------------------------------------------------------------
def row(name: str, value: str, target: str = "-", ok: bool | None = None) -> str:
    verdict = "-" if ok is None else ("pass" if ok else "MISS")
    return f"| {name} | {value} | {target} | {verdict} |"


def ms(x: float) -> str:
    return f"{x * 1e3:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--live", type=int, default=4, help="runs appended to while the board follows them")
    parser.add_argument("--live-seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0, help="rows/s appended to each live run")
    parser.add_argument("--interval", type=float, nargs="+", default=[0.5],
                        help="the board's poll interval(s) for the live lag (one measurement each)")
    parser.add_argument("--dir", type=Path, default=None, help="where the synthetic runs go (kept and reused)")
    parser.add_argument("--quick", action="store_true", help="small sizes: 20 runs of 5,000 rows, 3 repeats")
    parser.add_argument("--json", type=Path, default=None, help="write every sample here")
    parser.add_argument("--probe-memory", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--write-live", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe_memory:
        return probe_memory(args.probe_memory)
    if args.write_live:
        seconds, rate, *paths = args.write_live
        return writer(paths, float(seconds), float(rate))
    if args.quick:
        args.runs, args.rows, args.repeats, args.live_seconds = 20, 5000, 3, 6.0
    if args.runs < 4 * args.live or args.runs < 8:
        raise SystemExit("--runs must be at least 8 and 4 x --live")

    base = args.dir or Path(tempfile.mkdtemp(prefix="genwidgets-board-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    pngs = grid_pngs()
    quarter, few, many = args.runs // 4, args.rows // 10, args.rows * 10
    main_root = base / f"runs{args.runs}-rows{args.rows}"
    small_root = base / f"runs{args.runs}-rows{few}"
    heavy_root = base / f"runs{args.runs}-rows{args.rows}-followed{many}"
    t0 = time.perf_counter()
    fresh = ensure_tree(main_root, args.runs, args.rows, args.live, pngs)
    ensure_tree(small_root, args.runs, few, args.live, pngs)
    heavy_tree(main_root, heavy_root, args.runs, many, pngs)
    #: label -> (tree, runs, rows) of the memory cases
    cases = {f"{quarter} x {few:,}": (base / "subset-small", quarter, few),
             f"{quarter} x {args.rows:,}": (base / "subset-main", quarter, args.rows),
             f"{args.runs} x {few:,}": (small_root, args.runs, few),
             f"{args.runs} x {args.rows:,}": (main_root, args.runs, args.rows),
             f"{args.runs} x {args.rows:,}, the 4 followed runs {many:,}": (heavy_root, args.runs, many)}
    subset_tree(small_root, base / "subset-small", quarter, args.runs)
    subset_tree(main_root, base / "subset-main", quarter, args.runs)
    print(f"{args.runs} runs x {args.rows:,} rows in {main_root}, {disk_bytes(main_root) / 1e6:,.0f} MB "
          f"({'generated' if fresh else 'reused'}; all trees ready in {time.perf_counter() - t0:.0f} s)", flush=True)
    live = live_ids(args.runs, args.live)

    results: dict[str, Any] = {"runs": args.runs, "rows": args.rows, "repeats": args.repeats,
                               "csv_bytes": json.loads((main_root / MARKER).read_text())["live_sizes"][live[0]]}
    try:
        with comm_class(CountingComm):
            results["open"], results["open_sent"] = measure_open(main_root, args.repeats)
            results["first_open"] = measure_first_open(main_root)
            print("open done", flush=True)
            polls, results["poll_info"] = measure_poll(main_root, args.repeats)
            results["poll"] = polls
            first, again, json_bytes, buffer_bytes, points = measure_curves(main_root, args.repeats)
            results["curves"] = {"first": first, "again": again, "json_bytes": json_bytes,
                                 "buffer_bytes": buffer_bytes, "points": points}
            print("poll and curves done", flush=True)
            results["lag"] = {}
            for interval in args.interval:
                results["lag"][interval] = measure_lag(main_root, live, args.live_seconds, interval, args.rate)
                restore_live(main_root, json.loads((main_root / MARKER).read_text()))
                print(f"lag at interval {interval} s done", flush=True)
        results["memory"] = {label: memory_case(root) for label, (root, _, _) in cases.items()}
    finally:
        restore_live(main_root, json.loads((main_root / MARKER).read_text()))
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    report(args, results, list(cases))
    if args.json:
        args.json.write_text(json.dumps(results, default=str))


def report(args: argparse.Namespace, results: dict[str, Any], cases: list[str]) -> None:
    print(f"\nMachine: {os.cpu_count()} cores ({platform.machine()}), Python {platform.python_version()}, numpy "
          f"{np.__version__}; load average {os.getloadavg()[0]:.2f} at the end. {args.runs} runs x {args.rows:,} rows, "
          f"{args.repeats} repeats; max_points {MAX_POINTS}.\n")
    print("| figure | median (p95) | target | pass/miss |\n|---|---|---|---|")
    opens = results["open"]
    for key, label, target in (
            ("board warm", "open: RunsBoard(root), file cache warm", True),
            ("board cold", "open: RunsBoard(root), file pages dropped", True),
            ("hello warm", "open + hello (the 4 selected runs' curves and grids sent), warm", True),
            ("hello cold", "open + hello, file pages dropped", True),
            ("index warm", "bare RunsIndex(root).refresh(), warm", False),
            ("index cold", "bare RunsIndex(root).refresh(), file pages dropped", False)):
        med, p95 = stats(opens[key])
        print(row(label, f"{ms(med)} ({ms(p95)})", "<= 2 s" if target else "-", med <= 2.0 if target else None))
    sent = results["open_sent"]
    print(row("  sent by one open + hello", f"{sum(sent['bytes'].values()) / 1e3:,.1f} kB: " + ", ".join(
        f"{k} {v / 1e3:,.1f} kB ({sent['counts'][k]} msg"
        + (f", {sent['rows'][k]} rows)" if k in sent["rows"] else ")") for k, v in sorted(sent["bytes"].items()))))
    firsts = results["first_open"]
    totals = [f["import"] + f["widgets"] + f["open"] for f in firsts]
    print(row(f"first board in a fresh interpreter: RunsBoard(root) alone ({len(firsts)} interpreters)",
              f"{ms(statistics.median(f['open'] for f in firsts))} (max {ms(max(f['open'] for f in firsts))})",
              "<= 2 s", statistics.median(f["open"] for f in firsts) <= 2.0))
    print(row(f"  with its imports: import genwidgets {ms(statistics.median(f['import'] for f in firsts))} + import "
              f"of the board's module {ms(statistics.median(f['widgets'] for f in firsts))} + open",
              f"{ms(statistics.median(totals))} (max {ms(max(totals))})", "<= 2 s", statistics.median(totals) <= 2.0))
    with_hello = [t + f["hello"] for t, f in zip(totals, firsts, strict=True)]
    print(row("  the same + its hello", f"{ms(statistics.median(with_hello))} (max {ms(max(with_hello))})", "<= 2 s",
              statistics.median(with_hello) <= 2.0))
    stages = firsts[0]["torch"]
    torch_free = not any(any(f["torch"].values()) for f in firsts)
    print(row("  torch in sys.modules after: " + ", ".join(
        f"{stage} {'/'.join('yes' if f['torch'][stage] else 'no' for f in firsts)}" for stage in stages),
        "never" if torch_free else "imported", "no torch", torch_free))
    print(row("  then genwidgets.board(root) displayed (box + PNG fallback); RSS after the hello",
              f"{ms(statistics.median(f['display'] for f in firsts))}; "
              f"{statistics.median(f['rss'] for f in firsts):.0f} MB"))
    med, p95 = stats(results["poll"])
    print(row(f"poll, nothing changed, {results['poll_info']['rows']} runs, 4 curves followed",
              f"{ms(med)} ({ms(p95)}); {med * 100:.1f} % of a core at a 1 s poll, {med * 200:.1f} % at 0.5 s"))
    for interval, lag in results["lag"].items():
        if not lag["lags"]:
            print(row(f"live lag at interval {interval} s", "no rows shown", "p95 <= 1 s", False))
            continue
        med, p95 = stats(lag["lags"])
        print(row(f"live lag, write -> curves message, interval {interval} s ({args.live} runs x {args.rate:.0f} "
                  f"rows/s, {lag['rows']:,} rows, max {max(lag['lags']):.3f} s, "
                  f"{np.mean(np.array(lag['lags']) > 1.0) * 100:.1f} % over 1 s, {lag['unseen']} never shown)",
                  f"{med:.3f} s ({p95:.4f} s)", "p95 <= 1 s", p95 <= 1.0 and lag["unseen"] == 0))
        pm, pp = stats(lag["polls"])
        polls = max(1, len(lag["polls"]))
        sent = {k: v / polls for k, v in lag["sent"].items() if not k.startswith("comm_")}
        print(row(f"  poll with {args.live} live runs changed ({len(lag['polls'])} polls in {lag['elapsed']:.1f} s)",
                  f"{ms(pm)} ({ms(pp)}); {pm / interval * 100:.1f} % of a core"))
        print(row("  bytes sent per poll while live", f"{sum(sent.values()) / 1e3:,.1f} kB: " + ", ".join(
            f"{k} {v / 1e3:,.1f} kB" for k, v in sorted(sent.items())) + "; messages per poll: " + ", ".join(
            f"{k} {n / polls:.2f}" for k, n in sorted(lag["counts"].items()) if not k.startswith("comm_"))
            + "; table rows per rows message: " + ", ".join(
            f"{n / max(1, lag['counts'].get(k, 0)):.1f}" for k, n in sorted(lag["table_rows"].items()))))
    curves = results["curves"]
    med, p95 = stats(curves["first"])
    print(row(f"curves_message(), 4 runs x {args.rows:,} rows, first read", f"{ms(med)} ({ms(p95)})"))
    med, p95 = stats(curves["again"])
    print(row("curves_message(), nothing new", f"{ms(med)} ({ms(p95)})"))
    bound = 4 * (MAX_POINTS + 1) * 2 * 8
    total = curves["json_bytes"] + curves["buffer_bytes"]
    print(row(f"curves message size (points per curve {curves['points']})",
              f"{total:,} B = {curves['json_bytes']:,} JSON + {curves['buffer_bytes']:,} binary",
              f"buffers <= 4 x (max_points + 1) x 16 B = {bound:,} B", curves["buffer_bytes"] <= bound))
    memory = results["memory"]
    print("\nMemory: growth of a fresh interpreter's RSS over its RSS after importing torch and the registry "
          "(MB = 1e6 bytes); \"pinned\": the same with glibc's mmap threshold pinned (MALLOC_MMAP_THRESHOLD_=131072)."
          "\n")
    print("| runs x rows | data on disk | RSS after open | RSS peak (open + 4 curves + 3 polls) | RSS after | "
          "RSS peak, pinned | RSS after, pinned | tracemalloc peak | tracemalloc retained |\n"
          "|---|---|---|---|---|---|---|---|---|")
    for label in cases:
        m = memory[label]
        print(f"| {label} | {m['disk']:,.0f} MB | {m['rss_open']:.1f} MB | {m['rss_peak']:.1f} MB | "
              f"{m['rss_after']:.1f} MB | {m['rss_peak_pinned']:.1f} MB | {m['rss_after_pinned']:.1f} MB | "
              f"{m['traced_peak']:.1f} MB | {m['traced_now']:.1f} MB |")
    from genwidgets.runfolders.metrics_file import CHUNK_BYTES

    full, heavy = memory[cases[3]], memory[cases[4]]
    bounded = (heavy["traced_peak"] <= 1.25 * full["traced_peak"] + 2
               and heavy["rss_peak_pinned"] <= 1.25 * full["rss_peak_pinned"] + 2
               and full["rss_peak"] < 0.05 * full["disk"])
    verdict = ("pass" if bounded else "MISS") if results["csv_bytes"] >= CHUNK_BYTES else (
        f"n/a: a {args.rows:,}-row file is under the {CHUNK_BYTES / 2**20:.0f} MiB parse chunk")
    print(f"\nFollowed files x10 longer ({args.rows:,} -> {args.rows * 10:,} rows): tracemalloc peak "
          f"{full['traced_peak']:.1f} -> {heavy['traced_peak']:.1f} MB, RSS peak pinned {full['rss_peak_pinned']:.1f} "
          f"-> {heavy['rss_peak_pinned']:.1f} MB (unpinned {full['rss_peak']:.1f} -> {heavy['rss_peak']:.1f} MB); "
          f"RSS peak at {cases[3]} is {full['rss_peak'] / full['disk'] * 100:.1f} % of the data on disk. Bounded "
          f"(tracemalloc and pinned RSS peaks x10 rows <= 1.25 x + 2 MB, RSS peak < 5 % of the data): {verdict}.")

if __name__ == "__main__":
    main()
