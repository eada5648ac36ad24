"""Shared pieces of the browser tests: Chromium flags, the demo notebook, kernel queries, checks."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat

from genwidgets.testing.images import TolerantPNG  # noqa: F401 - re-exported for the checks

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]

SETUP = """\
import genwidgets as gw
from genwidgets.widgets import TrainingPanel
common = dict(data="mnist", preset="tiny", checkpoint_every=None)"""

FIXED = """\
fixed = gw.train("dcgan", steps=30, log_every=2, sample_every=30, **common)
fixed.wait()
TrainingPanel(fixed)"""

LIVE = """\
run = gw.train("dcgan", steps=100_000, log_every=25, sample_every=50, schedule={50: {"lr_g": 1e-4}}, **common)
panel = TrainingPanel(run)
panel"""


def build_demo_notebook(path: Path) -> Path:
    """Write the notebook the browser tests open: a finished seeded run's panel, then a live one."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (SETUP, FIXED, LIVE)]
    nbformat.write(nb, path)
    return path


def kernel_eval(connection_file: Path, expression: str, timeout: float = 20.0) -> str:
    """Evaluate ``expression`` in the notebook's kernel (a side channel) and return its repr."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        msg_id = client.execute("", silent=True, user_expressions={"v": expression})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                value = reply["content"]["user_expressions"]["v"]
                if value.get("status") != "ok":
                    raise RuntimeError(f"{expression!r} failed in the kernel: {value}")
                return value["data"]["text/plain"]
        raise TimeoutError(f"no reply for {expression!r}")
    finally:
        client.stop_channels()


def wait_kernel_value(connection_file: Path, expression: str, expected: str, timeout: float = 15.0) -> str:
    """Poll ``expression`` in the kernel until it reads ``expected`` (a comm message may be in flight)."""
    deadline = time.monotonic() + timeout
    value = ""
    while time.monotonic() < deadline:
        value = kernel_eval(connection_file, expression)
        if value == expected:
            return value
        time.sleep(0.2)
    raise AssertionError(f"kernel: {expression} == {value}, expected {expected}")


#: JS: statistics of the sample canvas's real pixels (read back with getImageData).
CANVAS_STATS = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const {data} = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let sum = 0, sq = 0, n = 0;
  for (let i = 0; i < data.length; i += 4) { sum += data[i]; sq += data[i] * data[i]; n++; }
  const mean = sum / n;
  return {width: canvas.width, height: canvas.height, mean, std: Math.sqrt(sq / n - mean * mean)};
}"""


def relevant_errors(messages: list[str]) -> list[str]:
    """Console errors and page errors, minus known harmless noise of the Jupyter front ends."""
    harmless = (
        "favicon", "Failed to load resource: the server responded with a status of 404",
        # Notebook 7.6 core, while the page loads a settings file; reproduced with a notebook holding
        # only `1+1` and no widgets (jupyter notebook --expose-app-in-browser, Chromium 156).
        "pageerror: Cannot read properties of undefined (reading 'schema')",
    )
    return [m for m in messages if not any(h in m for h in harmless)]
