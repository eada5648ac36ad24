"""RunsBoard: many run folders at once: a table, overlaid curves, grids through time, a metric against a hyperparameter.

``genwidgets.board("runs/")`` shows every run folder under ``runs/`` (see :mod:`genwidgets.runfolders`):

* a table of the runs (family, data, the config fields that differ between runs, step, state, the
  newest logged metrics and evaluated metrics such as FID or MIG), sortable and filterable in the
  front end, kept live by a one-second poll that re-reads only folders whose files changed;
* the chosen metric of the selected runs, overlaid and aligned by step, each with its edit marks;
* the selected runs' sample grids side by side, and a slider over the steps at which grids were saved;
* a metric against a config field across runs (one point per run, the mean and spread per value);
* a button per run to open it in the training panel, the latent explorer or the discriminator heatmap.

Curves travel as float64 buffers and grids as the PNG files' bytes (see :mod:`.wire`); at most
``max_points`` rows per curve are kept and sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import traitlets as t

from ..runfolders.index import RunsIndex
from ..runfolders.runs import grid_path
from .bundle import esm
from .live_widget import LiveWidget
from .wire import pack

#: Views a run can be opened in, with the capability each needs (None: every family).
VIEWS = {"panel": None, "explorer": "decode", "heatmap": "discriminate"}


#: Makes the widget of a run folder in a view (``panel``, ``explorer``, ``heatmap``): see
#: :func:`genwidgets.board_app.open_view`, which the application layer passes in.
Opener = Callable[[Path, str], Any]


class Poller:
    """A background thread calling ``tick`` every ``interval`` seconds (a fixed rate) until closed (a widget Part)."""

    def __init__(self, tick: Any, interval: float, *, name: str) -> None:
        self._tick = tick
        self.interval = interval
        self._stop = threading.Event()
        self._busy = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._stop.is_set()

    def _loop(self) -> None:
        tick = 0.0  # at a fixed rate: a tick every interval, not every interval plus the tick's own time
        while not self._stop.wait(max(0.0, self.interval - tick)):
            with self._busy:
                if self._stop.is_set():
                    return
                started = time.perf_counter()
                self._tick()
                tick = time.perf_counter() - started

    def close(self, timeout: float = 5.0) -> None:
        """Stop polling (after a tick in progress)."""
        self._stop.set()
        self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until a tick in progress is done."""
        if self._busy.acquire(timeout=timeout):
            self._busy.release()
            return True
        return False


