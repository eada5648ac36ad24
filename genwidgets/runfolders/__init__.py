"""Run folders read for the runs board: found, summarised from small files, followed live in bounded memory.

* :mod:`.runs` finds run folders under a root and summarises each from small files;
* :mod:`.metrics_file` reads a ``metrics.csv``'s newest row from its tail and follows its curve in bounded memory;
* :mod:`.index` keeps the summaries current, re-reading only folders whose files changed.

The widget is :class:`genwidgets.widgets.RunsBoard`, shown by :func:`genwidgets.board`.
"""

from __future__ import annotations

from .index import Refresh, RunsIndex
from .metrics_file import MetricsFile, MetricsFileError, last_row
from .runs import RunSummary, find_run_folders, summarise

__all__ = ["MetricsFile", "MetricsFileError", "Refresh", "RunSummary", "RunsIndex", "find_run_folders", "last_row",
           "summarise"]
