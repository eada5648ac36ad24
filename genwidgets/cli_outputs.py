"""Figures the command line writes beside a run after training: reconstructions, samples next to data.

The sample grid of each sample event is written by the ``samples`` logger plugin
(:mod:`genwidgets.loggers.sample_grids`, whose :class:`SampleWriter` is re-exported here), for
every run with an output folder, from Python as from the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .images import make_grid, points_png, save_png, to_uint8
from .loggers.sample_grids import SampleWriter

__all__ = ["SampleWriter", "write_final_figures"]


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