class RunsBoard(LiveWidget):
    """The runs board widget (see the module docstring); :func:`genwidgets.board` shows it with its opened views.

    Args:
        root: The folder of run folders.
        interval: Seconds between polls.
        max_points: Rows kept (and sent) per curve.
        selected: Run ids shown first (default: the first four runs).
        metric: The curves' metric (default: ``loss`` when logged).
        opener: Makes the widget of a run in a view, for the table's buttons and :meth:`open_run`.
    """

    _esm = esm("runs_board")

    title = t.Unicode("").tag(sync=True)
    varied = t.List(t.Unicode(), help="Config fields that differ between runs of a family.").tag(sync=True)
    metric_names = t.List(t.Unicode(), help="Metrics logged or evaluated by some run.").tag(sync=True)
    selected = t.List(t.Unicode(), help="Ids of the runs whose curves and grids are shown.").tag(sync=True)
    metric = t.Unicode("", help="The metric the curves show.").tag(sync=True)
    grid_steps = t.List(t.Int(), help="Steps at which some selected run saved a grid.").tag(sync=True)
    grid_step = t.Int(-1, help="The step the grids show (-1: each run's newest).").tag(sync=True)
    param = t.Unicode("", help="The config field on the x axis of the metric-against-hyperparameter plot.").tag(
        sync=True)
    param_metric = t.Unicode("", help="The metric on its y axis.").tag(sync=True)
    interval = t.Float(0.5, min=0.1, help="Seconds between polls of the run folders.").tag(sync=True)
    refreshed = t.Int(0, help="How many polls found changes (the front end marks its state with it).").tag(sync=True)
    message = t.Unicode("").tag(sync=True)

    def __init__(self, root: str | Path, *, interval: float = 0.5, max_points: int = 2000,
                 selected: list[str] | None = None, metric: str | None = None, opener: Opener | None = None,
                 **kwargs: Any) -> None:
        self._opener = opener
        self.index = RunsIndex(root, max_points=max_points)
        self.index.refresh()
        super().__init__(title=f"runs in {root}", interval=interval, **kwargs)
        self._send_lock = threading.RLock()
        self._grids_sent: tuple[Any, ...] = ()
        self._rows: dict[str, dict[str, Any]] = {}
        self._sync_rows(list(self.index.runs), [])
        runs = [r["id"] for r in self.rows if r["state"] not in ("error", "foreign")]
        self.selected = list(selected) if selected is not None else runs[:4]
        names = self.metric_names
        losses = [n for n in names if n == "loss"] or [n for n in names if "loss" in n]  # loss, else loss_g...
        self.metric = metric or (losses[0] if losses else names[0] if names else "")
        self.param = self.varied[0] if self.varied else ""
        evaluated = [n for n in names if "." in n]
        self.param_metric = evaluated[0] if evaluated else self.metric
        self._update_grid_steps()
        self.observe(self._on_curves_changed, names=["selected", "metric"])
        self.observe(self._on_grids_changed, names=["selected", "grid_step"])
        #: Where opened runs show (an ipywidgets Output, set by :class:`Board`; None: opened views are returned only).
        self.opened: Any = None
        self.opened_widgets: list[Any] = []
        self._poller = self._own(Poller(self.poll, interval, name="genwidgets-runs-board"))
        self.observe(lambda change: setattr(self._poller, "interval", change["new"]), names=["interval"])

    # ---- polling ---------------------------------------------------------------------------
    def poll(self) -> bool:
        """Re-read changed run folders; update the table and the shown curves and grids. True when something changed."""
        found = self.index.refresh()
        if not found:  # a run that logged changed its metrics.csv's size, so its folder is among the changed
            return False
        if set(self.selected) & set(found.changed):  # the curves first: they are what a live run is watched for
            self._send_curves(only_new=True)
        with self.hold_sync():
            changed = self._sync_rows(found.changed, found.removed)
            self._update_grid_steps()
            self.refreshed += 1
        self._send_message({"op": "rows", "rows": changed, "removed": found.removed}, [])
        if self._shown_grids() != self._grids_sent:  # a new grid (not every metrics row) resends the PNGs
            self._send_grids()
        return True

    def _shown_grids(self) -> tuple[Any, ...]:
        """Which grid files the grids message would send now (run, step), to send it only when that changes."""
        shown = []
        for rid in self.selected:
            summary = self.index.runs.get(rid)
            shown.append((rid, _grid_at(summary.grids, self.grid_step) if summary and summary.grids else None))
        return tuple(shown)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The table: one row per run folder (see ``RunSummary.to_row``, plus ``views``), ordered by id."""
        return [self._rows[rid] for rid in sorted(self._rows)]

    def _sync_rows(self, changed: list[str], removed: list[str]) -> list[dict[str, Any]]:
        """Rebuild the rows of ``changed`` runs and drop ``removed`` ones; returns the rebuilt rows.

        Only these travel to the front end (``{"op": "rows"}``): a live run changes one row a poll, not the
        table (103 kB a poll for 200 runs, measured by benchmarks/board.py, when the whole table was a trait).
        """
        for rid in removed:
            self._rows.pop(rid, None)
        rows = []
        for rid in changed:
            summary = self.index.runs.get(rid)
            if summary is None:
                continue
            row = summary.to_row()
            row["views"] = _views_of(row)
            self._rows[rid] = row
            rows.append(row)
        self.varied = self.index.varied_config()
        self.metric_names = self.index.metric_names()
        return rows

    def _send_message(self, content: dict[str, Any], buffers: list[Any]) -> None:
        if not self.closed:
            with self._send_lock:
                self.send(content, buffers)

    def _update_grid_steps(self) -> None:
        steps: set[int] = set()
        for rid in self.selected:
            summary = self.index.runs.get(rid)
            if summary is not None:
                steps.update(summary.grids)
        self.grid_steps = sorted(steps)

    # ---- front end -------------------------------------------------------------------------
    def _hello(self, nonce: str) -> None:
        self._send_message({"op": "rows", "reset": True, "rows": self.rows, "removed": []}, [])
        self._send_curves()
        self._send_grids()

    def _request(self, op: Any, content: dict[str, Any]) -> None:
        if op == "open":
            try:
                self.open_run(str(content.get("id", "")), str(content.get("view", "")))
            except Exception as exc:  # noqa: BLE001 - shown in the board, the kernel goes on
                self.message = f"could not open {content.get('id')!r} in the {content.get('view')}: {exc}"

    def _on_curves_changed(self, _change: Any) -> None:
        self._send_curves()

    def _on_grids_changed(self, change: Any) -> None:
        if change["name"] == "selected":
            self._update_grid_steps()
        self._send_grids()

    def curves_message(self, *, only_new: bool = False) -> tuple[dict[str, Any], list[Any]] | None:
        """The ``curves`` message for the selected runs (None when ``only_new`` and nothing was added)."""
        ids = list(self.selected)
        before = {rid: self._curve_length(rid) for rid in ids} if only_new else {}
        found = self.index.curves(ids, self.metric) if self.metric else {}
        if only_new and all(self._curve_length(rid) == before.get(rid) for rid in ids):
            return None
        curves = []
        for rid in ids:
            summary = self.index.runs.get(rid)
            value = found.get(rid, "no metric chosen")
            entry: dict[str, Any] = {"id": rid, "edits": summary.edits if summary else []}
            if isinstance(value, str):
                entry["error"] = value
            else:
                steps, values = value
                entry["steps"], entry["values"] = steps.astype(np.float64), values.astype(np.float64)
            curves.append(entry)
        return pack({"op": "curves", "metric": self.metric, "curves": curves})

    def _curve_length(self, rid: str) -> tuple[int, float] | None:
        followed = self.index.followed(rid)
        if followed is None or followed.last is None:
            return None
        return (len(followed.rows), float(followed.last[0]))

    def _send_curves(self, *, only_new: bool = False) -> None:
        message = self.curves_message(only_new=only_new)
        if message is not None:
            self._send_message(*message)

    def grids_message(self) -> tuple[dict[str, Any], list[Any]]:
        """The ``grids`` message: each selected run's grid at the chosen step (PNG bytes)."""
        grids = []
        for rid in self.selected:
            summary = self.index.runs.get(rid)
            if summary is None or not summary.grids:
                grids.append({"id": rid, "error": "no sample grids saved"})
                continue
            step = _grid_at(summary.grids, self.grid_step)
            try:
                data = grid_path(summary.path, step).read_bytes()
            except OSError as exc:
                grids.append({"id": rid, "error": str(exc)})
                continue
            grids.append({"id": rid, "step": step, "png": np.frombuffer(data, dtype=np.uint8)})
        return pack({"op": "grids", "step": self.grid_step, "grids": grids})

    def _send_grids(self) -> None:
        self._grids_sent = self._shown_grids()
        self._send_message(*self.grids_message())

    # ---- opening runs ----------------------------------------------------------------------
    def open_run(self, run_id: str, view: str) -> Any:
        """Open run ``run_id`` in ``view`` (``panel``, ``explorer`` or ``heatmap``); returns the widget.

        The board's opener makes the widget (see :func:`genwidgets.board_app.open_view`). The widget is
        shown in the board's output area when there is one.

        Raises:
            KeyError: no such run. ConfigError/CheckpointError/CapabilityError: it cannot be opened so.
        """
        from ..errors import ConfigError

        summary = self.index.runs.get(run_id)
        if summary is None:
            raise KeyError(f"no run {run_id!r} under {self.index.root}")
        if view not in VIEWS:
            raise ConfigError(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")
        if not summary.checkpoints:
            raise ConfigError(f"{summary.path} has no checkpoint yet: a view needs the model's weights")
        if view == "panel" and summary.state in ("running", "paused"):
            raise ConfigError(f"{run_id} is training in another process; open it in the explorer or heatmap, or "
                              "wait until it stops")
        if self._opener is None:
            raise ConfigError("this board cannot open runs (it was made without an opener); use genwidgets.board()")
        widget = self._opener(summary.path, view)
        self.opened_widgets.append(widget)
        self.message = f"opened {run_id} in the {view}"
        if self.opened is not None:
            from IPython.display import display

            self.opened.clear_output()
            with self.opened:
                display(widget)
        return widget

    def to_png(self) -> bytes:
        """The table as a picture (id, state, step, the shown metric) for viewers that cannot run widgets."""
        from ..widgets.png.board import render_board_png

        return render_board_png(self.rows, self.metric)

    def close(self) -> None:
        """Stop polling, close the views this board opened, and close the widget."""
        for widget in getattr(self, "opened_widgets", []):
            if hasattr(widget, "close"):
                widget.close()
        super().close()


def _views_of(row: dict[str, Any]) -> list[str]:
    """The views a run can open in, from its family's capabilities (none without a checkpoint).

    The run card says what the family can do; only a folder without one (written before cards) asks the
    plugin registry, which imports the families' plugins (and torch).
    """
    if not row.get("checkpoints") or not row.get("model"):
        return []
    caps = row.get("capabilities")
    if caps is None:
        from ..registry import get_registry

        try:
            caps = get_registry().get_model(row["model"]).capabilities.names()
        except Exception:  # noqa: BLE001 - a family whose plugin is not installed here
            return []
    return [v for v, need in VIEWS.items() if need is None or need in caps]


def _grid_at(steps: list[int], wanted: int) -> int:
    """The newest grid step at or before ``wanted`` (-1: the newest; before the first: the first)."""
    if wanted < 0:
        return steps[-1]
    before = [s for s in steps if s <= wanted]
    return before[-1] if before else steps[0]


__all__ = ["VIEWS", "Opener", "Poller", "RunsBoard"]
