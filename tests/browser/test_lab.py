"""The training panel in JupyterLab 4, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .panel_checks import assert_no_console_errors, check_fixed_panel, check_live_panel

pytestmark = pytest.mark.browser

KERNEL_READY = """() => {
  const sc = window.jupyterapp?.shell.currentWidget?.sessionContext, k = sc?.session?.kernel;
  return sc?.isReady && k?.connectionStatus === 'connected' && k?.status === 'idle'; }"""


def test_lab_training_panel(server_factory, page: Page, snapshot) -> None:
    server = server_factory("lab")
    page.goto(f"{server.url}/lab/tree/demo.ipynb?token={server.token}&reset")
    page.wait_for_function(KERNEL_READY)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    check_live_panel(page, server.kernel_connection_file())
    check_fixed_panel(page, snapshot)
    assert_no_console_errors(page)
