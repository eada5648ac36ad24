"""The discriminator heatmap's browser checks: its notebook, real pixel values, live change, sorting.

The two views that are compared with PNG snapshots (the data plane and the score grid) show
models loaded from fixed weights (``fixtures/*.safetensors``, see ``fixtures/make_weights.py``),
not models trained in the kernel: training amplifies the last-bit differences between machines
into visibly moved points, arrows and digits. The live view trains, and is checked for change,
not against a snapshot.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import nbformat
import numpy as np
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from genwidgets.scores.colour import choose_scale, colour_at

from .helpers import TolerantPNG, kernel_eval, relevant_errors, settle_pointer, wait_kernel_value

expect.set_options(timeout=60_000)

FIXTURES = Path(__file__).parent / "fixtures"

SETUP = """\
import torch
import genwidgets as gw
from genwidgets.api import load_weights
from genwidgets.widgets import DiscriminatorHeatmap
common = dict(checkpoint_every=None, log_every=25)"""

# A fixed discriminator: the weights of 150 seeded steps of the toy2d GAN on ring, loaded, never trained here.
PLANE = f"""\
fixed = gw.build_model("gan", gw.load_data("ring").spec, preset="toy2d")
load_weights(fixed, {str(FIXTURES / "gan_ring_toy2d.safetensors")!r})
plane = DiscriminatorHeatmap(fixed, data=gw.load_data("ring"))
plane"""

# Where that discriminator is known to score high and low, from the model itself (not the widget).
PROBE = """\
xs = torch.linspace(-1.2, 1.2, 13)
cand = torch.cartesian_prod(xs, xs)
with torch.no_grad(), fixed.evaluating():
    d = fixed.discriminate(cand)
probe = {"hi": cand[d.argmax()].tolist(), "lo": cand[d.argmin()].tolist(),
         "d_hi": float(d.max()), "d_lo": float(d.min())}"""

# The same for images: the weights of 300 seeded steps of the tiny DCGAN on digits.
SCORES = f"""\
images = gw.build_model("dcgan", gw.load_data("digits").spec, preset="tiny")
load_weights(images, {str(FIXTURES / "dcgan_digits_tiny.safetensors")!r})
grid = DiscriminatorHeatmap(images, data=gw.load_data("digits"), view="scores")
grid"""

LIVE = """\
live = gw.train("gan", data="ring", preset="toy2d", steps=100_000, sample_every=500, checkpoint_every=None,
                log_every=10)
live_map = DiscriminatorHeatmap(live, resolution=64)
live_map"""

NOTEBOOK = "heatmap.ipynb"
PLANE_W = ".gw-heatmap >> nth=0"
GRID_W = ".gw-heatmap >> nth=1"
LIVE_W = ".gw-heatmap >> nth=2"


def build_heatmap_notebook(path: Path) -> Path:
    """Write the notebook the heatmap's browser test opens."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (SETUP, PLANE, PROBE, SCORES, LIVE)]
    nbformat.write(nb, path)
    return path


def _png(locator: Locator) -> Image.Image:
    return Image.open(io.BytesIO(locator.screenshot(animations="disabled"))).convert("RGB")


def _pixel_of(widget: Locator, x: float, y: float) -> tuple[int, int]:
    """Pixel (within the plot's element) of data point (x, y), from plotly's own axis mapping."""
    return widget.locator(".js-plotly-plot").evaluate(
        """(gd, [x, y]) => { const fl = gd._fullLayout;
             return [Math.round(fl.xaxis.l2p(x) + fl.xaxis._offset),
                     Math.round(fl.yaxis.l2p(y) + fl.yaxis._offset)]; }""",
        [x, y])


def check_plane(page: Page, connection_file: Path, snapshot: object) -> None:
    """The fixed discriminator's heatmap shows its real values where they are known to be high and low."""
    w = page.locator(PLANE_W)
    expect(w).to_have_attribute("data-rendered", "true")
    expect(w).to_have_attribute("data-frame-step", "0")  # a model, not a run: its frame is step 0
    expect(w).to_have_attribute("data-scale-kind", "probability")
    expect(w.locator(".js-plotly-plot .heatmaplayer image")).to_have_count(1)
    expect(w.locator(".js-plotly-plot .scatterlayer .trace")).to_have_count(4)  # real, generated, arrows, heads
    settle_pointer(page, w)
    png = snapshot.use_extension(TolerantPNG)
    assert w.locator(".gw-heatmap-plot").screenshot(animations="disabled") == png(name="plane")

    # Hide points and arrows from the page: the traits change in Python, the traces go.
    w.locator("input.gw-points-input").uncheck()
    w.locator("input.gw-arrows-input").uncheck()
    wait_kernel_value(connection_file, "(plane.show_points, plane.show_arrows)", "(False, False)")
    expect(w.locator(".js-plotly-plot .scatterlayer .trace")).to_have_count(0)
    settle_pointer(page, w)

    probe = ast.literal_eval(kernel_eval(connection_file, "probe"))
    assert probe["d_hi"] - probe["d_lo"] > 0.3, f"the fixed discriminator barely separates: {probe}"
    image = _png(w.locator(".js-plotly-plot"))
    scale = choose_scale("probability")
    for key, score in (("hi", probe["d_hi"]), ("lo", probe["d_lo"])):
        px, py = _pixel_of(w, *probe[key])
        got = np.array(image.getpixel((px, py)), dtype=int)
        want = colour_at(scale, score).astype(int)
        assert np.abs(got - want).max() <= 16, (
            f"pixel at the {key} point {probe[key]} ({px}, {py}) is {got.tolist()}, expected the colour of "
            f"D = {score:.3f}: {want.tolist()}")
    hi = np.array(image.getpixel(_pixel_of(w, *probe["hi"])), dtype=int)
    lo = np.array(image.getpixel(_pixel_of(w, *probe["lo"])), dtype=int)
    assert hi[1] > hi[0] and lo[0] > lo[1], f"high should be drawn green, low magenta: {hi} vs {lo}"


