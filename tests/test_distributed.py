"""Training under torchrun: 2 processes, gloo on CPU, DistributedDataParallel (a real job, not a mock)."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import genwidgets
from genwidgets.runtime import distributed
from genwidgets.runtime.checkpoint import list_checkpoints, read_checkpoint

WORKER = textwrap.dedent("""
    import hashlib, json, os, sys
    import torch
    torch.set_num_threads(1)
    import genwidgets as gw
    from genwidgets.runtime import distributed

    out = sys.argv[1]
    run = gw.train("dcgan", data="mnist", preset="tiny", steps=6, out=out, log_every=2, sample_every=3,
                   checkpoint_every=3, config={"batch_size": 32})
    run.wait()
    state = distributed.plain_state_dict(run.model)
    digest = hashlib.sha256(b"".join(state[k].float().numpy().tobytes() for k in sorted(state))).hexdigest()
    params = dict(run.model.named_parameters())
    param_digest = hashlib.sha256(b"".join(params[k].detach().numpy().tobytes() for k in sorted(params))).hexdigest()
    indices = run.sampler.__class__(len(run.data), 32, seed=run.model.config.seed, rank=run.dist.rank,
                                    world_size=run.dist.world_size).next_indices().tolist()
    wrapped = sorted(n for n, c in run.model.named_children() if type(c).__name__ == "DistributedDataParallel")
    with open(os.path.join(out, f"rank{run.dist.rank}.json"), "w") as f:
        json.dump({"digest": digest, "param_digest": param_digest, "step": run.step_count, "state": run.state,
                   "first_batch": indices, "wrapped": wrapped, "last_checkpoint": str(run.last_checkpoint)}, f)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_processes_train_a_dcgan_with_ddp_in_lockstep(tmp_path: Path) -> None:
    """Protects: under torchrun each rank trains its slice of the global batch, gradients are all-reduced
    (parameters identical on both ranks at the end), and rank 0 alone writes checkpoints that hold the plain
    (unwrapped) state and load in a single process."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
         f"--master_port={_free_port()}", str(script), str(out)],
        capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["state"] == "finished" and r["step"] == 6 for r in ranks)
    assert ranks[0]["wrapped"] == ranks[1]["wrapped"] == ["discriminator", "generator"]
    # Parameters identical on both ranks (batch-norm running statistics are per rank on CPU: see distributed.py).
    assert ranks[0]["param_digest"] == ranks[1]["param_digest"], "parameters differ: gradients were not reduced"
    # Each rank drew its own half of the same global batch.
    first0, first1 = ranks[0]["first_batch"], ranks[1]["first_batch"]
    assert len(first0) == len(first1) == 16 and not set(first0) & set(first1)
    # Rank 0 wrote the checkpoints (periodic at step 3, final at 6), with unwrapped keys, loadable anywhere.
    assert [p.name for p in list_checkpoints(out)] == ["step-00000003", "step-00000006"]
    tensors, state = read_checkpoint(list_checkpoints(out)[-1])
    assert state["step"] == 6 and not any(".module." in k for k in tensors)
    model = genwidgets.load_model(out)
    plain = distributed.plain_state_dict(model)
    digest = hashlib.sha256(b"".join(plain[k].float().numpy().tobytes() for k in sorted(plain))).hexdigest()
    assert digest == ranks[0]["digest"], "the checkpoint is not the state rank 0 reported"


def test_outside_torchrun_nothing_is_distributed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.from_env() is None
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=1, start=False, checkpoint_every=None)
    assert run.dist is None and not any("DistributedDataParallel" in type(c).__name__ for c in run.model.children())


def test_families_ddp_cannot_wrap_are_refused_with_the_reason():
    model = genwidgets.build_model("wgan_gp", genwidgets.load_data("ring").spec, preset="tiny")
    with pytest.raises(genwidgets.ConfigError, match="DistributedDataParallel does not support"):
        distributed.check_supported(model)
    assert torch.distributed.is_available()


@pytest.mark.slow
def test_torchrun_runs_the_command_line_with_rank_0_reporting(tmp_path: Path) -> None:
    """Protects: `torchrun -m genwidgets train ...` trains with DDP; only rank 0 prints and writes."""
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
         f"--master_port={_free_port()}", "-m", "genwidgets", "train", "dcgan", "--data", "mnist", "--preset",
         "tiny", "--steps", "4", "--out", str(tmp_path / "cli"), "--quiet"],
        capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("training dcgan on mnist") == 1 and "rank 0 of 2 (DDP)" in done.stderr
    assert done.stdout.count("finished at step 4") == 1
    assert [p.name for p in list_checkpoints(tmp_path / "cli")] == ["step-00000004"]
