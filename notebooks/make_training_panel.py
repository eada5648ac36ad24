"""Write notebooks/training_panel.ipynb (outputs stripped): train DCGAN on MNIST with a live panel.

    .venv/bin/python notebooks/make_training_panel.py

CI executes the notebook (tests/test_training_panel_notebook.py); edit this script, not the .ipynb.
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import write_notebook

CELLS = [
    ("markdown", """\
# Watch and steer a training run

`TrainingPanel(run)` shows a run live: a loss curve per metric (smoothing, log scale, hover values),
the sample grid from fixed noise, progress, and controls (start, pause, resume, stop, single step,
save a checkpoint, live learning rates and D:G ratio). Every control acts on the Python `Run`, and
what the panel shows comes from the run itself, so calling `run.pause()` in a cell pauses the
panel too.

This notebook trains the `tiny` DCGAN preset so it runs in seconds on a CPU; drop `preset="tiny"`
for the real recipe."""),
    ("code", """\
import genwidgets as gw
from genwidgets.widgets import TrainingPanel

run = gw.train("dcgan", data="mnist", preset="tiny", steps=400, log_every=5, sample_every=50,
               checkpoint_every=None)
panel = TrainingPanel(run)
panel"""),
    ("markdown", """\
Steer from Python as well as from the buttons: pause, change the generator's learning rate and
the D:G step ratio (they apply at the next step), then resume. Each change shows as a dotted line
on the curves, labelled with the new values. Changes can also be planned when the run is made,
e.g. `gw.train(..., schedule={300: {"lr_d": 1e-4}})` for a drop after 300 steps; the panel lists
the planned ones until the run reaches them."""),
    ("code", """\
run.pause()
panel.wait_idle()
print("panel shows:", panel.state, "at step", panel.progress["step"])
run.set_hparams(lr_g=1e-4, d_steps=2)
run.resume()"""),
    ("code", """\
run.wait()
panel.wait_idle()
print("panel shows:", panel.state, "at step", panel.progress["step"], "with", panel.hparams)
assert panel.state == "finished" and panel.hparams["d_steps"] == 2
print("marked on the curves:", [(m["step"], m["values"]) for m in panel.edits])"""),
    ("markdown", """\
A second panel on the same (now finished) run starts from the run's history; where no live
front end exists (a saved notebook on a web viewer) the output shows a PNG of the panel."""),
    ("code", """\
TrainingPanel(run)"""),
]


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(CELLS, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "training_panel.ipynb"))
