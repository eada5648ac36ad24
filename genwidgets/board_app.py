"""The runs board in the application: :func:`board` in a notebook, ``genwidgets board DIR`` as a page of its own.

:func:`board` shows a :class:`~genwidgets.widgets.RunsBoard` above an output area where the runs it opens
appear (:func:`open_view` makes their widgets: opening a run resumes or loads it, which is the application's
job, not the widget's).

``genwidgets board DIR`` is for people who do not write notebook code.
The page is Voila (an existing server for notebook dashboards) running a one-cell notebook,
``genwidgets.board(DIR)``, that this module writes into a temporary folder of its own and removes when
the server stops. Nothing is written into the runs folder. The page shows only the board (no code), with
the same table, curves, grids and buttons as in a notebook; a run opened from it appears below the board.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import webbrowser
from pathlib import Path
from typing import Any

from .errors import ConfigError

NOTEBOOK = "runs-board.ipynb"


def board_notebook(root: Path, interval: float) -> dict:
    """The one-cell notebook the page runs (nbformat 4 JSON)."""
    source = f"import genwidgets as gw\ngw.board({str(root)!r}, interval={interval!r})"
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "cells": [{"cell_type": "code", "id": "board", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": source}]}


def voila_command(notebook: Path, *, port: int, theme: str) -> list[str]:
    """The Voila command line that serves ``notebook`` on 127.0.0.1:``port``."""
    return [sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1",
            "--Voila.port_retries=0", f"--theme={theme}", "--show_tracebacks=True"]


def serve(root: str | os.PathLike, *, port: int = 8866, theme: str = "light", interval: float = 0.5,
          open_browser: bool = True) -> int:
    """Serve the board of ``root`` until Ctrl-C; returns Voila's exit status.

    Raises:
        ConfigError: ``root`` is not a folder, or Voila is not installed (the message says how to install it).
    """
    folder = Path(root).resolve()
    if not folder.is_dir():
        raise ConfigError(f"{root} is not a folder; pass the folder your runs are in: genwidgets board runs/")
    try:
        import voila  # noqa: F401 - only checked for: the server runs in its own process
    except ImportError as exc:
        raise ConfigError("genwidgets board serves its page with Voila, which is not installed: "
                          "pip install 'genwidgets[board]' (or, in a notebook: genwidgets.board('runs'))") from exc
    work = Path(tempfile.mkdtemp(prefix="genwidgets-board-"))
    try:
        notebook = work / NOTEBOOK
        notebook.write_text(json.dumps(board_notebook(folder, interval), indent=1), encoding="utf-8")
        url = f"http://127.0.0.1:{port}/"
        print(f"runs board of {folder} at {url} (Ctrl-C stops it)", file=sys.stderr, flush=True)
        process = subprocess.Popen(voila_command(notebook, port=port, theme=theme), cwd=work)
        if open_browser:
            webbrowser.open(url)
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            try:
                return process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                return process.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the folder this function made, nothing else


class Board:
    """A :class:`RunsBoard` above an output area where the runs it opens appear (what :func:`genwidgets.board` returns).

    Displays as both, stacked. ``.widget`` is the board, ``.opened`` the output area.
    """

    def __init__(self, root: str | os.PathLike, **options: Any) -> None:
        import ipywidgets

        from .widgets.runs_board import RunsBoard

        self.widget = RunsBoard(root, opener=open_view, **options)
        self.opened = ipywidgets.Output()
        self.widget.opened = self.opened
        self.box = ipywidgets.VBox([self.widget, self.opened])

    def open_run(self, run_id: str, view: str) -> Any:
        """Open a run in a view, shown below the board (see :meth:`RunsBoard.open_run`)."""
        return self.widget.open_run(run_id, view)

    def close(self) -> None:
        """Close the board and what it opened."""
        self.widget.close()
        self.opened.close()
        self.box.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.box._repr_mimebundle_(**kwargs)
        from .widgets.png import with_png

        return with_png(bundle, self.widget.to_png)

    def __repr__(self) -> str:
        return f"<Board of {len(self.widget.rows)} run folders in {self.widget.index.root}>"


def open_view(run_dir: Path, view: str) -> Any:
    """The widget of run folder ``run_dir`` in ``view``: the training panel, the latent explorer or the heatmap.

    ``panel`` resumes the run from its newest checkpoint without starting it (its Start button trains on in
    the same folder); ``explorer`` and ``heatmap`` load the newest checkpoint's model and its data set.
    """
    from .api import resume
    from .runtime.checkpoint import resolve_checkpoint
    from .runtime.loading import load_checkpoint_data, load_model

    if view == "panel":
        from .widgets.training_panel import TrainingPanel

        return TrainingPanel(resume(run_dir, start=False))
    checkpoint = resolve_checkpoint(run_dir)
    model = load_model(checkpoint)
    data = load_checkpoint_data(checkpoint)
    if view == "explorer":
        from .widgets.latent_explorer import LatentExplorer

        return LatentExplorer(model, data)
    from .widgets.discriminator_heatmap import DiscriminatorHeatmap

    return DiscriminatorHeatmap(model, data=data)


def board(root: str | os.PathLike = "runs", *, interval: float = 0.5, selected: list[str] | None = None,
          metric: str | None = None) -> Board:
    """A runs board over every run folder under ``root``, live (see :class:`~genwidgets.widgets.RunsBoard`).

    Example::

        genwidgets.board("runs/beta")    # the table, curves, grids through time, MIG against beta

    Args:
        root: A run folder, a sweep's folder, or a folder of either.
        interval: Seconds between polls of the folders (0.5: a live run's new rows show within about half a
            second, at about 3 % of a core idle and 7-9 % while 4 of 200 runs train; benchmarks/board.py).
        selected: Run ids (folder paths relative to ``root``) to show first; default: the first four.
        metric: The metric the curves show first; default: ``loss`` when logged.

    Returns:
        A :class:`Board`: the board widget (``.widget``) above the area where runs open (``.opened``).
    """
    return Board(root, interval=interval, selected=selected, metric=metric)


__all__ = ["Board", "board", "board_notebook", "open_view", "serve", "voila_command"]
