"""Sample-grid logger: every run with an ``out_dir`` keeps the grid of each sample event.

For each ``samples`` event it writes ``out_dir/samples/step-XXXXXXXX.png`` and rewrites
``out_dir/samples.png`` as the latest: image models as a grid of the samples (upscaled 2x; for
conditional models, as many columns as samples per class), 2-D point models as a scatter plot.
Nothing else is written beside the grids. A runs board scrubs through training with
:func:`list_sample_grids`.

It is a plugin registered through the ``genwidgets.plugins`` entry-point group (name
``samples``), so ``GENWIDGETS_LOAD_PLUGINS`` can leave it out; ``genwidgets train`` then writes
the grids itself, with the same :class:`SampleWriter`. Under torchrun only rank 0 writes.
Replayed events (``event.data["replay"]``, the run's current state handed to a late subscriber)
were written when they happened and are not written again.

Every grid is kept, as TensorBoard keeps its images; ``sample_every`` sets how many. Measured
sizes (PNG as Pillow writes it) of a 64-image grid of 28x28 MNIST digits (8x8 tiles, upscaled 2x:
484x484 grey pixels): 16-17 kB for real digits, 26-29 kB for a VAE's samples (3,000 steps),
40-58 kB for a DCGAN's in its first 600 steps, 67 kB at most (uniform noise). So 1,000 sample
events take 16-67 MB, 10,000 at most 0.7 GB. A 2-D points scatter (400x400 RGB) is 5-6 kB.

A grid that cannot be written (a full disk, permissions, ``samples`` taken by a file) is
skipped, never half-written (PNGs are written to a hidden temporary, then renamed); the failure
is published as one ``warning`` event on the run per kind of error, and training goes on.
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..hookspecs import hookimpl
from ..images import make_grid, points_png, save_png
from ..runtime.events import Event

#: Folder of the per-step grids, inside a run's ``out_dir``.
SUBDIR = "samples"
#: The latest grid, inside a run's ``out_dir``.
LATEST = "samples.png"
_GRID_NAME = re.compile(r"step-(\d+)\.png")

_lock = threading.Lock()
_writers: dict[int, SampleWriter] = {}  # id(run) -> its writer, from its first samples event to its end


class SampleWriter:
    """Event subscriber that writes each sample grid to ``out/samples/step-N.png`` and ``out/samples.png``.

    A grid that cannot be written (a full disk, permissions) is skipped, never half-written (PNGs
    are written atomically); the failure is published as a ``warning`` event on ``run`` (once per
    kind of error) so the command line and the panel show it, and training goes on. Replayed
    events are skipped.
    """

    def __init__(self, out: str | Path, *, run: Any = None) -> None:
        self.out = Path(out)
        self.run = run
        self.written: list[Path] = []
        #: Failures so far, as one line each.
        self.errors: list[str] = []
        self._error_kinds: set[tuple[str, int | None]] = set()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        """Write the grid (or scatter, for points) of a ``samples`` event."""
        if event.kind != "samples" or event.data.get("replay"):
            return
        with self._lock:
            try:
                self._write(event)
            except OSError as exc:
                self._report(event, exc)

    def _write(self, event: Event) -> None:
        name = grid_name(event.step)
        if "images" in event.data:
            grid = make_grid(event.data["images"], nrow=_columns(event))
            paths = [save_png(grid, self.out / SUBDIR / name, scale=2),
                     save_png(grid, self.out / LATEST, scale=2)]
        else:
            pts = event.data["points"]
            paths = [points_png(pts, self.out / SUBDIR / name), points_png(pts, self.out / LATEST)]
        self.written.extend(paths)

    def _report(self, event: Event, exc: OSError) -> None:
        message = f"sample grid of step {event.step} not written, training goes on: {exc}"
        kind = (type(exc).__name__, exc.errno)
        first_of_kind = kind not in self._error_kinds
        self._error_kinds.add(kind)
        self.errors.append(message)
        if self.run is not None and first_of_kind:
            self.run.events.publish(Event("warning", event.step, {"message": message}))

    def flush(self) -> None:
        """Wait for a write in progress to finish."""
        with self._lock:
            pass


def _columns(event: Event) -> int | None:
    labels = event.data.get("labels")
    if labels is None:
        return None
    return int(len(labels) // max(1, len(np.unique(labels))))


def grid_name(step: int) -> str:
    """File name of the grid of ``step`` inside ``out_dir/samples`` (``step-00000120.png``)."""
    return f"step-{step:08d}.png"


def list_sample_grids(run_dir: str | Path) -> list[tuple[int, Path]]:
    """The sample grids a run folder holds, as ``(step, path)`` sorted by step.

    Only files named ``step-<digits>.png`` in ``run_dir/samples`` count: hidden temporaries of a
    write in progress, sub-folders and any other file are ignored. A folder without grids (or
    without ``samples``) gives an empty list.
    """
    folder = Path(run_dir) / SUBDIR
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    grids = []
    for path in entries:
        match = _GRID_NAME.fullmatch(path.name)
        if match and path.is_file():
            grids.append((int(match.group(1)), path))
    return sorted(grids, key=lambda item: (item[0], item[1].name))


def _writer(run: Any) -> SampleWriter:
    out = Path(run.out_dir)
    with _lock:
        writer = _writers.get(id(run))
        if writer is None or writer.run is not run or writer.out != out:
            writer = _writers[id(run)] = SampleWriter(out, run=run)
        return writer


def _forget(run: Any) -> None:
    with _lock:
        if getattr(_writers.get(id(run)), "run", None) is run:
            del _writers[id(run)]


def writes_for(run: Any) -> bool:
    """True when this plugin is loaded and receives ``run``'s events, so it writes the run's grids.

    False when ``GENWIDGETS_LOAD_PLUGINS`` leaves it out or the run does not forward its events
    to plugins (``plugin_events=False``, or a rank other than 0 under torchrun); the command line
    then writes the grids itself with a :class:`SampleWriter`.
    """
    from ..registry import get_registry

    if getattr(run, "_plugin_sub", None) is None:
        return False
    return bool(get_registry().pm.is_registered(sys.modules[__name__]))


@hookimpl
def on_train_event(run: Any, event: Any) -> None:
    """Write the grid of each ``samples`` event of a run with an ``out_dir`` (rank 0 only)."""
    if getattr(run, "out_dir", None) is None:
        return
    if event.kind == "state":
        if event.data.get("new") in ("finished", "stopped", "failed") and not event.data.get("replay"):
            _forget(run)
        return
    if event.kind != "samples" or event.data.get("replay"):
        return
    dist = getattr(run, "dist", None)
    if dist is not None and not dist.is_main:
        return
    _writer(run)(event)
