"""How the widgets look and respond in JupyterLab: both themes, narrow and wide, Enter applies an edit, no errors.

One notebook holds a finished 2-D GAN's panel, a VAE's latent explorer, the GAN's discriminator
heatmap, a DCGAN's latent explorer (codes laid out by what it makes of them, coloured by the class
MNIST's shipped classifier sees), a live GAN's panel and a runs board over two finished GAN runs. For
each theme (JupyterLab Light, JupyterLab Dark, switched live through Lab's own command) and each width
(600 and 1280 px):

* **contrast, by pixels**: in a screenshot of each widget's title and of a plot's tick labels, the
  text differs from its background by a WCAG contrast ratio of at least 4 (title) and 3 (ticks);
  a plot's background is the page's (not a white box in the dark theme);
* **layout**: no element of a widget reaches past the notebook's output area (wrapped, shrunk, or
  scrolled inside a box made to scroll: never spilled or clipped);
* **no console errors**, and no "genwidgets:" warnings, across theme switches, collapsing and
  expanding every output, and the heatmap's view switches.

Then Enter in the live panel's learning-rate field applies the edit (the field says applied and the
curves gain a mark) and an out-of-range value is refused at the field, with the allowed range.

Every wait is on state (data attributes the widgets set, computed colours), never on time. With
``GENWIDGETS_SCREENSHOTS=DIR`` the test also writes ``DIR/<widget>-<theme>-<width>.png`` (the
README's pictures in ``docs/img``).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from .helpers import relevant_errors, wait_for_content

pytestmark = pytest.mark.browser
expect.set_options(timeout=90_000)

CELLS = [
    "import genwidgets as gw\nfrom genwidgets.widgets import TrainingPanel, LatentExplorer, DiscriminatorHeatmap",
    ('gan = gw.train("gan", data="ring", preset="toy2d", steps=200, log_every=5, sample_every=100, '
     'checkpoint_every=None)\ngan.wait()\nTrainingPanel(gan)'),
    ('vae = gw.train("vae", data="mnist", preset="tiny", steps=60, log_every=5, sample_every=30, '
     'checkpoint_every=None)\nvae.wait()\nLatentExplorer(vae, n=500)'),
    "DiscriminatorHeatmap(gan)",
    ('dc = gw.train("dcgan", data="mnist", preset="tiny", steps=150, log_every=10, checkpoint_every=None)\n'
     'dc.wait()\nLatentExplorer(dc, n=500)'),
    ('live = gw.train("gan", data="ring", preset="tiny", steps=1_000_000, log_every=20, sample_every=500, '
     'checkpoint_every=None)\nTrainingPanel(live)'),
    ('for lr in (1e-3, 4e-3):\n'
     '    gw.train("gan", data="ring", preset="toy2d", config={"lr_g": lr}, steps=100, out=f"looks-runs/lr_g={lr}", '
     'log_every=5, sample_every=50).wait()\ngw.board("looks-runs")'),
]

#: The widgets, as (name for screenshots, CSS selector of the root, index among roots of that kind).
WIDGETS = [("training-panel", ".gw-training-panel", 0), ("latent-explorer", ".gw-latent-explorer", 0),
           ("discriminator-heatmap", ".gw-heatmap", 0), ("gan-latent-explorer", ".gw-latent-explorer", 1),
           ("runs-board-lab", ".gw-board", 0)]

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
WIDTHS = (600, 1280)

#: JS: every widget drew its content (panels: curves and samples; explorer: its map; heatmap: a frame).
ALL_DRAWN = """() => {
  const panels = [...document.querySelectorAll('.gw-training-panel')];
  const explorers = [...document.querySelectorAll('.gw-latent-explorer')], hm = document.querySelector('.gw-heatmap');
  return panels.length === 2 && panels.every((p) => Number(p.dataset.points) > 0 && p.dataset.sampleStep !== undefined
      && p.querySelector('.gw-curves .xtick text'))
    && explorers.length === 2 && explorers.every((ex) => ex.dataset.mapPoints === '500'
      && !!ex.querySelector('.gw-map .xtick text'))
    && hm?.dataset.frameStep !== undefined && !!hm.querySelector('.heatmaplayer image')
    && (document.querySelector('.gw-board')?.dataset.curves ?? '').split('|')
      .filter((c) => /:[1-9]/.test(c)).length === 2
    && !!document.querySelector('.gw-board .gw-board-curves-plot .xtick text'); }"""

#: JS (arg: a widget root): its plots not (yet) laid out at their box's width, or with draws still queued.
UNFITTED = """(root) => [...root.querySelectorAll('.js-plotly-plot')].filter((div) => {
  const svg = div.querySelector('.main-svg');
  return !(!div.getClientRects().length || (div.dataset.busy === 'false'
    && svg && svg.getBoundingClientRect().width <= div.clientWidth + 1)); }).map((div) =>
  `${div.className}: busy=${div.dataset.busy}, `
  + `svg ${div.querySelector('.main-svg')?.getBoundingClientRect().width} in ${div.clientWidth}`)"""

#: JS (arg: true for dark): Lab's theme is applied and every plot's tick labels took the theme's text colour.
THEMED = """(dark) => {
  const lum = (c) => { const m = c.match(/[\\d.]+/g); if (!m) return -1;
    return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255; };
  if (document.body.dataset.jpThemeLight !== String(!dark)) return false;
  const roots = [...document.querySelectorAll('.gw-root')];
  return roots.length >= 5 && roots.every((r) => {
    const text = lum(getComputedStyle(r).color);
    const ticks = [...r.querySelectorAll('.xtick text')].map((t) => lum(getComputedStyle(t).fill));
    return (dark ? text > 0.6 : text < 0.4) && ticks.every((t) => (dark ? t > 0.45 : t < 0.55));
  }); }"""

#: JS (arg: a widget root): elements that reach past the output area (outside boxes made to scroll and SVGs).
SPILLS = """(root) => {
  const area = (root.closest('.jp-OutputArea-output') || root.parentElement).getBoundingClientRect();
  const scrolls = (e) => { for (let p = e.parentElement; p && p !== root; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const bad = [];
  for (const e of [root, ...root.querySelectorAll('*')]) {
    const r = e.getBoundingClientRect();
    // An SVG clips what is inside it (plotly's drag layers outgrow it): the <svg> itself is what must fit.
    if (!r.width || !e.getClientRects().length || scrolls(e) || e.parentElement?.closest('svg')) continue;
    if (r.right > area.right + 1 || r.left < area.left - 1) {
      bad.push(`${e.tagName.toLowerCase()}.${String(e.className.baseVal ?? e.className).trim().replace(/ +/g, '.')}`
        + ` [${Math.round(r.left)}, ${Math.round(r.right)}] in [${Math.round(area.left)}, ${Math.round(area.right)}]`);
    }
  }
  return bad.slice(0, 8); }"""


def write_notebook(root: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nbformat.write(nb, root / "looks.ipynb")
    return "looks.ipynb"


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB colours (..., 3) in 0-255."""
    c = rgb / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def contrast(shot: bytes) -> tuple[float, tuple[int, ...]]:
    """The contrast ratio between an element's background (its commonest colour) and its most distinct pixel."""
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).reshape(-1, 3).astype(float)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    background = colours[counts.argmax()]
    lum, bg = _luminance(pixels), _luminance(background)
    far = pixels[np.abs(lum - bg).argmax()]
    hi, lo = max(_luminance(far), bg), min(_luminance(far), bg)
    return (hi + 0.05) / (lo + 0.05), tuple(int(v) for v in background)


def page_background(page: Page) -> tuple[int, ...]:
    """The notebook's background colour, as the page paints it (read from a screenshot of an empty corner)."""
    corner = page.locator(".jp-Notebook").first
    box = corner.bounding_box()
    shot = page.screenshot(clip={"x": box["x"] + box["width"] - 12, "y": box["y"] + 2, "width": 8, "height": 8})
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    return tuple(int(v) for v in colours[counts.argmax()])


def check_contrast(page: Page, widget: Locator, name: str, theme: str) -> None:
    ratio, _ = contrast(widget.locator(".gw-title").first.screenshot())
    assert ratio >= 4.0, f"{name} ({theme}): its title contrasts {ratio:.2f}:1 with its background"
    tick = widget.locator(".xtick text").first
    ratio, plot_bg = contrast(tick.screenshot())
    assert ratio >= 3.0, f"{name} ({theme}): tick labels contrast {ratio:.2f}:1 with the plot's background"
    page_bg = page_background(page)
    assert np.abs(np.array(plot_bg) - np.array(page_bg)).max() <= 24, (
        f"{name} ({theme}): the plot's background {plot_bg} is not the page's {page_bg}")


def switch_theme(page: Page, theme: str) -> None:
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", THEMES[theme])
    wait_for_content(page, f"() => ({THEMED})({str(theme == 'dark').lower()})",
                     f"every widget and plot in the {theme} theme's colours")


def check_hidden_and_shown_again(page: Page) -> None:
    """Collapse every output and expand it again; the heatmap's view goes to the latent slice and back."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:hide-all-cell-outputs')")
    expect(page.locator(".gw-root").first).to_be_hidden()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:show-all-cell-outputs')")
    wait_for_content(page, ALL_DRAWN, "every widget drawn again after its output was shown again")
    heatmap = page.locator(".gw-heatmap").first
    for view in ("latent", "plane"):
        heatmap.locator(".gw-view-select").select_option(view)
        expect(heatmap).to_have_attribute("data-frame-view", view)


def check_enter_applies_an_edit(page: Page) -> None:
    panel = page.locator(".gw-training-panel").nth(1)  # the live run's
    expect(panel).to_have_attribute("data-state", "running")
    field = panel.locator("input[class^='gw-hparam-lr']").first
    label = field.locator("xpath=..")
    marks = int(panel.get_attribute("data-edits") or 0)
    field.fill("0.0001")
    field.press("Enter")
    expect(label).to_have_attribute("data-edit", "applied")  # the run took it at its next step
    expect(panel).to_have_attribute("data-edits", str(marks + 1))  # and the curves show the mark
    field.fill("-1")
    field.press("Enter")
    expect(label).to_have_attribute("data-edit", "invalid")
    expect(label.locator(".gw-hparam-status")).to_contain_text("allowed:")
    field.press("Escape")
    expect(label).not_to_have_attribute("data-edit", "invalid")


def test_widgets_in_both_themes_at_600_and_1280_px(open_notebook, page: Page) -> None:
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" and "genwidgets" in m.text else None)
    open_notebook("lab", write_notebook)
    wait_for_content(page, ALL_DRAWN, "every widget drawn", timeout=180)
    out = os.environ.get("GENWIDGETS_SCREENSHOTS")
    try:
        check_themes_and_widths(page, out)
    finally:  # Lab keeps the theme in the server's settings, which the other browser tests share
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")
    check_hidden_and_shown_again(page)
    check_enter_applies_an_edit(page)
    errors = relevant_errors(page.console_errors)
    assert not errors and not warnings, "console errors and warnings:\n" + "\n".join(errors + warnings)


def check_plots_fitted(page: Page, width: int) -> None:
    """Every widget's plots follow their box's new width, once the widget is on screen.

    Each widget is scrolled into view first: JupyterLab skips the rendering of cells far off screen
    (``content-visibility``), and a browser delivers no resize to what it does not render, so a plot
    below the fold is laid out when a person scrolls to it, not before.
    """
    roots = page.locator(".gw-root")
    for i in range(roots.count()):
        root = roots.nth(i)
        root.scroll_into_view_if_needed()
        kind = root.get_attribute("class")
        handle = root.element_handle()
        try:
            page.wait_for_function(f"(root) => ({UNFITTED})(root).length === 0", arg=handle, timeout=60_000)
        except Exception:  # noqa: BLE001 - a timeout: say which plot
            raise AssertionError(f"{kind} #{i} at {width} px: plots not laid out at their box's width after 60 s: "
                                 f"{root.evaluate(UNFITTED)}") from None


def check_themes_and_widths(page: Page, out: str | None) -> None:
    """Each theme at each width: nothing spills, text contrasts (and screenshots into ``out`` when given)."""
    for theme in THEMES:
        switch_theme(page, theme)
        for width in WIDTHS:
            # Screenshots need the tallest widget (the explorer, 1,900 px at 600) inside the viewport.
            page.set_viewport_size({"width": width, "height": 2200 if out else 1200})
            wait_for_content(page, ALL_DRAWN, f"every widget drawn at {width} px")
            check_plots_fitted(page, width)
            for name, selector, index in WIDGETS:
                widget = page.locator(selector).nth(index)
                widget.scroll_into_view_if_needed()
                spills = widget.evaluate(SPILLS)
                assert not spills, f"{name} at {width} px ({theme}) spills out of its output area: {spills}"
                check_contrast(page, widget, name, theme)
                if out:
                    page.mouse.move(0, 0)
                    Path(out).mkdir(parents=True, exist_ok=True)
                    widget.screenshot(path=str(Path(out) / f"{name}-{theme}-{width}.png"), animations="disabled")
    page.set_viewport_size({"width": 1280, "height": 1200})
