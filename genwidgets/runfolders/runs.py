"""Finding run folders under a root and summarising each from small files, never from its whole history.

A run folder is what ``genwidgets.train(out=...)``, ``genwidgets train --out`` or a sweep writes: a
run card (``run.json``, see :mod:`genwidgets.runtime.run_card`), ``metrics.csv``, ``checkpoints/``,
``samples/``, ``evaluations/``. :func:`find_run_folders` walks a root (into sweep folders and plain
folders of runs) and :func:`summarise` reads one folder's card, the tail of its metrics, its newest
evaluation and the names of its sample grids, all small reads.

A folder that cannot be read is summarised with its ``error`` (a damaged card, a CSV that is not
genwidgets', checkpoints without their files) and everything that could be read; a folder under the
root that holds no run at all is listed as foreign. Neither stops the others from being read.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from ..runtime import run_card
from ..runtime.checkpoint_state import STATE_FILE, WEIGHTS_FILE
from .evaluations import load_evaluations, scalar_metrics
from .metrics_file import MetricsFileError, last_row, read_header

#: Files and folders whose presence makes a folder a run folder.
RUN_MARKERS = ("run.json", "metrics.csv", "checkpoints")
#: How deep below the root run folders are looked for (root/sweep/run is depth 2).
MAX_DEPTH = 4
_STEP_DIR = re.compile(r"^step-(\d+)$")
_GRID = re.compile(r"^step-(\d+)\.png$")
#: Columns of metrics.csv that are bookkeeping, not metrics.
BOOKKEEPING = ("step", "time", "steps_per_sec")


@dataclasses.dataclass
class RunSummary:
    """What a board lists for one folder (JSON-ready through :meth:`to_row`).

    Attributes:
        id: The folder relative to the board's root (``beta/beta=4,seed=0``), its key everywhere.
        path: The folder.
        model: The family (``"vae"``), or None when nothing says.
        data: The data set's name, or None.
        config: The family's config as trained (from the card, else the newest checkpoint).
        steps: Steps the run was asked for (None: open-ended or unknown).
        step: The newest step known (metrics, card or checkpoint).
        state: ``running``, ``paused``, ``finished``, ``stopped``, ``failed``, ``crashed`` (a card says
            running but its process is gone), ``saved`` (checkpoints without a card) or ``error``/``foreign``.
        metrics: The newest logged row's metrics.
        evaluation: The newest evaluation's numbers (``"images.fid"``...), with ``evaluation_step``.
        grids: Steps of the sample grids on disk, oldest first.
        checkpoints: Steps of the complete checkpoints.
        edits: Live edits ``[[step, {field: value}], ...]``.
        capabilities: What the family can do (``["sample", "encode", "decode"]``), from the card; None when
            the card does not say (the board then asks the plugin registry).
        error: What could not be read, or None.
        signature: File sizes and times that change when the folder does (to re-read only what changed).
    """

    id: str
    path: Path
    model: str | None = None
    data: str | None = None
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    steps: int | None = None
    step: int = 0
    state: str = "unknown"
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    evaluation: dict[str, float] = dataclasses.field(default_factory=dict)
    evaluation_step: int | None = None
    grids: list[int] = dataclasses.field(default_factory=list)
    checkpoints: list[int] = dataclasses.field(default_factory=list)
    edits: list[Any] = dataclasses.field(default_factory=list)
    capabilities: list[str] | None = None
    error: str | None = None
    signature: tuple[Any, ...] = ()

    def to_row(self) -> dict[str, Any]:
        """The JSON-ready row a board's table shows (NaN as None)."""
        def finite(values: dict[str, float]) -> dict[str, float | None]:
            return {k: (v if math.isfinite(v) else None) for k, v in values.items()}

        return {"id": self.id, "model": self.model, "data": self.data, "config": self.config, "steps": self.steps,
                "step": self.step, "state": self.state, "metrics": finite(self.metrics),
                "evaluation": finite(self.evaluation), "evaluation_step": self.evaluation_step,
                "grids": len(self.grids), "checkpoints": self.checkpoints, "edits": self.edits,
                "capabilities": self.capabilities, "error": self.error}


def is_run_folder(path: Path) -> bool:
    """True when ``path`` holds a run card, metrics or checkpoints."""
    return any((path / marker).exists() for marker in RUN_MARKERS)


