"""The latent-explorer notebook in notebooks/ runs top to bottom in a real kernel."""

from __future__ import annotations

import base64
import io
import re
import runpy
from pathlib import Path

import nbclient
import nbformat
import pytest
from PIL import Image

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
VIEW = "application/vnd.jupyter.widget-view+json"


def test_notebook_is_up_to_date_with_its_generator(tmp_path: Path) -> None:
    build = runpy.run_path(str(NOTEBOOKS / "make_latent_explorer.py"))["build"]
    rebuilt = build(tmp_path / "nb.ipynb")
    assert rebuilt.read_text() == (NOTEBOOKS / "latent_explorer.ipynb").read_text(), (
        "notebooks/latent_explorer.ipynb is stale: run notebooks/make_latent_explorer.py")


@pytest.mark.slow
def test_latent_explorer_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "latent_explorer.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it with outputs stripped"
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    views = [o for c in code for o in c.outputs if VIEW in o.get("data", {})]
    assert len(views) == 4  # VAE and beta-VAE, on MNIST and on dSprites
    for output in views:  # the static fallback travels beside every live view
        png = Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"])))
        assert png.format == "PNG" and png.width > 600
    text = "".join(o.get("text", "") for c in code for o in c.outputs if o.get("name") == "stdout")
    assert "posterior means of 2,000 examples of mnist" in text
    assert "axes now: ['z[" in text
    totals = {name: float(kl) for name, kl in re.findall(r"(VAE|beta-VAE) *: total KL ([\d.]+) nats", text)}
    # beta = 4 presses the posterior towards the prior: less information in the code than the VAE's.
    assert totals["beta-VAE"] < totals["VAE"], totals
    assert text.count("total KL") == 4
