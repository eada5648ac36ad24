"""Every signal that asks a training process to stop ends in a saved final checkpoint.

Real processes, real signals: a second Ctrl-C used to kill the final save (4 of 4 tries, exit
codes 130, -2, -6 with ``FATAL: exception not rethrown``) and SIGTERM saved nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from genwidgets.runtime import checkpoint as ckpt

pytestmark = pytest.mark.slow

TRAIN = ["train", "gan", "--data", "ring", "--preset", "tiny", "--device", "cpu", "--steps", "1000000",
         "--log-every", "5", "--checkpoint-every", "0"]

SCRIPT = textwrap.dedent("""
    import sys
    import genwidgets as gw
    run = gw.train("gan", data="ring", preset="tiny", device="cpu", steps=1_000_000, log_every=5,
                   checkpoint_every=0, out=sys.argv[1])
    run.wait()
""")


def _wait_for_training(proc: subprocess.Popen, out: Path) -> None:
    """Wait (bounded) until the process has logged metrics: it is inside the training loop."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the process ended early ({proc.returncode}): {proc.communicate()[1]}")
        metrics = out / "metrics.csv"
        if metrics.exists() and metrics.read_text().count("\n") >= 3:
            return
        time.sleep(0.02)
    raise AssertionError("no metrics within 120 s")


def _signal_repeatedly(proc: subprocess.Popen, first: int, then: int, *, until: Path | None = None,
                       times: int = 40) -> None:
    """Send ``first``, then ``then`` every 10 ms while the process lives (a user hammering Ctrl-C).

    With ``until``, stop once a checkpoint is there (a script's own exit is then not hammered).
    """
    proc.send_signal(first)
    for _ in range(times):
        time.sleep(0.01)
        if proc.poll() is not None or (until is not None and ckpt.list_checkpoints(until)):
            return
        proc.send_signal(then)


def _final_checkpoint(out: Path) -> dict:
    found = ckpt.list_checkpoints(out)
    assert len(found) == 1, f"expected the final checkpoint, found {found}"
    _, state = ckpt.read_checkpoint(found[0])
    assert state["step"] > 0 and found[0].name == ckpt.checkpoint_name(state["step"])
    return state


@pytest.mark.parametrize(("first", "then", "status"), [
    (signal.SIGINT, signal.SIGINT, 130),   # Ctrl-C, then Ctrl-C again (and again)
    (signal.SIGTERM, signal.SIGTERM, 143),  # a job scheduler, docker stop
    (signal.SIGTERM, signal.SIGINT, 143),
])
def test_cli_saves_the_final_checkpoint_whatever_signals_arrive(tmp_path, first, then, status):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "genwidgets", *TRAIN, "--out", str(out), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_training(proc, out)
    _signal_repeatedly(proc, first, then)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr and "FATAL" not in stderr, stderr
    assert f"{signal.Signals(first).name}: stopping after this step and writing a final checkpoint" in stderr
    state = _final_checkpoint(out)
    assert f"stopped at step {state['step']}" in stdout


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, -signal.SIGINT), (signal.SIGTERM, 143)])
def test_python_wait_saves_the_final_checkpoint_on_repeated_signals(tmp_path, sig, status):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_training(proc, out)
    _signal_repeatedly(proc, sig, sig, until=out)
    _, stderr = proc.communicate(timeout=120)
    # SIGINT: KeyboardInterrupt out of run.wait(), as documented (Python then exits as killed by SIGINT)
    assert proc.returncode == status, stderr
    assert "FATAL" not in stderr
    if sig == signal.SIGINT:
        assert stderr.rstrip().endswith("KeyboardInterrupt")
    _final_checkpoint(out)


def test_stop_on_signals_restores_the_previous_handlers():
    from genwidgets.runtime.interrupts import StopOnSignals

    calls = []
    before = signal.getsignal(signal.SIGTERM)
    with StopOnSignals(lambda: calls.append("stop"), say=lambda message: calls.append(message)) as signals:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
    assert signals.received == signal.SIGTERM and signals.count == 2
    assert calls[1] == "stop" and calls.count("stop") == 1 and "still writing" in calls[2]


def test_waiting_on_a_run_that_has_ended_installs_no_signal_handler(monkeypatch):
    """The CLI ignores SIGINT/SIGTERM after its final save, then calls run.wait(); a signal arriving there
    must not become a KeyboardInterrupt (exit 130 instead of 143 for SIGTERM then SIGINT, seen under load)."""
    import genwidgets
    from genwidgets.runtime import interrupts

    run = genwidgets.train("vae", data="ring", preset="tiny", steps=5, checkpoint_every=None)
    run.wait()
    entered = []
    monkeypatch.setattr(interrupts.StopOnSignals, "__enter__",
                        lambda self: entered.append(self) or self)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert run.wait() is run
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert entered == []
