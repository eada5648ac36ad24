"""The runs under a board's root, kept current by cheap polling.

:class:`RunsIndex` lists every run folder under a root (see :mod:`.runs`) and, on each
:meth:`RunsIndex.refresh`, re-reads only the folders whose files changed (a few ``stat`` calls per
folder tell), so a board over hundreds of runs follows the live ones at a one-second poll without
reading the others again. The metric curves a board draws are followed the same way, per run and only
while shown (:meth:`RunsIndex.curves`).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .metrics_file import MetricsFile, MetricsFileError
from .runs import RunSummary, find_run_folders, folder_signature, foreign_summary, summarise


@dataclasses.dataclass
class Refresh:
    """What one :meth:`RunsIndex.refresh` found: ids of runs that are new or changed, and of runs gone."""

    changed: list[str]
    removed: list[str]

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


class RunsIndex:
    """Summaries of the run folders under ``root``, refreshed on demand.

    Args:
        root: The folder to list (a run folder, a sweep's folder, or a folder of either).
        max_points: Rows kept per followed curve (see :class:`~.metrics_file.MetricsFile`).
    """

    def __init__(self, root: str | os.PathLike, *, max_points: int = 2000) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root} is not a folder; pass the folder your runs are in "
                                    "(genwidgets board runs/)")
        self.max_points = max_points
        self.runs: dict[str, RunSummary] = {}
        self._files: dict[str, MetricsFile] = {}
        self._lock = threading.RLock()

    def refresh(self) -> Refresh:
        """Find new, changed and removed folders; re-read only the changed ones."""
        runs, foreign = find_run_folders(self.root)
        seen: set[str] = set()
        changed: list[str] = []
        with self._lock:
            by_path = {s.path: s for s in self.runs.values()}
            for path in runs:
                old = by_path.get(path)
                if old is not None and old.signature == folder_signature(path):
                    seen.add(old.id)
                    continue
                summary = summarise(path, self.root)
                self.runs[summary.id] = summary
                seen.add(summary.id)
                changed.append(summary.id)
            for path in foreign:
                summary = foreign_summary(path, self.root)
                previous = self.runs.get(summary.id)
                if previous is None or previous.state != "foreign":  # new, or a run folder whose files went
                    changed.append(summary.id)
                self.runs[summary.id] = summary
                seen.add(summary.id)
            removed = [rid for rid in self.runs if rid not in seen]
            for rid in removed:
                del self.runs[rid]
                self._files.pop(rid, None)
        return Refresh(changed=changed, removed=removed)

    def rows(self) -> list[dict[str, Any]]:
        """Every summary as a table row, ordered by id."""
        with self._lock:
            return [self.runs[rid].to_row() for rid in sorted(self.runs)]

    def metric_names(self) -> list[str]:
        """Every metric a run has logged or been evaluated on (logged first, then evaluated)."""
        with self._lock:
            logged = sorted({k for s in self.runs.values() for k in s.metrics})
            evaluated = sorted({k for s in self.runs.values() for k in s.evaluation})
        return logged + evaluated

    def varied_config(self) -> list[str]:
        """Config fields whose values differ between runs of the same family (the table highlights them)."""
        with self._lock:
            by_model: dict[str | None, list[dict[str, Any]]] = {}
            for s in self.runs.values():
                if s.config:
                    by_model.setdefault(s.model, []).append(s.config)
        varied: set[str] = set()
        for configs in by_model.values():
            keys = {k for c in configs for k in c}
            varied.update(k for k in keys if len({repr(c.get(k)) for c in configs}) > 1)
        return sorted(varied)

    def followed(self, run_id: str) -> MetricsFile | None:
        """The metrics file followed for ``run_id`` (None while its curve is not shown)."""
        with self._lock:
            return self._files.get(run_id)

    def curves(self, ids: Iterable[str], metric: str) -> dict[str, tuple[Any, Any] | str]:
        """Each run's ``metric`` curve (steps, values), following its file; an error text where it cannot be read.

        Files are followed only while asked for: a run no longer in ``ids`` drops its kept rows.
        """
        wanted = list(ids)
        out: dict[str, tuple[Any, Any] | str] = {}
        with self._lock:
            for rid in list(self._files):
                if rid not in wanted:
                    del self._files[rid]
            for rid in wanted:
                summary = self.runs.get(rid)
                if summary is None:
                    continue
                path = summary.path / "metrics.csv"
                if not path.exists():
                    out[rid] = "no metrics.csv yet"
                    continue
                followed = self._files.get(rid)
                if followed is None:
                    followed = self._files[rid] = MetricsFile(path, max_points=self.max_points)
                try:
                    followed.follow()
                except (OSError, MetricsFileError) as exc:
                    out[rid] = str(exc)
                    continue
                if metric not in followed.columns:
                    out[rid] = f"{metric} is not logged by this run"
                    continue
                out[rid] = followed.curve(metric)
        return out


__all__ = ["Refresh", "RunsIndex"]
