"""Write notebooks/sweep.ipynb (outputs stripped): a beta sweep on dSprites, watched and compared on the runs board.

    .venv/bin/python notebooks/make_sweep.py

CI executes the notebook (tests/test_notebooks.py); edit this script, not the .ipynb.
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import write_notebook

CELLS = [
    ("markdown", """\
# A beta sweep on dSprites, compared on the runs board

One run says little about a hyperparameter; a sweep says how the result moves with it. This notebook
trains a beta-VAE (Higgins et al. 2017) on dSprites for two values of beta, two seeds each, measures
each run's mutual information gap (MIG, Chen et al. 2018) as it finishes, and shows every run on the
**runs board**: the runs as a table (the varied field highlighted), their curves overlaid by step, their
sample grids side by side with a slider through training, and MIG against beta with one point per seed.

`gw.sweep` writes each run as a normal run folder (`runs/beta-sweep/beta=8,seed=1/`...), so every other
tool reads it, and a sweep started again skips finished runs and resumes stopped ones. With
`parallel=K` it trains K runs at once, each in its own process on one CPU thread. The same sweep from a
terminal: `genwidgets sweep beta_vae --data dsprites --vary beta=1,8 --seeds 0,1 --steps 600
--evaluate disentanglement --out runs/beta-sweep`, and the board as a page of its own:
`genwidgets board runs/beta-sweep`.

These small MLP runs take a few minutes on a CPU; disentangling takes far longer (see
`beta_vae_dsprites.ipynb`), so compare the runs with each other rather than with published MIGs."""),
    ("code", """\
import genwidgets as gw

SMALL = {"latent_dim": 10, "architecture": "mlp", "hidden": (256, 128), "batch_size": 64}
sweep = gw.sweep("beta_vae", data="dsprites", config=SMALL, vary={"beta": [1.0, 8.0]}, seeds=[0, 1],
                 steps=600, out="runs/beta-sweep", evaluate=["disentanglement"], evaluate_n=2000,
                 log_every=20, sample_every=100, checkpoint_every=None)
board = gw.board("runs/beta-sweep", metric="kl")
board  # live while the sweep trains: tick runs to overlay their curves, drag the slider to scrub their samples"""),
    ("code", """\
sweep.wait()
for outcome in sorted(sweep.outcomes, key=lambda o: o["name"]):
    mig = outcome.get("evaluation", {}).get("disentanglement.mig")
    print(f"{outcome['name']:14s}: {outcome['state']} at step {outcome['step']}, MIG {mig:.3f}")
board.widget.param, board.widget.param_metric = "beta", "disentanglement.mig"
board.widget.poll()
print(f"board: {len(board.widget.rows)} runs, {board.widget.param_metric} against {board.widget.param}")"""),
    ("markdown", """\
The board's last plot now shows MIG against beta: a dot per run, the mean and standard deviation over
the two seeds per value. The table's **explorer** button opens a run's latent space below the board
(its traversals show which dimensions the larger beta frees from the others), and **panel** reopens a
run's training panel, whose Start button trains it further in the same folder."""),
]


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(CELLS, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "sweep.ipynb"))
