"""Write notebooks/dcgan_cgan.ipynb (outputs stripped): DCGAN and cGAN on MNIST, scored by FID/KID and P&R.

    .venv/bin/python notebooks/make_dcgan_cgan.py

CI executes the notebook (tests/test_notebooks.py); edit this script, not the .ipynb.
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import write_notebook

CELLS = [
    ("markdown", """\
# DCGAN and cGAN on MNIST: samples by class, the discriminator's view, and measured quality

* **DCGAN** (Radford et al. 2016): strided convolutions, batch norm, Adam(2e-4, beta1 = 0.5).
* **cGAN** (Mirza & Osindero 2014): the class label goes into both networks, so you choose the digit.

Quality is measured, not eyeballed: FID and KID in the feature space of a classifier trained on the
embedded digits (no Inception weights can be downloaded), always next to the real-vs-real floor at
the same sample size; precision and recall (Kynkäänniemi et al. 2019, k = 3); and, for the cGAN, how
often the classifier reads the digit that was asked for. The MNIST classifier ships with genwidgets
(a data set of your own trains its own once, about a minute on a CPU, and caches it).

The runs here are short so the notebook runs in a few minutes; `benchmarks/RESULTS.md` has the
figures of full-length runs."""),
    ("code", """\
import genwidgets as gw
from genwidgets.metrics import evaluate
from genwidgets.widgets import DiscriminatorHeatmap, TrainingPanel

dcgan = gw.train("dcgan", data="mnist", steps=300, log_every=10, sample_every=100, checkpoint_every=None)
cgan = gw.train("cgan", data="mnist", steps=1500, log_every=50, sample_every=500, checkpoint_every=None)
TrainingPanel(cgan)  # one row of samples per class: the label picks the digit"""),
    ("markdown", """\
Which samples fool the discriminator? The score grid frames real and generated digits by D(x) on
one colour scale; sort it by score in the toolbar."""),
    ("code", """\
dcgan.wait()
scores = DiscriminatorHeatmap(dcgan, view="scores")
scores"""),
    ("code", """\
cgan.wait()
for name, run in (("DCGAN", dcgan), ("cGAN", cgan)):
    m = evaluate(run.model, data="mnist", metrics=["images"], n=1000)["metrics"]["images"]
    line = (f"{name:5s} after {run.step_count} steps: FID {m['fid']:.2f} (real-vs-real floor {m['fid_floor']:.2f}), "
            f"KID {m['kid']:.4f}, precision {m['precision']:.2f}, recall {m['recall']:.2f}")
    if "label_accuracy" in m:
        line += f", label accuracy {m['label_accuracy']:.2f}"
    print(line)"""),
    ("markdown", """What has the generator learned to make? A GAN has no encoder, and its 100-D prior codes projected by
PCA are a featureless ball. The latent explorer instead places each of 2,000 prior codes where the
MNIST classifier's features put the digit the generator makes of it, coloured by the class the
classifier sees: clusters are the digits the DCGAN draws, and a missing colour is a digit it does not.
Its sliders are the latent dimensions ranked by how much the image changes along them. Click or drag
on the map to decode a code there."""),
    ("code", """from genwidgets.widgets import LatentExplorer

LatentExplorer(dcgan)"""),
]


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(CELLS, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "dcgan_cgan.ipynb"))
