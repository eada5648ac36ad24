"""The GAN Lab notebook in notebooks/ runs top to bottom in a real kernel: GAN on ring, heatmap beside panel."""

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
def test_gan_lab_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "gan_lab.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it with outputs stripped"
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    views = [o for c in code for o in c.outputs if VIEW in o.get("data", {})]
    assert len(views) == 2  # the HBox (heatmap beside panel) and the critic's heatmap
    side_by_side = code[0].outputs[-1]["data"]["text/plain"]
    assert side_by_side.startswith("HBox(")
    critic_png = Image.open(io.BytesIO(base64.b64decode(code[-2].outputs[-1]["data"]["image/png"])))
    assert critic_png.format == "PNG" and critic_png.width >= 360
    text = "".join(o.get("text", "") for c in code for o in c.outputs if o.get("name") == "stdout")
    assert "heatmap shows step 400 of 400" in text
    assert "critic legend: critic score (unbounded" in text
    covered = re.search(r"GAN after 400 steps: (\d) of 8 modes covered, ([\d.]+) % high-quality samples", text)
    assert covered, text
    assert 0 <= int(covered.group(1)) <= 8 and 0.0 <= float(covered.group(2)) <= 100.0
