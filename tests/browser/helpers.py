"""Shared pieces of the browser tests: Chromium flags, the demo notebook, kernel queries, checks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from genwidgets.testing.images import (
    CHROMIUM_FLAGS,
    TolerantPNG,  # noqa: F401 - re-exported for the checks
)

if TYPE_CHECKING:  # conftest imports this module; playwright may be missing there (the tests then skip)
    from playwright.sync_api import Locator, Page

FLAGS = CHROMIUM_FLAGS  # the flags genwidgets' own widget renderer uses (one list, not a copy)

#: JS: the notebook open in JupyterLab or Notebook 7 has a connected, idle kernel (ready to run all cells).
KERNEL_READY = """() => {
  const sc = window.jupyterapp?.shell.currentWidget?.sessionContext, k = sc?.session?.kernel;
  return sc?.isReady && k?.connectionStatus === 'connected' && k?.status === 'idle'; }"""
#: JS: run every cell of the open notebook (both front ends expose the same command).
RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"

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


#: What anywidget's front end reports when it gave up on a widget model (see :func:`wait_for_content`).
ANYWIDGET_INIT_FAILED = "[anywidget] Failed to initialize model"


def wait_for_content(page: Page, predicate: str, what: str, *, timeout: float = 90.0) -> None:
    """Wait until the JS ``predicate`` holds in ``page``, for at most ``timeout`` seconds.

    Fails at once, saying why, when anywidget reported that it gave up on a widget model:
    anywidget 0.11's front end rejects a model whose ES module is not loaded and initialized
    2 s after the model is created, and then drops every message sent to it, so that widget
    stays empty for good (its tab in a studio, for one). Waiting longer cannot help then.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout
    while True:
        gave_up = [e for e in getattr(page, "console_errors", []) if ANYWIDGET_INIT_FAILED in e]
        if gave_up:
            raise AssertionError(
                f"{what}: never, because anywidget gave up on a widget model ({gave_up[0]}): its ES module was not "
                "loaded and initialized within anywidget's fixed 2 s, so every message to it is dropped")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            errors = relevant_errors(getattr(page, "console_errors", []))
            raise AssertionError(f"{what}: still not there after {timeout:.0f} s; page errors so far: "
                                 + ("\n".join(errors) or "none"))
        try:
            page.wait_for_function(predicate, timeout=min(remaining, 2.0) * 1000)
            return
        except PlaywrightTimeout:
            continue


def settle_pointer(page: Page, widget: Locator) -> None:
    """Move the mouse off ``widget`` and wait until nothing in it is hovered (no plotly hover label left).

    Plotly shows its modebar and hover labels while the pointer is over a plot; a screenshot
    taken then differs from the snapshot. The modebar's fade is a CSS transition, which
    ``screenshot(animations="disabled")`` completes.
    """
    from playwright.sync_api import expect

    page.mouse.move(0, 0)
    expect(widget.locator(":hover")).to_have_count(0)
    expect(widget.locator(".hoverlayer > *")).to_have_count(0)
    # Every plot has finished its queued draws (PlotHost's data-busy): pixels of a settled plot, not a mid-redraw.
    expect(widget.locator(".js-plotly-plot[data-busy='true']")).to_have_count(0)


#: Console errors of Voila's own page, not ours: its default template fetches Font Awesome from a CDN (the
#: machine is offline), and it loads Notebook 7's lab extension, which cannot find @jupyterlab/docregistry in
#: Voila's module-federation host. Both reproduce with a notebook holding only `1+1`.
VOILA_NOISE = ("Failed to load resource: net::ERR_NAME_NOT_RESOLVED", '"shareKey":"@jupyterlab/docregistry"')
#: The only requests a Voila page may fail: that CDN's.
VOILA_CDN = "https://cdn.jsdelivr.net/npm/@fortawesome/"


def relevant_errors(messages: list[str]) -> list[str]:
    """Console errors and page errors, minus known harmless noise of the Jupyter front ends."""
    harmless = (
        "favicon", "Failed to load resource: the server responded with a status of 404",
        # Notebook 7.6 core, while the page loads a settings file; reproduced with a notebook holding
        # only `1+1` and no widgets (jupyter notebook --expose-app-in-browser, Chromium 156).
        "pageerror: Cannot read properties of undefined (reading 'schema')",
    )
    return [m for m in messages if not any(h in m for h in harmless)]
