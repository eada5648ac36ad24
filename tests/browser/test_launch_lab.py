"""A notebook-launched multi-process run (genwidgets.launch), driven from JupyterLab 4 in a real Chromium.

Two torchrun workers train a 2-D GAN outside the kernel; the notebook shows the studio of the
LaunchedRun. The panel's curves grow from rank 0's events; Pause in the browser pauses every
worker (the kernel's run says paused and its step count stays still); the explorer decodes a
drag and the heatmap draws frames from the kernel's mirror of rank 0's weights; Stop in the
browser ends every worker process.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .explorer_checks import check_map_answers_a_drag
from .helpers import kernel_eval, relevant_errors, wait_kernel_value
from .test_voila import open_tab

pytestmark = pytest.mark.browser
expect.set_options(timeout=90_000)

SETUP = """\
import os
import genwidgets as gw

def live_workers(pids):
    \"\"\"Worker pids still running (a reaped or zombie process does not count).\"\"\"
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                if "State:\\tZ" not in f.read():
                    alive.append(pid)
        except FileNotFoundError:
            pass
    return alive"""

LAUNCH = """\
run = gw.launch("gan", data="ring", processes=2, preset="toy2d", steps=None, log_every=10, sample_every=50,
                checkpoint_every=None, out="launched")
gw.studio(run, explorer_options={"n": 2000})"""


def write_notebook(root: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (SETUP, LAUNCH)]
    nbformat.write(nb, root / "launch.ipynb")
    return "launch.ipynb"


def _points(page: Page) -> int:
    return int(page.locator(".gw-training-panel").get_attribute("data-points") or 0)


def test_lab_launched_workers_are_watched_and_stopped_from_the_browser(open_notebook, page: Page) -> None:
    _, connection = open_notebook("lab", write_notebook)

    # The panel of the launched run: rank 0's metrics arrive and the curves grow.
    panel = page.locator(".gw-training-panel")
    expect(panel).to_have_attribute("data-rendered", "true")
    expect(panel).to_have_attribute("data-state", "running")
    assert kernel_eval(connection, "len(live_workers(run.pids))") == "2"
    assert kernel_eval(connection, "run.runtime.describe()['processes']") == "2"
    page.wait_for_function("() => +document.querySelector('.gw-training-panel').dataset.points >= 3")
    before = _points(page)
    page.wait_for_function(f"() => +document.querySelector('.gw-training-panel').dataset.points > {before + 2}")

    # Pause in the browser -> every worker pauses (the step count the kernel hears stays still).
    panel.locator(".gw-btn-pause").click()
    wait_kernel_value(connection, "run.state", "'paused'", timeout=30)
    expect(panel).to_have_attribute("data-state", "paused")
    step = kernel_eval(connection, "run.step_count")
    time.sleep(1.0)
    assert kernel_eval(connection, "run.step_count") == step, "the workers kept training while paused"
    paused_points = _points(page)
    panel.locator(".gw-btn-resume").click()
    wait_kernel_value(connection, "run.state", "'running'", timeout=30)
    page.wait_for_function(
        f"() => +document.querySelector('.gw-training-panel').dataset.points > {paused_points}")

    # The explorer decodes on the kernel's mirror of rank 0's weights.
    open_tab(page, "Latent space")
    check_map_answers_a_drag(page, 2000)
    assert int(kernel_eval(connection, "run.weights_step")) > 0, "no weights reached the kernel's mirror"

    # The heatmap keeps drawing frames while the workers train.
    open_tab(page, "Discriminator")
    heatmap = page.locator(".gw-heatmap")
    expect(heatmap).to_have_attribute("data-rendered", "true")
    first = int(heatmap.get_attribute("data-frame-step") or 0)
    page.wait_for_function(f"() => +document.querySelector('.gw-heatmap').dataset.frameStep > {first}")

    # Stop in the browser -> every worker process ends.
    open_tab(page, "Training")
    panel.locator(".gw-btn-stop").click()
    wait_kernel_value(connection, "run.state", "'stopped'", timeout=60)
    wait_kernel_value(connection, "run.returncode", "0", timeout=30)
    wait_kernel_value(connection, "live_workers(run.pids)", "[]", timeout=30)
    expect(panel).to_have_attribute("data-state", "stopped")

    errors = relevant_errors(page.console_errors)
    assert not errors, "browser console errors:\n" + "\n".join(errors)
