"""Reading a run's ``metrics.csv`` the way a board needs it: the newest row at once, the curve bounded, new rows live.

A long run's CSV holds hundreds of thousands of rows; a board over many runs must neither read them all
to list the runs nor keep them all to draw a curve.

* :func:`last_row` reads only the file's tail (a few kB), whatever its length.
* :class:`MetricsFile` follows one file: :meth:`MetricsFile.follow` parses only the bytes added since
  its last call (whole lines only: a row being written is picked up next time), and keeps at most
  ``max_points`` rows by the rule the live panel uses (:class:`~genwidgets.runtime.history.MetricHistory`):
  when full, every other kept row goes and the stride of kept new rows doubles, so the curve keeps its
  shape from the first step to the last in bounded memory (as TensorBoard downsamples for display).
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

#: How much of a file's end :func:`last_row` reads (a row is well under this).
TAIL_BYTES = 8192
#: Bytes parsed per read while following (bounds the memory of a first read of a huge file).
CHUNK_BYTES = 4 << 20


class MetricsFileError(ValueError):
    """``metrics.csv`` cannot be read as genwidgets writes it (the message says what is wrong)."""


def read_header(path: str | os.PathLike) -> list[str]:
    """The column names of a metrics CSV (``step`` first).

    Raises:
        MetricsFileError: the file is empty or its header is not a genwidgets metrics header.
    """
    with open(path, "rb") as fh:
        line = fh.readline(65536)
    names = line.decode("utf-8", "replace").strip().split(",")
    if not line.endswith(b"\n") or not names or names[0] != "step":
        raise MetricsFileError(f"{path} does not start with a metrics header (step,time,...): is it genwidgets'?")
    return names


def parse_value(text: str) -> float:
    """One CSV field as a float (an empty field, a missing metric, is NaN)."""
    return float(text) if text else math.nan


def last_row(path: str | os.PathLike, columns: list[str] | None = None) -> dict[str, float] | None:
    """The newest complete row of a metrics CSV as ``{column: value}``, reading only the file's tail.

    Returns None when the file has a header and no row yet.

    Raises:
        MetricsFileError: the header or the last row cannot be read.
    """
    columns = columns or read_header(path)
    with open(path, "rb") as fh:
        size = fh.seek(0, io.SEEK_END)
        fh.seek(max(0, size - TAIL_BYTES))
        tail = fh.read()
    lines = [line for line in tail.split(b"\n")[:-1] if line]  # whole lines only
    if not lines:
        return None
    text = lines[-1].decode("utf-8", "replace").split(",")
    if text == columns:
        return None
    if len(text) != len(columns):
        raise MetricsFileError(f"{path}: the last row has {len(text)} fields, the header {len(columns)}")
    try:
        return {name: parse_value(value) for name, value in zip(columns, text, strict=True)}
    except ValueError as exc:
        raise MetricsFileError(f"{path}: the last row is not numbers ({exc})") from exc


class MetricsFile:
    """A followed ``metrics.csv``: bounded rows in memory, new rows read as they are appended.

    Attributes:
        columns: The header (``step``, ``time``, ``steps_per_sec``, the metrics).
        rows: The kept rows, one per line of the file at the current stride (a float64 array, ``len(columns)``
            wide; NaN where a metric was not logged).
        stride: Keep every ``stride``-th new row (doubles each time the buffer is halved).
    """

    def __init__(self, path: str | os.PathLike, *, max_points: int = 2000) -> None:
        if max_points < 4:
            raise ValueError("max_points must be at least 4")
        self.path = Path(path)
        self.max_points = max_points
        self.columns: list[str] = []
        self.rows = np.zeros((0, 0))
        self.stride = 1
        self._seen = 0
        self._offset = 0
        #: The newest row read (kept even when the stride thins it out of ``rows``), or None.
        self.last: np.ndarray | None = None
        self._identity: tuple[int, int] | None = None

    @property
    def steps(self) -> np.ndarray:
        """The kept rows' steps."""
        return self.rows[:, 0] if len(self.rows) else np.zeros(0)

    def column(self, name: str) -> np.ndarray:
        """The kept values of one column (ValueError for an unknown name)."""
        return self.rows[:, self.columns.index(name)] if len(self.rows) else np.zeros(0)

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Steps and values of one column to draw: the kept rows, ending at the newest row read."""
        index = self.columns.index(name)
        rows = self.rows
        if self.last is not None and (not len(rows) or rows[-1, 0] != self.last[0]):
            rows = np.concatenate([rows, self.last[None, :]]) if len(rows) else self.last[None, :]
        return rows[:, 0].copy(), rows[:, index].copy()

    def follow(self) -> int:
        """Read the rows appended since the last call; returns how many rows were read (0: nothing new).

        A file replaced under the same name (another run's, a restored copy) is read again from the start.

        Raises:
            MetricsFileError: the header or a row cannot be read.
        """
        stat = self.path.stat()
        identity = (stat.st_dev, stat.st_ino)
        if identity != self._identity or stat.st_size < self._offset:
            self._restart(identity)
        if stat.st_size == self._offset:
            return 0
        read = 0
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            while True:
                chunk = fh.read(CHUNK_BYTES)
                if not chunk:
                    break
                end = chunk.rfind(b"\n")
                if end < 0:  # a row being written: next time
                    break
                whole = chunk[: end + 1]
                parsed = self._parse(whole)  # raises before the offset moves: a bad row fails every read
                self._offset += len(whole)
                if len(whole) < len(chunk):
                    fh.seek(self._offset)
                read += self._add(parsed)
        return read

    def _restart(self, identity: tuple[int, int]) -> None:
        self.columns = read_header(self.path)
        self._identity = identity
        with open(self.path, "rb") as fh:
            self._offset = len(fh.readline())
        self.rows = np.zeros((0, len(self.columns)))
        self.stride, self._seen, self.last = 1, 0, None

    def _parse(self, data: bytes) -> np.ndarray:
        width = len(self.columns)
        try:  # the fast path: numpy's C parser
            parsed = np.loadtxt(io.BytesIO(data), delimiter=",", ndmin=2, dtype=np.float64, encoding="utf-8")
            if parsed.shape[1] == width:
                return parsed
        except ValueError:
            pass
        out = []  # empty fields (a metric missing in some rows) or a bad row: one line at a time, to say which
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines()):
            if not line:
                continue
            fields = line.split(",")
            if len(fields) != width:
                raise MetricsFileError(f"{self.path}: a row has {len(fields)} fields, the header {width} "
                                       f"(row {self._seen + number + 1})")
            try:
                out.append([parse_value(f) for f in fields])
            except ValueError as exc:
                raise MetricsFileError(f"{self.path}: row {self._seen + number + 1} is not numbers ({exc})") from exc
        return np.asarray(out, dtype=np.float64).reshape(-1, width)

    def _add(self, new: np.ndarray) -> int:
        """Keep every stride-th of ``new`` (counting from the file's first row), halving when full."""
        count = len(new)
        if count:
            self.last = new[-1].copy()
        while len(new):
            first = (-self._seen) % self.stride  # index in `new` of the next row to keep
            room = self.max_points - len(self.rows)
            take_until = min(len(new), first + room * self.stride) if first < len(new) else len(new)
            kept = new[first:take_until:self.stride]
            self.rows = np.concatenate([self.rows, kept]) if len(self.rows) else kept.copy()
            self._seen += take_until
            new = new[take_until:]
            if len(self.rows) >= self.max_points:
                self.rows = self.rows[::2].copy()
                self.stride *= 2
        return count


__all__ = ["MetricsFile", "MetricsFileError", "last_row", "read_header"]
