"""A syrupy snapshot of the training panel after a seeded short run, through the plugin's ``widget_snapshot``.

The panel's synced state and what a newly opened front end receives (the history reset and the
sample grid) go to ``__snapshots__/test_training_panel_snapshot.ambr``, with floats rounded to 4
significant digits and timing fields replaced; the sample grid is a PNG beside it.

The panel shows training, so its subject is a training run; what can vary is pinned: seed 0,
the CPU, one thread (torch's default thread count follows the machine's cores, and another
count sums in another order). Measured: training the same 12 steps on 2 or 3 threads instead
moves the losses by at most 2e-6 and the samples by at most 1/255, far inside the snapshot's
tolerance (one unit of the last kept digit: 0.01 for these rows, whose largest value is the
step, 12; and the PNG's pixel tolerance).
"""

from __future__ import annotations

import genwidgets as gw
from genwidgets.runtime.runtime import Runtime
from genwidgets.widgets import TrainingPanel


def test_panel_state_after_a_seeded_run(widget_snapshot) -> None:
    model = gw.build_model("dcgan", gw.load_data("mnist").spec, preset="tiny",
                           runtime=Runtime.create(device="cpu", seed=0, num_threads=1))
    run = gw.train(model, data="mnist", steps=12, log_every=3, sample_every=6, checkpoint_every=None, start=False)
    panel = TrainingPanel(run)
    run.start().wait()
    assert panel == widget_snapshot
    panel.close()
