"""Figures the command line writes beside a run: sample grids and reconstructions."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from .images import make_grid, points_png, save_png, to_uint8
from .runtime.events import Event


class SampleWriter:
    """Event subscriber that writes each sample grid to ``out/samples/step-N.png`` and ``out/samples.png``.

    A grid that cannot be written (a full disk, permissions) is skipped, never half-written (PNGs
    are written atomically); the failure is published as a ``warning`` event on ``run`` (once per
    kind of error) so the command line and the panel show it, and training goes on.
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
        if event.kind != "samples":
            return
        with self._lock:
            try:
                self._write(event)
            except OSError as exc:
                self._report(event, exc)

    def _write(self, event: Event) -> None:
        name = f"step-{event.step:08d}.png"
        if "images" in event.data:
            grid = make_grid(event.data["images"], nrow=_columns(event))
            paths = [save_png(grid, self.out / "samples" / name, scale=2),
                     save_png(grid, self.out / "samples.png", scale=2)]
        else:
            pts = event.data["points"]
            paths = [points_png(pts, self.out / "samples" / name), points_png(pts, self.out / "samples.png")]
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


def write_final_figures(run: Any, out: str | Path) -> list[Path]:
    """After training: reconstructions (models that encode and decode) and data next to samples for points."""
    import torch

    out = Path(out)
    model, written = run.model, []
    batch = run.data.examples(32, seed=0)
    caps = model.capabilities
    if caps.can_encode and caps.can_decode and model.data_spec.kind == "images":
        x = batch.x.to(model.device)
        labels = batch.labels.to(model.device) if batch.labels is not None and caps.conditional else None
        with torch.no_grad():
            model.eval()
            recon = model.decode(model.encode(x, labels=labels), labels=labels)
            model.train()
        pairs = np.concatenate([to_uint8(x[:16]), to_uint8(recon[:16]), to_uint8(x[16:32]), to_uint8(recon[16:32])])
        written.append(save_png(make_grid(pairs, nrow=16), out / "reconstructions.png", scale=2))
    if model.data_spec.kind == "points" and run.latest_samples is not None:
        ref = run.data.examples(2000, seed=0).x.cpu().numpy()
        written.append(points_png(run.latest_samples.data["points"], out / "samples_vs_data.png", reference=ref))
    return written
