"""Faults survived, nothing lost: killed writers, failed writes, NaN, raising plugins, Ctrl-C, message floods.

Each test says what it protects. Real processes are killed with SIGKILL, real writes fail (a
file-size limit makes the OS refuse them), real models train on tiny presets.
"""

from __future__ import annotations

import _thread
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from test_run import _wait_for  # one polling helper for the run tests

import genwidgets
from genwidgets import NonFiniteLossError, hookimpl
from genwidgets.runtime.checkpoint import list_checkpoints, read_checkpoint


def _finite(model) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in model.state_dict().values() if v.is_floating_point())


# ---- a process killed while it writes a checkpoint -------------------------------------------------

TRAINER = textwrap.dedent("""
    import sys, torch, genwidgets
    torch.set_num_threads(1)
    # wide layers: ~50 MB per checkpoint (weights + Adam state), so a kill often lands mid-write
    run = genwidgets.train("gan", data="ring", preset="tiny", steps=None, out=sys.argv[1], checkpoint_every=1,
                           keep_checkpoints=3, log_every=1, sample_every=1000,
                           config={"g_hidden": [1200, 1200], "d_hidden": [1200, 1200]})
    run.wait()
""")


@pytest.mark.slow
def test_a_training_process_killed_mid_checkpoint_resumes_from_the_last_complete_one(tmp_path):
    """Protects: SIGKILL during a run's checkpoint write leaves only whole checkpoints, and resume uses the newest.

    (The write-level version, 16 MB checkpoints killed at three moments, is in test_checkpoint_files.py.)
    """
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", TRAINER, str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        assert _wait_for(lambda: len(list_checkpoints(out)) >= 2, timeout=120), "no checkpoints appeared"
        # kill as soon as a new temporary directory shows: a write is under way
        assert _wait_for(lambda: any(p.name.startswith(".tmp-") for p in (out / "checkpoints").iterdir()), 60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    complete = list_checkpoints(out)
    assert complete
    for path in complete:
        tensors, state = read_checkpoint(path)  # verifies the checksum: whole, not partial
        assert state["step"] == int(path.name.split("-")[1])
    resumed = genwidgets.resume(out, start=False)
    assert resumed.step_count == read_checkpoint(complete[-1])[1]["step"]
    resumed.step(2)
    assert _finite(resumed.model)


# ---- a write that fails ----------------------------------------------------------------------------

FAILING_WRITE = textwrap.dedent("""
    import json, resource, signal, sys, torch, genwidgets
    torch.set_num_threads(1)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # the write then fails with EFBIG instead of killing us
    extra = json.loads(sys.argv[2])
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=40, out=sys.argv[1], checkpoint_every=10,
                           log_every=5, sample_every=40, start=False, **extra)
    run.step(10)                                    # writes step-00000010 normally
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, resource.RLIM_INFINITY))  # now no file may exceed 2 KB
    run.start()
    try:
        run.wait()
        error = None
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"state": run.state, "step": run.step_count, "error": error}))
""")


def _failing_write(tmp_path: Path, **extra: object) -> dict:
    out = subprocess.run([sys.executable, "-c", FAILING_WRITE, str(tmp_path), json.dumps(extra)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_failed_checkpoint_write_stops_the_run_with_a_clear_error_and_keeps_the_previous_one(tmp_path):
    """Protects: a write the OS refuses (file too large; the same path as a full disk) raises CheckpointError
    naming the checkpoint and the OS error, stops the run, and leaves the previous checkpoint whole."""
    result = _failing_write(tmp_path)
    assert result["state"] == "failed" and result["step"] == 20
    assert result["error"].startswith("CheckpointError: could not write checkpoint")
    assert "step-00000020" in result["error"] and "File too large" in result["error"]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-00000010"]  # no debris either
    resumed = genwidgets.resume(tmp_path, start=False)
    assert resumed.step_count == 10


@pytest.mark.slow
def test_a_failed_checkpoint_write_can_be_configured_to_keep_training(tmp_path):
    """Protects: with ``on_checkpoint_error="continue"`` a failed write is reported and training goes on."""
    result = _failing_write(tmp_path, on_checkpoint_error="continue")
    assert result["state"] == "finished" and result["step"] == 40


# ---- a non-finite loss -----------------------------------------------------------------------------

class _VAEPlugin:
    """A plugin registering one VAE subclass named ``name``, with hooks around its verbs.

    ``before_step(model, batch, calls)`` runs before each real step (``calls`` counts from 1) and returns
    the batch to train on; ``before_sample(model)`` runs before each real ``sample``.
    """

    def __init__(self, name, before_step, before_sample=None):
        self.name, self.before_step, self.before_sample = name, before_step, before_sample

    @hookimpl
    def register_models(self, register):
        plugin = self

        class PluginVAE(genwidgets.get_registry().get_model("vae")):
            """A real VAE with the plugin's hooks before each step and sample."""

            name = plugin.name

            def train_step(self, batch):
                self.calls = getattr(self, "calls", 0) + 1
                return super().train_step(plugin.before_step(self, batch, self.calls))

            def sample(self, n, *, z=None, labels=None):
                if plugin.before_sample is not None:
                    plugin.before_sample(self)
                return super().sample(n, z=z, labels=labels)

        register(PluginVAE)


def _poison_at_13(model, batch, calls):
    """Feed a batch of NaN at step 13, so the loss and then the weights go NaN."""
    return type(batch)(batch.x * float("nan"), batch.labels) if calls == 13 else batch


def test_a_non_finite_loss_stops_the_run_and_the_last_good_state_restores(tmp_path):
    """Protects: NaN stops the run with an error event, is never checkpointed, and the last good checkpoint resumes."""
    genwidgets.get_registry().add_plugin(_VAEPlugin("poisoned_vae", _poison_at_13), name="poison-plugin")
    errors = []
    run = genwidgets.train("poisoned_vae", data="ring", preset="tiny", steps=50, out=tmp_path, checkpoint_every=5,
                           log_every=5, sample_every=50, start=False)
    run.subscribe(errors.append, kinds=["error"])
    run.start()
    with pytest.raises(NonFiniteLossError, match="step 13 of 'poisoned_vae' produced a non-finite value"):
        run.wait()
    assert run.state == "failed" and len(errors) == 1 and "non-finite" in errors[0].data["message"]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000005", "step-00000010"]
    resumed = genwidgets.resume(tmp_path, start=False)
    assert resumed.step_count == 10 and _finite(resumed.model)
    resumed.model.calls = 100  # past the poisoned step
    resumed.step(5)
    assert _finite(resumed.model)


def test_with_checks_every_log_interval_a_checkpoint_step_is_checked_too(tmp_path):
    """Protects: on an accelerator NaN is checked once per log interval; a checkpoint due between two checks
    flushes (and so checks) the interval first, so NaN weights are never written."""
    genwidgets.get_registry().add_plugin(_VAEPlugin("poisoned_vae", _poison_at_13), name="poison-plugin")
    run = genwidgets.train("poisoned_vae", data="ring", preset="tiny", steps=50, out=tmp_path, checkpoint_every=7,
                           log_every=10, sample_every=50, start=False)
    run._check_every = run.log_every  # what a Run on CUDA or MPS does (its device reads cost a sync)
    run.start()
    with pytest.raises(NonFiniteLossError, match="step 14 of 'poisoned_vae'"):
        run.wait()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000007"]


# ---- a plugin's model raising ----------------------------------------------------------------------

PLUGIN = "acme-models"


FAIL_IN = {"where": "train_step"}


def _explode_in_train_step(model, batch, calls):
    if FAIL_IN["where"] == "train_step" and calls > 5:
        raise RuntimeError("acme network exploded")
    return batch


def _explode_in_sample(model):
    if FAIL_IN["where"] == "sample":
        raise RuntimeError("acme sampler exploded")


@pytest.fixture
def flaky(recording):
    FAIL_IN["where"] = "train_step"
    genwidgets.get_registry().add_plugin(_VAEPlugin("flaky_vae", _explode_in_train_step, _explode_in_sample),
                                         name=PLUGIN)
    return genwidgets.get_model("flaky_vae")


@pytest.mark.parametrize("where", ["train_step", "sample"])
def test_a_plugin_model_raising_is_shown_and_everything_else_keeps_working(flaky, where):
    """Protects: an exception in a plugin's verb fails only its run; the panel shows it; other runs and panels work."""
    from genwidgets.widgets import TrainingPanel

    FAIL_IN["where"] = where
    run = genwidgets.train("flaky_vae", data="ring", preset="tiny", steps=40, log_every=5, sample_every=10,
                           checkpoint_every=None, start=False)
    panel = TrainingPanel(run)
    healthy = genwidgets.train("vae", data="ring", preset="tiny", steps=30, log_every=5, checkpoint_every=None,
                               start=False)
    healthy_panel = TrainingPanel(healthy)
    run.start()
    healthy.start()
    with pytest.raises(RuntimeError, match="acme .* exploded"):
        run.wait(60)
    healthy.wait(60)
    assert panel.wait_idle() and healthy_panel.wait_idle()
    assert run.state == "failed" and f"RuntimeError: acme {'network' if where == 'train_step' else 'sampler'}" \
        in panel.error and panel.state == "failed"
    assert healthy.state == "finished" and healthy_panel.state == "finished" and healthy_panel.error == ""
    panel.close()
    healthy_panel.close()


def test_a_plugin_model_error_names_the_plugin(flaky):
    """Protects: the panel's error line for a plugin's model names the plugin, e.g. "... (model 'flaky_vae' of
    plugin 'acme-models')"."""
    from genwidgets.widgets import TrainingPanel

    run = genwidgets.train("flaky_vae", data="ring", preset="tiny", steps=20, checkpoint_every=None, start=False)
    panel = TrainingPanel(run)
    run.start()
    with pytest.raises(RuntimeError):
        run.wait(60)
    assert panel.wait_idle()
    assert PLUGIN in panel.error, panel.error


class _PanelPlugin:
    """A plugin contributing two panels: one whose factory raises, one that works."""

    @hookimpl
    def register_panels(self, register):
        import ipywidgets

        def broken(run):
            raise RuntimeError("acme panel exploded")

        register("acme_broken", broken, title="Acme broken")
        register("acme_fine", lambda run: ipywidgets.Label(value=f"acme sees {run.model.name}"), title="Acme fine")


def test_a_plugin_panel_that_raises_is_shown_as_an_error_naming_the_plugin(recording):
    """Protects: a panel factory raising in the studio becomes a text error naming the plugin; the rest open."""
    from genwidgets.widgets.studio import Studio

    genwidgets.get_registry().add_plugin(_PanelPlugin(), name=PLUGIN)
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=5, checkpoint_every=None, start=False)
    studio = Studio(run, explorer=False)
    (error,) = studio.errors.values()
    assert f"(from plugin {PLUGIN!r})" in error and "RuntimeError: acme panel exploded" in error
    assert studio.extra[f"Acme fine ({PLUGIN})"].value == "acme sees vae"
    assert studio.panel is not None and len(studio.widget.children) == 3
    run.step(5)
    studio.close()


# ---- Ctrl-C -----------------------------------------------------------------------------------------

def _interrupted_wait(out: Path):
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=None, out=out, checkpoint_every=None,
                           log_every=10)
    assert _wait_for(lambda: run.step_count >= 20)
    threading.Timer(0.3, _thread.interrupt_main).start()  # what SIGINT does to the main thread
    with pytest.raises(KeyboardInterrupt):
        run.wait()
    return run


def test_keyboard_interrupt_in_wait_stops_the_run_with_a_final_checkpoint(tmp_path):
    """Protects: Ctrl-C (or the notebook's interrupt) during run.wait() stops the run and writes a final checkpoint.

    (The CLI's Ctrl-C is tested in test_cli.py.)
    """
    run = _interrupted_wait(tmp_path)
    assert _wait_for(lambda: run.state == "stopped", 30)
    run.events.flush()
    (final,) = list_checkpoints(tmp_path)
    assert read_checkpoint(final)[1]["step"] == run.step_count


def test_keyboard_interrupt_in_wait_returns_only_once_stopped(tmp_path):
    """Protects: when the KeyboardInterrupt reaches the caller, the run is stopped and its final checkpoint
    written (on CPython 3.11 an interrupt inside Thread.join marks a running thread as done)."""
    run = _interrupted_wait(tmp_path)
    state, checkpoints = run.state, list_checkpoints(tmp_path)
    _wait_for(lambda: run.state == "stopped", 30)  # let it finish before tmp_path goes
    assert state == "stopped" and len(checkpoints) == 1, (state, checkpoints)


# ---- a flood of front-end messages --------------------------------------------------------------------

@pytest.mark.slow
def test_a_flood_of_front_end_messages_is_bounded_newest_wins_and_the_kernel_answers(recording):
    """Protects: 10,000 slider drags, probes and clicks within seconds neither queue up work nor memory.

    The explorer's latest-wins worker decodes only the newest request; the panel's edits apply the
    newest value. Memory allocated during the flood stays bounded (tracemalloc peak), and both
    widgets are idle (so the kernel is free to answer a cell) within a second of the last message.
    """
    from genwidgets.widgets import LatentExplorer, TrainingPanel

    run = genwidgets.train("vae", data="ring", preset="tiny", steps=None, checkpoint_every=None, log_every=20)
    panel = TrainingPanel(run)
    explorer = LatentExplorer(run, n=200)
    explorer.comm.from_front_end({"op": "hello", "nonce": "p"})
    panel.comm.from_front_end({"op": "hello", "nonce": "p"})
    assert explorer.wait_idle(30) and panel.wait_idle(30)
    dims = explorer.session.latent_dim
    rng = np.random.default_rng(0)
    tracemalloc.start()
    t0 = time.perf_counter()
    for i in range(1, 10_001):
        r = i % 4
        if r == 0:
            explorer.comm.from_front_end({"op": "slide", "dim": i % dims, "value": float(rng.normal()), "seq": i})
        elif r == 1:
            explorer.comm.from_front_end({"op": "probe", "x": float(rng.normal()), "y": float(rng.normal()),
                                          "seq": i})
        elif r == 2:
            panel.comm.from_front_end({"op": "hparams", "values": {"lr": 1e-4 + i * 1e-8}})
        else:
            panel.comm.from_front_end({"op": "control", "action": "pause" if i % 8 == 3 else "resume"})
    flood = time.perf_counter() - t0
    last = {"op": "slide", "dim": 0, "value": 1.75, "seq": 10_001}
    explorer.comm.from_front_end(last)
    panel.comm.from_front_end({"op": "hparams", "values": {"lr": 3e-3}})
    panel.comm.from_front_end({"op": "control", "action": "resume"})
    t_last = time.perf_counter()
    idle = explorer.wait_idle(5) and panel.wait_idle(5)
    answered = time.perf_counter() - t_last
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"flood: 10,000 messages in {flood:.2f} s; idle {answered:.2f} s after the last; "
          f"peak traced allocation {peak / 1e6:.1f} MB")
    assert idle and answered < 1.0, f"widgets still busy {answered:.2f} s after the flood"
    assert peak < 30e6, f"the flood allocated {peak / 1e6:.1f} MB at its peak"
    # answers to requests (a live refresh also sends outputs, with seq 0)
    outputs = [m for m in (c for c, _ in explorer.comm.custom()) if m.get("op") == "output" and m.get("seq")]
    assert outputs[-1]["seq"] == 10_001 and outputs[-1]["ack"] == 10_001  # newest wins
    assert len(outputs) < 2_500, f"{len(outputs)} decodes for 5,000 drag requests: not coalesced"
    assert explorer.z[0] == pytest.approx(1.75)
    assert _wait_for(lambda: run.model.optimizers["model"].param_groups[0]["lr"] == 3e-3, 10)
    assert run.hparams["lr"] == 3e-3 and run.state == "running"
    run.stop()
    panel.close()
    explorer.close()
