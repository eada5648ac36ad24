"""The training-panel notebook in notebooks/ runs top to bottom in a real kernel."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import nbclient
import nbformat
import pytest
from PIL import Image

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.slow
def test_training_panel_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "training_panel.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it with outputs stripped"
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    panels = [o for c in code for o in c.outputs if VIEW in o.get("data", {})]
    assert len(panels) == 2
    for output in panels:  # the static fallback travels beside every live view
        png = Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"])))
        assert png.format == "PNG" and png.width > 600
    text = "".join(o.get("text", "") for c in code for o in c.outputs if o.get("name") == "stdout")
    assert "panel shows: paused" in text and "panel shows: finished at step 400" in text
    marked = re.search(r"marked on the curves: \[\((\d+), \{'lr_g': 0.0001, 'd_steps': 2\}\)\]", text)
    assert marked and 0 < int(marked.group(1)) < 400, text  # the live edit, at the step it applied
