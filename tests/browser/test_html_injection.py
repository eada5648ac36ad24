"""Nothing from a plugin or a data set is inserted into the page as HTML (JupyterLab 4, real Chromium).

A plugin named like an ``<img onerror=...>`` tag registers a model whose metric name and error
message are that tag, plus a panel with that title whose factory raises it; the data set is named
with it too. The notebook shows the run's TrainingPanel and the studio. The test asserts that the
text shows as text (title, error banner, tab title, error label), that no ``<img>`` element was
created from it, and that its script never ran.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .explorer_checks import assert_no_console_errors

pytestmark = pytest.mark.browser

EVIL = '<img src=x onerror="window.__gw_pwned=(window.__gw_pwned||0)+1">'
SETUP = f"""\
import genwidgets as gw
from genwidgets import hookimpl
from genwidgets.widgets import TrainingPanel
EVIL = {EVIL!r}

class EvilVAE(gw.get_model("vae")):
    \"\"\"A VAE whose metric name and error message are HTML.\"\"\"
    name = "evil_vae"
    def train_step(self, batch):
        out = super().train_step(batch)
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 40:
            raise RuntimeError(EVIL)
        return {{EVIL: out["loss"], **out}}

def broken_panel(run):
    raise RuntimeError(EVIL)

class EvilPlugin:
    @hookimpl
    def register_models(self, register):
        register(EvilVAE)
    @hookimpl
    def register_panels(self, register):
        register("evil_panel", broken_panel, title=EVIL)

gw.get_registry().add_plugin(EvilPlugin(), name=EVIL)
data = gw.load_data("ring")
data.name = EVIL
run = gw.train("evil_vae", data=data, preset="tiny", steps=100, log_every=5, sample_every=10, checkpoint_every=None)
try:
    run.wait()
except RuntimeError:
    pass"""
CELLS = (SETUP, "TrainingPanel(run)", "gw.studio(run, explorer=False)")
NOTEBOOK = "injection.ipynb"


def write_notebook(root: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nbformat.write(nb, root / NOTEBOOK)
    return NOTEBOOK


def test_lab_shows_plugin_and_data_text_as_text_and_runs_none_of_it(open_notebook, page: Page) -> None:
    open_notebook("lab", write_notebook)

    panel = page.locator(".gw-training-panel").first
    expect(panel).to_have_attribute("data-rendered", "true", timeout=90_000)
    banner = panel.locator(".gw-banner-text")
    expect(banner).to_contain_text(f"RuntimeError: {EVIL}", timeout=60_000)  # the literal tag, as text
    expect(panel.locator(".gw-title")).to_contain_text(EVIL)
    expect(panel.locator(".js-plotly-plot .legendtext").first).to_be_visible(timeout=60_000)  # the curves drew

    tab = page.locator(".lm-TabBar-tab", has_text=EVIL)
    expect(tab).to_have_count(1, timeout=60_000)
    expect(tab).to_contain_text(f"{EVIL} ({EVIL})")
    tab.click()
    expect(page.locator(".widget-label", has_text="could not open")).to_contain_text(
        f"(from plugin {EVIL!r}) could not open: RuntimeError: {EVIL}")

    page.wait_for_timeout(1000)  # an <img src=x> would have failed to load and fired onerror by now
    found = page.evaluate("""() => ({
        pwned: window.__gw_pwned ?? 0,
        imgs: [...document.querySelectorAll('img')].filter(
            i => i.hasAttribute('onerror') || (i.getAttribute('src') ?? '') === 'x').length,
        textHits: document.body.innerText.split('onerror=').length - 1,
    })""")
    assert found["pwned"] == 0, "a script from a plugin's text ran in the page"
    assert found["imgs"] == 0, "a plugin's text became an <img> element"
    assert found["textHits"] >= 3, f"the tag should be visible as text (title, banner, tab, label): {found}"
    assert_no_console_errors(page)
