"""The latent explorer in JupyterLab 4 (a map of the prior) and Notebook 7 (of encoded digits), in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import front_end_params
from .explorer_checks import assert_no_console_errors, check_explorer, write_notebook

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("front_end_source", front_end_params(lab=("lab", "prior"), notebook7=("notebook7", "encode")))
def test_latent_explorer(front_end_source: tuple[str, str], open_notebook, page: Page, snapshot) -> None:
    front_end, source = front_end_source
    _, connection = open_notebook(front_end, lambda root: write_notebook(root, source))
    figures = check_explorer(page, connection, snapshot, source)
    print(f"{front_end} drag: {figures}")
    assert_no_console_errors(page)
