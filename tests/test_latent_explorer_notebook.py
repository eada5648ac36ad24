"""The latent-explorer notebook in notebooks/ runs top to bottom in a real kernel."""

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
def test_latent_explorer_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "latent_explorer.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it with outputs stripped"
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    views = [o for c in code for o in c.outputs if VIEW in o.get("data", {})]
    assert len(views) == 2  # the VAE's and the beta-VAE's explorers
    for output in views:  # the static fallback travels beside every live view
        png = Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"])))
        assert png.format == "PNG" and png.width > 600
    text = "".join(o.get("text", "") for c in code for o in c.outputs if o.get("name") == "stdout")
    assert "posterior means of 1,000 examples of mnist" in text
    nll = re.search(r"held-out: -ELBO ([\d.]+) ± [\d.]+ nats, IW-NLL \(k=1000\) ([\d.]+)", text)
    assert nll, text
    assert 60 < float(nll.group(2)) <= float(nll.group(1)) + 1.0  # the IW bound is tighter (up to noise)
    assert "axes now: ['z[" in text
    totals = {name: float(kl) for name, kl in re.findall(r"(VAE|beta-VAE) *: total KL ([\d.]+) nats", text)}
    # beta = 4 presses the posterior towards the prior: less information in the code than the VAE's.
    assert totals["beta-VAE"] < totals["VAE"], totals
    assert text.count("total KL") == 2
