"""A syrupy snapshot of the training panel's state after a seeded short run (no browser)."""

from __future__ import annotations

import anywidget
import numpy as np

import genwidgets as gw
from genwidgets.widgets import TrainingPanel, wire

#: Traits every anywidget has (layout is a random IPY_MODEL id), plus this panel's random uid.
SKIP = set(anywidget.AnyWidget.class_trait_names(sync=True)) | {"_esm", "_css", "_anywidget_id", "uid"}
#: Progress fields that depend on the machine's speed.
TIMING = ("steps_per_sec", "elapsed", "remaining")


def panel_state(panel: TrainingPanel) -> dict:
    """The panel's synced state plus what a newly opened front end receives, without timing noise."""
    state = {k: v for k, v in panel.get_state().items() if k not in SKIP}
    state["progress"] = {k: ("<timing>" if k in TIMING and v is not None else v)
                         for k, v in state["progress"].items()}
    reset, samples = (wire.unpack(c, b) for c, b in panel.feed.reset_messages("snapshot"))
    rows = reset.pop("rows")
    images = samples.pop("images")
    state["history"] = {**reset, "rows": np.round(rows.astype(np.float64), 3).tolist()}
    state["samples"] = {**samples, "images": {"dtype": str(images.dtype), "shape": list(images.shape),
                                              "mean": round(float(images.mean()), 0)}}
    return state


def test_panel_state_after_a_seeded_run(snapshot) -> None:
    run = gw.train("dcgan", data="mnist", preset="tiny", steps=12, log_every=3, sample_every=6,
                   checkpoint_every=None, start=False)
    panel = TrainingPanel(run)
    run.start().wait()
    panel.wait_idle()
    assert panel_state(panel) == snapshot
    panel.close()
