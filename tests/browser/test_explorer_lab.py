"""The latent explorer in JupyterLab 4, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .explorer_checks import assert_no_console_errors, check_explorer, write_notebook
from .test_lab import KERNEL_READY

pytestmark = pytest.mark.browser


def test_lab_latent_explorer(server_factory, page: Page, snapshot) -> None:
    server = server_factory("lab")
    name = write_notebook(server.root, "prior")
    page.goto(f"{server.url}/lab/tree/{name}?token={server.token}&reset")
    page.wait_for_function(KERNEL_READY)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    figures = check_explorer(page, server.kernel_connection_file(), snapshot, "prior")
    print(f"lab drag: {figures}")
    assert_no_console_errors(page)
