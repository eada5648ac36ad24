"""A syrupy snapshot of the training panel after a seeded short run, through the plugin's ``widget_snapshot``.

The panel's synced state and what a newly opened front end receives (the history reset and the
sample grid) go to ``__snapshots__/test_training_panel_snapshot.ambr``, with floats rounded to 4
significant digits and timing fields replaced; the sample grid is a PNG beside it.
"""

from __future__ import annotations

import genwidgets as gw
from genwidgets.widgets import TrainingPanel


def test_panel_state_after_a_seeded_run(widget_snapshot) -> None:
    run = gw.train("dcgan", data="mnist", preset="tiny", steps=12, log_every=3, sample_every=6,
                   checkpoint_every=None, start=False)
    panel = TrainingPanel(run)
    run.start().wait()
    assert panel == widget_snapshot
    panel.close()
