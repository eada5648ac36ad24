"""The latent explorer in JupyterLab 4 (a map of the prior) and Notebook 7 (of encoded digits), in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .explorer_checks import assert_no_console_errors, check_explorer, write_notebook

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("front_end", "source"), [("lab", "prior"), ("notebook7", "encode")],
                         ids=["lab", "notebook7"])
def test_latent_explorer(front_end: str, source: str, open_notebook, page: Page, snapshot) -> None:
    _, connection = open_notebook(front_end, lambda root: write_notebook(root, source))
    figures = check_explorer(page, connection, snapshot, source)
    print(f"{front_end} drag: {figures}")
    assert_no_console_errors(page)
