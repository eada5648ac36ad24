"""The training panel in JupyterLab 4 and in Notebook 7, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import front_end_params
from .panel_checks import assert_no_console_errors, check_fixed_panel, check_live_panel

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("front_end", front_end_params())
def test_training_panel(front_end: str, open_notebook, page: Page, snapshot) -> None:
    _, connection = open_notebook(front_end, lambda root: "demo.ipynb")  # written by the server fixture
    check_live_panel(page, connection)
    check_fixed_panel(page, snapshot)
    assert_no_console_errors(page)
