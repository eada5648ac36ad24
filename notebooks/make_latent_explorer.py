"""Write notebooks/latent_explorer.ipynb (outputs stripped): a VAE's latent space on MNIST, ELBO and NLL.

    .venv/bin/python notebooks/make_latent_explorer.py

CI executes the notebook (tests/test_latent_explorer_notebook.py); edit this script, not the .ipynb.
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import write_notebook

CELLS = [
    ("markdown", """\
# Explore a latent space

`LatentExplorer(run_or_model)` shows what a generative model learned about its data:

* **the map**: the data encoded into latent space (a VAE's posterior means), projected to 2-D by PCA
  or onto two latent dimensions you choose, coloured by label; hover a point to see its image;
* **probe**: click or drag anywhere on the map; the point is lifted back to a full latent code and
  decoded as you move (the components the map does not show come from the nearest data point, or
  are zero: the `fill` setting);
* **sliders**, one per latent dimension, ranked by their KL divergence to the prior (the dimensions
  the model actually uses come first);
* **interpolation** between two codes (linear or spherical) and **traversals**: each dimension swept
  over ±3 with the others fixed, the classic beta-VAE figure;
* a class selector for conditional models, and live re-encoding while a run trains.

This notebook trains small MLP models for a couple of thousand steps so that it runs in about a
minute on a CPU; train longer (or drop the `config` overrides) for crisper latent spaces."""),
    ("code", """\
import genwidgets as gw
from genwidgets.data.splits import train_test_split
from genwidgets.widgets import LatentExplorer

SMALL = {"latent_dim": 8, "architecture": "mlp", "hidden": (256,)}
mnist = gw.load_data("mnist")
train, held_out = train_test_split(mnist)  # 4,000 digits to train on, 1,000 the model never sees

vae = gw.train("vae", data=train, config=SMALL, steps=1500, log_every=100, sample_every=250,
               checkpoint_every=None)
explorer = LatentExplorer(vae, data=held_out, n=1000)  # live: re-encodes as the run reports new samples
explorer"""),
    ("markdown", """\
The explorer above follows the run while it trains, and maps the held-out digits. Once the run
finishes, the map shows the final model. Everything the widget does is also available from Python:
set `z` to decode a code, choose the map's axes with `dims`, or read the ranking of the dimensions."""),
    ("code", """\
vae.wait()
explorer.refresh()
explorer.wait_idle()
print("map:", explorer.map_info["description"], "|", explorer.map_info["projection"])
print("dimensions by", explorer.slider_measure, ":",
      ", ".join(f"z[{d}] {s:.2f}" for d, s in zip(explorer.slider_dims, explorer.slider_scores, strict=True)))
explorer.dims = explorer.slider_dims[:2]  # the two most informative dimensions as the axes
explorer.z = [0.0] * explorer.latent_dim  # decode the prior's mean
explorer.wait_idle()
print("axes now:", explorer.map_info["axis_titles"])"""),
    ("markdown", """\
## How well does it model digits it never saw?

The negative ELBO bounds the negative log-likelihood from above; the importance-weighted estimate
(Burda et al. 2016) with k = 1,000 samples per digit tightens it. Both in nats per digit, on the
held-out 1,000 (lower is better)."""),
    ("code", """\
from genwidgets.metrics import evaluate

nll = evaluate(vae.model, data=mnist, metrics=["likelihood"], n=300, iw_samples=1000)["metrics"]["likelihood"]
print(f"held-out: -ELBO {nll['neg_elbo']:.1f} ± {nll['neg_elbo_stderr']:.1f} nats, "
      f"IW-NLL (k={nll['k']}) {nll['iw_nll']:.1f} ± {nll['iw_nll_stderr']:.1f} nats")"""),
    ("markdown", """\
## beta-VAE: pressure towards the prior

A beta-VAE (Higgins et al. 2017) weighs the KL term by beta > 1, which trades reconstruction for a
posterior closer to the prior: less information per dimension, and with enough training, factors of
variation that line up with single dimensions (see `beta_vae_dsprites.ipynb`). Compare the KL per
dimension with the VAE's."""),
    ("code", """\
beta_vae = gw.train("beta_vae", data=train, config={**SMALL, "beta": 4.0}, steps=1500,
                    log_every=100, sample_every=500, checkpoint_every=None)
beta_vae.wait()
beta_explorer = LatentExplorer(beta_vae, data=held_out, n=1000)
beta_explorer"""),
    ("code", """\
def kl_summary(ex):
    \"\"\"Total KL of the explorer's model and its largest and smallest per-dimension KL.\"\"\"
    scores = ex.slider_scores
    return f"total KL {sum(scores):.1f} nats, top dimension {scores[0]:.2f}, weakest {scores[-1]:.2f}"

print("VAE      :", kl_summary(explorer))
print("beta-VAE :", kl_summary(beta_explorer))"""),
]


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(CELLS, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "latent_explorer.ipynb"))