def find_run_folders(root: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """Run folders under ``root`` (``root`` itself when it is one) and foreign folders, each sorted.

    Folders of runs (a sweep's, or any folder holding run folders) are walked into; a folder that is
    neither a run nor holds one is foreign. Hidden folders are skipped.
    """
    root = Path(root)
    runs: list[Path] = []
    foreign: list[Path] = []

    def walk(folder: Path, depth: int) -> bool:
        if is_run_folder(folder):
            runs.append(folder)
            return True
        if depth >= MAX_DEPTH:
            return False
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            return False
        found_any = False
        empty_children = []
        for child in children:
            if walk(child, depth + 1):
                found_any = True
            else:
                empty_children.append(child)
        if depth == 0 or found_any:
            foreign.extend(empty_children)
        return found_any

    walk(root, 0)
    return sorted(runs), sorted(foreign)


def folder_signature(path: Path) -> tuple[Any, ...]:
    """Inodes, sizes and modification times of the files a summary reads (cheap: a few ``stat`` calls).

    The inode tells a file replaced atomically (a rewritten ``run.json``) even when its size is the same
    and the file system's clock is too coarse to change its time.
    """
    sig: list[Any] = []
    for name in ("run.json", "metrics.csv", "checkpoints", "samples", "evaluations"):
        try:
            st = (path / name).stat()
            sig.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            sig.append(None)
    return tuple(sig)


def summarise(path: Path, root: Path) -> RunSummary:
    """Read one run folder's summary (see :class:`RunSummary`); problems go into ``error``."""
    summary = RunSummary(id=_relative(path, root), path=path, signature=folder_signature(path))
    errors: list[str] = []
    card = run_card.read_card(path)
    if card is None and (path / run_card.FILENAME).exists():
        errors.append("run.json cannot be read (damaged, or not genwidgets')")
    checkpoints, damaged = _checkpoint_steps(path)
    summary.checkpoints = checkpoints
    if damaged:
        errors.append(f"damaged checkpoint{'s' if len(damaged) > 1 else ''} {', '.join(damaged)} "
                      f"(missing {STATE_FILE} or {WEIGHTS_FILE})")
    if card is not None:
        data = card.get("data") or {}
        summary.model, summary.data = card.get("model"), data.get("name") if isinstance(data, dict) else None
        summary.config = dict(card.get("config") or {})
        summary.steps, summary.step = card.get("steps"), int(card.get("step") or 0)
        summary.edits = list(card.get("edits") or [])
        caps = card.get("capabilities")
        summary.capabilities = [str(c) for c in caps] if isinstance(caps, list) else None
        summary.state = "crashed" if run_card.process_gone(card) else str(card.get("state") or "unknown")
        if card.get("error"):
            errors.append(str(card["error"]))
    elif checkpoints:
        _from_checkpoint(summary, path / "checkpoints" / f"step-{checkpoints[-1]:08d}", errors)
    metrics_path = path / "metrics.csv"
    if metrics_path.exists():
        try:
            row = last_row(metrics_path, read_header(metrics_path))
        except (OSError, MetricsFileError) as exc:
            errors.append(f"metrics.csv: {exc}")
        else:
            if row is not None:
                summary.step = max(summary.step, int(row["step"]))
                summary.metrics = {k: v for k, v in row.items() if k not in BOOKKEEPING}
    if checkpoints:
        summary.step = max(summary.step, checkpoints[-1])
    evaluations = load_evaluations(path)
    if evaluations:
        summary.evaluation_step, newest = next(reversed(evaluations.items()))
        summary.evaluation = scalar_metrics(newest)
    summary.grids = grid_steps(path)
    if card is None and not checkpoints and not summary.metrics and not errors:
        errors.append("no run card, metrics or checkpoint yet")
    if errors:
        summary.error = "; ".join(errors)
        if summary.model is None and card is None and not checkpoints:
            summary.state = "error"
    return summary


def grid_steps(path: Path) -> list[int]:
    """Steps of the sample grids in ``path/samples`` (``step-N.png``), oldest first."""
    try:
        names = os.listdir(path / "samples")
    except OSError:
        return []
    return sorted(int(m.group(1)) for name in names if (m := _GRID.match(name)))


def grid_path(path: Path, step: int) -> Path:
    """The sample grid file of ``step`` in run folder ``path``."""
    return path / "samples" / f"step-{step:08d}.png"


def foreign_summary(path: Path, root: Path) -> RunSummary:
    """The row of a folder under the root that holds no run."""
    return RunSummary(id=_relative(path, root), path=path, state="foreign",
                      error="not a genwidgets run folder (no run.json, metrics.csv or checkpoints)")


def _checkpoint_steps(path: Path) -> tuple[list[int], list[str]]:
    folder = path / "checkpoints"
    try:
        entries = list(folder.iterdir())
    except OSError:
        return [], []
    good, damaged = [], []
    for entry in entries:
        match = _STEP_DIR.match(entry.name)
        if not match:
            continue
        if (entry / STATE_FILE).is_file() and (entry / WEIGHTS_FILE).is_file():
            good.append(int(match.group(1)))
        else:
            damaged.append(entry.name)
    return sorted(good), sorted(damaged)


def _from_checkpoint(summary: RunSummary, checkpoint: Path, errors: list[str]) -> None:
    """Fill a summary of a folder without a card (written before cards existed) from its newest checkpoint."""
    try:
        state = json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        errors.append(f"{checkpoint.name}/{STATE_FILE} cannot be read: {exc}")
        return
    summary.model = state.get("model")
    summary.data = (state.get("data") or {}).get("name")
    summary.config = dict(state.get("config") or {})
    summary.steps = (state.get("run") or {}).get("steps")
    summary.edits = list((state.get("run") or {}).get("edits") or [])
    summary.step = int(state.get("step") or 0)
    summary.state = "saved"


def _relative(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return rel if rel != "." else path.name


__all__ = ["RunSummary", "find_run_folders", "folder_signature", "foreign_summary", "grid_path", "grid_steps",
           "is_run_folder", "summarise"]