def check_score_grid(page: Page, connection_file: Path, snapshot: object) -> None:
    """Real and generated digits framed by their scores; a click sorts them, and Python knows."""
    w = page.locator(GRID_W)
    expect(w).to_have_attribute("data-frame-step", "0")
    expect(w.locator(".gw-tile")).to_have_count(32)
    expect(w.locator(".gw-tile[data-real='1']")).to_have_count(16)
    before = [float(s) for s in w.locator(".gw-tile").evaluate_all("ts => ts.map(t => t.dataset.score)")]
    assert before != sorted(before, reverse=True), "the unsorted grid is already in score order"
    pixels = w.locator(".gw-tile-canvas").first.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let s = 0, q = 0; for (let i = 0; i < d.length; i += 4) { s += d[i]; q += d[i] * d[i]; }"
        " const n = d.length / 4, m = s / n; return Math.sqrt(q / n - m * m); }")
    assert pixels > 5, "the first tile's canvas is blank"

    w.locator("button.gw-sort").click()
    expect(w).to_have_attribute("data-sort", "desc")
    wait_kernel_value(connection_file, "grid.sort", "'desc'")
    after = [float(s) for s in w.locator(".gw-tile").evaluate_all("ts => ts.map(t => t.dataset.score)")]
    assert after == sorted(before, reverse=True), "the grid is not in descending score order after the click"
    borders = w.locator(".gw-tile").evaluate_all("ts => ts.map(t => getComputedStyle(t).borderTopColor)")
    assert len(set(borders)) > 3, f"frames should follow the scores' colours: {set(borders)}"
    settle_pointer(page, w)
    png = snapshot.use_extension(TolerantPNG)
    assert w.locator(".gw-score-grid").screenshot(animations="disabled") == png(name="score_grid_sorted")

    # The latent slice of the same model: a heatmap, and hovering it shows a thumbnail of G(z).
    w.locator("select.gw-view-select").select_option("latent")
    wait_kernel_value(connection_file, "grid.view", "'latent'")
    expect(w).to_have_attribute("data-frame-view", "latent")
    plot = w.locator(".js-plotly-plot")
    expect(plot.locator(".heatmaplayer image")).to_have_count(1)
    box = plot.locator(".nsewdrag").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    expect(w.locator("canvas.gw-thumb")).to_have_attribute("data-cell", re.compile(r"^\d+,\d+$"))


def check_live(page: Page, connection_file: Path) -> None:
    """While the run trains, the heatmap follows: newer steps, different pixels."""
    w = page.locator(LIVE_W)
    expect(w).to_have_attribute("data-state", "running")
    page.wait_for_function("() => +document.querySelectorAll('.gw-heatmap')[2].dataset.frameStep > 0")
    first_step = int(w.get_attribute("data-frame-step") or 0)
    settle_pointer(page, w)
    first = np.asarray(_png(w.locator(".js-plotly-plot")), dtype=int)
    page.wait_for_function(
        f"() => +document.querySelectorAll('.gw-heatmap')[2].dataset.frameStep > {first_step + 300}")
    settle_pointer(page, w)  # data-frame-step is set once plotly has drawn that frame
    second = np.asarray(_png(w.locator(".js-plotly-plot")), dtype=int)
    assert first.shape == second.shape
    changed = (np.abs(first - second).max(axis=2) > 24).mean()
    assert changed > 0.02, f"only {changed:.1%} of the plot's pixels changed over 300 training steps"
    kernel_eval(connection_file, "live.stop()")


def assert_no_console_errors(page: Page) -> None:
    errors = relevant_errors(page.console_errors)
    assert not errors, "browser console errors:\n" + "\n".join(errors)
