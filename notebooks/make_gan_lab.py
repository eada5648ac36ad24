"""Write notebooks/gan_lab.ipynb (outputs stripped): a GAN on `ring`, GAN Lab style, with the heatmap and panel.

    .venv/bin/python notebooks/make_gan_lab.py

CI executes the notebook (tests/test_gan_lab_notebook.py); edit this script, not the .ipynb.
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import write_notebook

CELLS = [
    ("markdown", """\
# GAN Lab in a notebook: what the discriminator thinks, live

A GAN learns the 8-Gaussian `ring`. On the left, `DiscriminatorHeatmap(run)` shows the
discriminator's D(x) = P(real) over the data plane (green: "real", magenta: "fake"), the real
points (dark), the generated points (orange), and arrows on generated points: the direction the
generator wants to move each sample (the gradient of log D). On the right, the `TrainingPanel`
shows the losses, the sample scatter and the controls (pause, resume, step, learning rates).

Both follow the same `Run`; neither makes training wait. This notebook trains 400 steps so it
runs in seconds on a CPU; raise `STEPS` to a few thousand to watch the generator find all
eight modes."""),
    ("code", """\
import ipywidgets as widgets

import genwidgets as gw
from genwidgets.widgets import DiscriminatorHeatmap, TrainingPanel

STEPS = 400
run = gw.train("gan", data="ring", preset="toy2d", steps=STEPS, log_every=10, sample_every=100,
               checkpoint_every=None)
heatmap = DiscriminatorHeatmap(run)
panel = TrainingPanel(run)
widgets.HBox([heatmap, panel], layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))"""),
    ("markdown", """\
The heatmap's toolbar changes what it computes: the grid's resolution (128×128 by default,
scored in one batched forward pass), and whether points and arrows are drawn. The same traits
are settable from Python, e.g. `heatmap.resolution = 64`.

When the run ends, compare what the discriminator says about real and generated points."""),
    ("code", """\
run.wait()
heatmap.wait_idle()
summary = heatmap.frame["summary"]
print(f"heatmap shows step {heatmap.step} of {STEPS}: mean D on real points {summary['real_mean']:.3f}, "
      f"on generated points {summary['fake_mean']:.3f}")
assert heatmap.step == run.step_count == STEPS"""),
    ("markdown", """\
A WGAN-GP critic is not a probability: its scores are unbounded and only differences mean
something. The heatmap says so in its legend and draws them on a symmetric scale around the
midpoint of the real and generated points' mean scores."""),
    ("code", """\
critic_run = gw.train("wgan_gp", data="ring", preset="tiny", steps=200, checkpoint_every=None)
critic_run.wait()
critic = DiscriminatorHeatmap(critic_run, resolution=64)
critic.wait_idle()
print("critic legend:", critic.frame["scale"]["title"])
critic"""),
    ("markdown", """\
## Did the generator find every mode?

The protocol of the VEEGAN and PacGAN papers: draw 2,500 samples; a sample is *high quality* when it
lies within 3 standard deviations of a mode, and a mode is *covered* when it has one. Reverse KL
compares how samples spread over the modes with the uniform spread of the data. A few hundred steps
usually cover the modes with few high-quality samples; thousands of steps sharpen them."""),
    ("code", """\
from genwidgets.metrics import evaluate

modes = evaluate(run.model, data="ring", metrics=["modes"])["metrics"]["modes"]
print(f"GAN after {STEPS} steps: {modes['modes_covered']} of {modes['num_modes']} modes covered, "
      f"{modes['hq_percent']:.1f} % high-quality samples, reverse KL {modes['reverse_kl']:.3f}")"""),
]


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(CELLS, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "gan_lab.ipynb"))
