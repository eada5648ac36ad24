"""The discriminator heatmap in Notebook 7, in a real Chromium, with real training in the kernel."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .heatmap_checks import (
    assert_no_console_errors,
    build_heatmap_notebook,
    check_live,
    check_plane,
    check_score_grid,
)
from .test_lab import KERNEL_READY

pytestmark = pytest.mark.browser


def test_notebook7_discriminator_heatmap(server_factory, page: Page, snapshot) -> None:
    server = server_factory("notebook")
    build_heatmap_notebook(server.root / "heatmap.ipynb")
    page.goto(f"{server.url}/notebooks/heatmap.ipynb?token={server.token}")
    page.wait_for_function(KERNEL_READY)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    connection = server.kernel_connection_file()
    check_live(page, connection)
    check_plane(page, connection, snapshot)
    check_score_grid(page, connection, snapshot)
    assert_no_console_errors(page)
