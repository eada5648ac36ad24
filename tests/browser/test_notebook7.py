"""The training panel in Notebook 7, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .panel_checks import assert_no_console_errors, check_fixed_panel, check_live_panel
from .test_lab import KERNEL_READY

pytestmark = pytest.mark.browser


def test_notebook7_training_panel(server_factory, page: Page, snapshot) -> None:
    server = server_factory("notebook")
    page.goto(f"{server.url}/notebooks/demo.ipynb?token={server.token}")
    page.wait_for_function(KERNEL_READY)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    check_live_panel(page, server.kernel_connection_file())
    check_fixed_panel(page, snapshot)
    assert_no_console_errors(page)
