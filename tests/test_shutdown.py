"""Interpreter exit with runs training and widgets open: runs stop, threads end, the exit status is 0."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import atexit
    states = {}
    # Registered before genwidgets' own hook, so it runs after it (atexit is last in, first out).
    atexit.register(lambda: print("at exit:", states["run"].state, states["threads"]()))
    import threading
    import time
    import torch
    torch.set_num_threads(1)
    import genwidgets as gw
    studio = gw.studio("gan", data="ring", preset="tiny", steps=None, checkpoint_every=None,
                       log_every=5, sample_every=5)
    while studio.run.step_count < 30:
        time.sleep(0.01)  # not `pass`: a spinning main thread holds the GIL the run's thread trains with
    states["run"] = studio.run
    states["threads"] = lambda: sorted(t.name for t in threading.enumerate() if t.name.startswith("genwidgets"))
    print("leaving while it trains")
""")


def test_exit_while_a_run_trains_under_a_studio_stops_everything_first():
    """Without the exit hook the run and the widgets' threads are still busy in torch when Python
    finalises, which can abort the process (status 134) instead of exiting cleanly."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "leaving while it trains" in done.stdout
    assert "at exit: stopped []" in done.stdout, done.stdout
