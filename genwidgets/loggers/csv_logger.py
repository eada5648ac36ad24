"""CSV logger: every run with an ``out_dir`` gets ``out_dir/metrics.csv``, one row per logged step.

It is a plugin registered through the ``genwidgets.plugins`` entry-point group (name ``csv``),
so ``GENWIDGETS_LOAD_PLUGINS`` can leave it out. Columns are ``step``, ``time``,
``steps_per_sec`` and the metrics of the first logged step (families return a fixed set; a
metric that appears only later is left out rather than breaking the header). Resumed runs
append to the same file under its existing header.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import threading
from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl

FILENAME = "metrics.csv"
_lock = threading.Lock()
_columns: dict[Path, list[str]] = {}


@hookimpl
def on_train_event(run: Any, event: Any) -> None:
    """Append a row to ``run.out_dir/metrics.csv`` for each metrics event."""
    if event.kind != "metrics" or getattr(run, "out_dir", None) is None:
        return
    path = Path(run.out_dir) / FILENAME
    values = event.data["values"]
    row = {"step": event.step, "time": f"{event.time:.3f}", "steps_per_sec": f"{event.data['steps_per_sec']:.4g}",
           **{k: f"{v:.6g}" for k, v in values.items()}}
    with _lock:
        columns = _columns.get(path)
        if columns is None and path.exists():
            with open(path, newline="", encoding="utf-8") as fh:
                columns = next(csv.reader(fh), None)
        write_header = columns is None
        if columns is None:
            columns = list(row)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
        if write_header:
            writer.writeheader()
        writer.writerow(row)
        path.parent.mkdir(parents=True, exist_ok=True)
        append_whole(path, text.getvalue().encode("utf-8"))
        _columns[path] = columns


def append_whole(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` entirely or not at all.

    A write that fails midway (disk full, file size limit) is cut back to where the file ended,
    so other tools reading the CSV never see a torn row; the error is then raised (the registry
    turns it into a warning on the run).
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        end = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, end)
            raise
    finally:
        os.close(fd)
