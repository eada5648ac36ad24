"""Write notebooks/distributed.ipynb (outputs stripped): training in torchrun workers, watched from the notebook.

    .venv/bin/python notebooks/make_distributed.py

CI executes the notebook (tests/test_notebooks.py); edit this script, not the .ipynb.
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import write_notebook

CELLS = [
    ("markdown", """\
# Training in several processes, watched from the notebook

`genwidgets.launch` trains with PyTorch's DistributedDataParallel in `torchrun` worker processes
*outside* the kernel (one per GPU on a CUDA machine; gloo on the CPU here). Rank 0 streams its
events to the notebook over a local channel, so the panel, the latent explorer and the
discriminator heatmap attach to the launched run as they would to `genwidgets.train`. The
kernel keeps a CPU mirror of the model, refreshed with rank 0's weights at each sample grid.

The config's `batch_size` is the global batch: each of the 2 workers trains on half of it, and
gradients are averaged across them, so a step means the same as in one process."""),
    ("code", """\
import genwidgets as gw

run = gw.launch("dcgan", data="mnist", processes=2, preset="tiny", steps=60, log_every=5, sample_every=20,
                out="runs/distributed")
info = run.runtime.describe()
print(f"{info['processes']} workers ({len(run.pids)} pids) on {info['device']}")
run"""),
    ("markdown", """\
The panel's Pause, Resume, Step and Stop act on every worker at one step boundary: rank 0
receives the command and broadcasts it to the other ranks before their next step. From Python:"""),
    ("code", """\
run.pause()
paused_at = run.step_count
run.step(2)              # every worker trains 2 more steps, then pauses again
run.set_hparams(lr_g=1e-4)
run.resume()
run.wait()
print(f"state {run.state} at step {run.step_count}; paused at {paused_at}; lr_g now {run.hparams['lr_g']}")"""),
    ("markdown", """\
Rank 0 wrote the checkpoints, with the plain (unwrapped) weights, so they load in one process
like any other; the kernel's mirror holds the same weights."""),
    ("code", """\
model = gw.load_model("runs/distributed")
mirror = run.model.state_dict()
same = all((model.state_dict()[k] == v).all() for k, v in mirror.items())
print(f"checkpoint step {run.last_checkpoint.name}: mirror equals the checkpoint: {same}")
gw.studio(run)"""),
]


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(CELLS, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "distributed.ipynb"))
