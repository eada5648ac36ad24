"""Every widget in Voila (a dashboard: no notebook UI, Voila runs the notebook), in a real Chromium.

The studio of a live 2-D GAN shows all three widgets as tabs. Each renders and round-trips an
interaction through the kernel: pausing in the panel pauses the Python run (the panel then shows
"paused" because the run said so), a drag on the explorer's map comes back as decoded outputs,
the heatmap keeps drawing frames the kernel computes while the run trains, and choosing its
latent-slice view in the browser comes back as a slice frame.

Every wait is on what the page shows, with a bounded deadline: a tab's content (the map's points,
a drawn heatmap frame) rather than an element that exists while still empty, and a newer frame
within a deadline set by the heatmap's own pace (it computes at most one frame per four times a
frame takes, so a slow machine gets a longer wait, not a failure). When anywidget gave up on a
widget model (see ``helpers.wait_for_content``), the test fails at once and says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect

from .explorer_checks import check_map_answers_a_drag
from .helpers import VOILA_CDN, VOILA_NOISE, relevant_errors, wait_for_content

pytestmark = pytest.mark.browser
expect.set_options(timeout=90_000)

STUDIO = """\
import genwidgets as gw
studio = gw.studio("gan", data="ring", preset="toy2d", steps=100_000, log_every=10, sample_every=100,
                   checkpoint_every=None, explorer_options={"n": 2000})
studio"""


def write_studio(root: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(STUDIO)]
    nbformat.write(nb, root / "studio.ipynb")


def open_tab(page: Page, title: str) -> None:
    page.locator(".lm-TabBar-tab", has_text=title).first.click()
    expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text=title)).to_have_count(1)


#: JS: the heatmap has drawn a frame (plotly finished it: data-frame-step is set after that).
HEATMAP_DRAWN = """() => { const h = document.querySelector('.gw-heatmap');
  return !!h && h.dataset.frameStep !== undefined && !!h.querySelector('.js-plotly-plot .heatmaplayer image'); }"""


def frame_seconds(heatmap: Locator) -> float:
    """How long the heatmap's last frame took to compute, from its status line ("frame 123 ms"; 0 if not shown)."""
    match = re.search(r"frame (\d+) ms", heatmap.locator(".gw-heatmap-status").text_content() or "")
    return int(match[1]) / 1000 if match else 0.0


def test_voila_studio_every_widget_renders_and_round_trips(server_factory, page: Page) -> None:
    server = server_factory("voila", notebook="studio.ipynb", prepare=write_studio)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(server.url)

    # Training panel: live, then paused from the browser -> the run pauses -> the panel says so.
    panel = page.locator(".gw-training-panel")
    wait_for_content(page, "() => document.querySelector('.gw-training-panel')?.dataset.state === 'running'",
                     "the training panel showing the running run")
    panel.locator(".gw-btn-pause").click()
    expect(panel).to_have_attribute("data-state", "paused")
    panel.locator(".gw-btn-resume").click()
    expect(panel).to_have_attribute("data-state", "running")

    # Latent explorer: the map renders; a drag comes back from the kernel as decoded outputs.
    open_tab(page, "Latent space")
    wait_for_content(page, "() => document.querySelector('.gw-latent-explorer')?.dataset.mapPoints === '2000'",
                     "the latent space tab showing its 2000 map points")
    check_map_answers_a_drag(page, 2000)

    # Discriminator heatmap: renders and keeps drawing frames of the training run.
    open_tab(page, "Discriminator")
    heatmap = page.locator(".gw-heatmap")
    # The first frame waits for the tab to show, then for a share of the CPU the heatmap keeps small while the
    # run trains (LIVE_COMPUTE_BUDGET): on two cores shared with other browser tests that took over 90 s once.
    wait_for_content(page, HEATMAP_DRAWN, "the discriminator tab showing a drawn frame", timeout=240)
    expect(heatmap).to_have_attribute("data-frame-view", "plane")
    first = int(heatmap.get_attribute("data-frame-step") or 0)
    # The next frame comes within about 4x a frame's compute time after the last one (the heatmap's budget).
    wait_for_content(page, f"() => +document.querySelector('.gw-heatmap').dataset.frameStep > {first}",
                     f"a heatmap frame newer than step {first}", timeout=60 + 10 * frame_seconds(heatmap))
    # Switching to the latent slice in the browser -> the kernel computes a slice frame -> it is drawn.
    heatmap.locator("select.gw-view-select").select_option("latent")
    expect(heatmap).to_have_attribute("data-frame-view", "latent")

    # Voila's own page, not ours, fails a CDN request and logs two errors (see helpers.VOILA_NOISE).
    cdn = [url for url in failed if not url.startswith(VOILA_CDN)]
    assert not cdn, f"requests that failed (the widgets must need nothing from the network): {cdn}"
    errors = [e for e in relevant_errors(page.console_errors) if not any(n in e for n in VOILA_NOISE)]
    assert not errors, "browser console errors:\n" + "\n".join(errors)
