"""What a training panel knows about its run, and the messages that bring front ends up to date.

The feed is the panel's data model without the widget: events go in (:meth:`add_metrics`,
:meth:`add_samples`), messages come out (:meth:`take_messages` for what is new since the last
call, :meth:`reset_messages` for everything, once, to a newly opened front end). It is
thread-safe: the run's delivery thread adds while the panel's coalescer thread takes.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import wire
from .samples import SampleFrame
from .series import ThinnedSeries, rows_matrix

#: A message ready for ``widget.send``: (content, buffers).
Message = tuple[Any, wire.Buffers]


@dataclasses.dataclass(frozen=True)
class WireStat:
    """Size of one message: bytes put on the comm, and the raw bytes of the data it carries.

    ``raw`` counts float32 metric rows (4 bytes per step and per value), uint8 images and
    float32 points; a message without arrays (column names) counts its JSON as raw.
    """

    op: str
    payload: int
    raw: int


class PanelFeed:
    """Bounded metric rows, the newest samples, and what front ends have not been sent yet.

    Args:
        max_points: Bound on kept metric rows (see :class:`ThinnedSeries`).
        stats_len: How many recent :class:`WireStat` records to keep (for benchmarks).
    """

    def __init__(self, max_points: int = 10_000, *, stats_len: int = 10_000) -> None:
        self.series = ThinnedSeries(max_points)
        self.samples: SampleFrame | None = None
        self.lock = threading.Lock()
        #: Recent message sizes, newest last.
        self.stats: collections.deque[WireStat] = collections.deque(maxlen=stats_len)
        self._pending: list[tuple[int, Mapping[str, float]]] = []
        self._sent_columns: list[str] = []
        self._samples_dirty = False
        self._recon_inputs_sent = False
        self._last_step = -1

    # ---- input -------------------------------------------------------------------------
    def seed(self, history: Mapping[str, Any], samples: SampleFrame | None = None,
             order: Sequence[str] = ()) -> None:
        """Start from a run's ``history.snapshot()`` (and newest samples), before any event.

        ``order`` gives the preferred column order (the order ``train_step`` returns its
        metrics); other columns follow, sorted by name, so the order never depends on hashing.
        """
        with self.lock:
            steps, values = history.get("steps", []), history.get("values", {})
            names = [n for n in order if n in values] + sorted(n for n in values if n not in order)
            values = {n: values[n] for n in names}
            for i, step in enumerate(steps):
                self._last_step = step
                self.series.offer(step, {k: v[i] for k, v in values.items()})
            self.series.stride *= int(history.get("stride", 1))
            self._sent_columns = self.series.columns
            if samples is not None:
                self.samples = samples

    def add_metrics(self, step: int, values: Mapping[str, float]) -> bool:
        """Record metrics logged at ``step``; True if the row was kept and is now pending.

        Rows at or before the newest step already recorded are ignored, so events that were
        queued while the panel read the run's history are not counted twice.
        """
        with self.lock:
            if step <= self._last_step:
                return False
            self._last_step = step
            kept = self.series.offer(step, values)
            if kept:
                self._pending.append((step, dict(values)))
            return kept

    def add_samples(self, frame: SampleFrame) -> None:
        """Replace the newest samples; they go out with the next update."""
        with self.lock:
            self.samples = frame
            self._samples_dirty = True

    # ---- output ------------------------------------------------------------------------
    def take_messages(self) -> list[Message]:
        """Messages for what changed since the last call: new columns, new rows, new samples."""
        out: list[Message] = []
        with self.lock:
            if self._pending:
                columns = self.series.columns
                if columns != self._sent_columns:
                    out.append(self._record("columns", {"op": "columns", "columns": columns}, []))
                    self._sent_columns = columns
                rows = rows_matrix(self._pending, columns)
                self._pending = []
                content, buffers = wire.append_message(rows)
                out.append(self._record("append", content, buffers, raw=rows.nbytes))
            if self._samples_dirty and self.samples is not None:
                out.append(self._samples_message(self.samples, with_inputs=not self._recon_inputs_sent))
                self._samples_dirty = False
        return out

    def reset_messages(self, nonce: str) -> list[Message]:
        """Everything, for the front end that sent ``nonce`` (others ignore it).

        Call :meth:`take_messages` (and send its result) first, so that the rows sent to
        front ends that are already in sync are not left out of theirs.
        """
        with self.lock:
            rows = self.series.matrix()
            content = {"op": "reset", "nonce": nonce, "columns": self.series.columns,
                       "max_points": self.series.max_points, "rows": rows}
            out = [self._record("reset", *wire.pack(content), raw=rows.nbytes)]
            if self.samples is not None:
                out.append(self._samples_message(self.samples, with_inputs=True))
        return out

    @property
    def pending_rows(self) -> int:
        """Rows recorded but not yet taken."""
        with self.lock:
            return len(self._pending)

    def _samples_message(self, frame: SampleFrame, *, with_inputs: bool) -> Message:
        content: dict[str, Any] = {"op": "samples", "step": frame.step, "cols": frame.cols}
        if frame.images is not None:
            content["images"] = frame.images
        if frame.points is not None:
            content["points"] = frame.points
        if frame.recon_outputs is not None:
            content["recon"] = frame.recon_outputs
            if with_inputs:
                content["recon_inputs"] = frame.recon_inputs
                self._recon_inputs_sent = True
        packed, buffers = wire.pack(content)
        raw = sum(np.asarray(a).nbytes for a in (content.get(k) for k in ("images", "points", "recon",
                                                                         "recon_inputs")) if a is not None)
        return self._record("samples", packed, buffers, raw=raw)

    def _record(self, op: str, content: Any, buffers: wire.Buffers, raw: int | None = None) -> Message:
        payload = wire.payload_size(content, buffers)
        self.stats.append(WireStat(op, payload, payload if raw is None else raw))
        return content, buffers
