"""The discriminator heatmap in JupyterLab 4 and Notebook 7, in a real Chromium, with real training in the kernel."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import front_end_params
from .heatmap_checks import (
    NOTEBOOK,
    assert_no_console_errors,
    build_heatmap_notebook,
    check_live,
    check_plane,
    check_score_grid,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("front_end", front_end_params())
def test_discriminator_heatmap(front_end: str, open_notebook, page: Page, snapshot) -> None:
    _, connection = open_notebook(front_end, lambda root: build_heatmap_notebook(root / NOTEBOOK).name)
    check_live(page, connection)
    check_plane(page, connection, snapshot)
    check_score_grid(page, connection, snapshot)
    assert_no_console_errors(page)
