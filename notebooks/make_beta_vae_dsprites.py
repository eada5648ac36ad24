"""Write notebooks/beta_vae_dsprites.ipynb (outputs stripped): VAE vs beta-VAE on dSprites, traversals and MIG.

    .venv/bin/python notebooks/make_beta_vae_dsprites.py

CI executes the notebook (tests/test_notebooks.py); edit this script, not the .ipynb.
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import write_notebook

CELLS = [
    ("markdown", """\
# beta-VAE on dSprites: traversals and the mutual information gap

dSprites (Matthey et al. 2017; rendered here procedurally, nothing is downloaded) has five known
factors of variation: shape, scale, rotation, and x and y position. A beta-VAE (Higgins et al.
2017) presses its posterior towards the prior with a weight beta > 1 on the KL term, which
encourages each latent dimension to capture one factor.

The explorer's **traversals** show it: each row sweeps one latent dimension (ranked by KL) from -3
to +3 with the others fixed. The **mutual information gap** (MIG, Chen et al. 2018) measures it: for
each factor, the gap between the two latent dimensions most informative about it, normalised by the
factor's entropy, averaged over factors (0: entangled, 1: one dimension per factor).

These MLP models train for 1,500 steps so the notebook runs in a few minutes on a CPU; disentangling
takes far longer (Higgins et al. train for hundreds of thousands of steps), so expect small MIGs here
and compare the two models rather than the absolute values. For codes that disentangle, train the
beta-VAE's default network (Burgess et al.'s conv net) for tens of thousands of steps, with two
planned learning-rate drops, e.g. `genwidgets train beta_vae --data dsprites --set beta=8
--at 45000:lr=1e-4 --at 80000:lr=2e-5 --steps 100000 --checkpoint-every 5000` (about 0.1 s a step on
one CPU thread), then explore the checkpoint with
`LatentExplorer(gw.load_model(path), data="dsprites")`;
`benchmarks/RESULTS.md` lists the MIG it reaches."""),
    ("code", """\
import genwidgets as gw
from genwidgets.metrics import evaluate
from genwidgets.widgets import LatentExplorer

SMALL = {"latent_dim": 10, "architecture": "mlp", "hidden": (512, 256), "batch_size": 64}
runs = {}
for family, extra in (("vae", {}), ("beta_vae", {"beta": 4.0})):
    runs[family] = gw.train(family, data="dsprites", config={**SMALL, **extra}, steps=1500,
                            log_every=100, sample_every=500, checkpoint_every=None)
for run in runs.values():
    run.wait()
explorers = {family: LatentExplorer(run, n=2000) for family, run in runs.items()}
explorers["beta_vae"]  # the map is coloured by shape; the traversal grid is below the map"""),
    ("code", """\
explorers["vae"]"""),
    ("code", """\
for family, run in runs.items():
    result = evaluate(run.model, data="dsprites", metrics=["disentanglement"], n=5000)
    scores = result["metrics"]["disentanglement"]
    kl = explorers[family].slider_scores
    active = sum(s > 0.1 for s in kl)
    print(f"{family:9s}: MIG {scores['mig']['mig']:.3f} (FactorVAE score {scores['factor_vae']['score']:.2f}), "
          f"active dimensions (KL > 0.1 nats) {active} of {len(kl)}, total KL {sum(kl):.1f} nats")
    print("           MIG per factor:", {k: round(v, 3) for k, v in scores["mig"]["per_factor"].items()})"""),
]


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(CELLS, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "beta_vae_dsprites.ipynb"))
