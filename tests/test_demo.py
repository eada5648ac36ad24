"""The quickstart: `genwidgets demo --headless` and the quickstart notebook (executed)."""

from __future__ import annotations

import json
from pathlib import Path

import nbclient
import nbformat
import numpy as np
import pytest
from PIL import Image

from genwidgets import demo
from genwidgets.cli import main

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_headless_demo_trains_with_every_widget_and_writes_their_figures(tmp_path, capsys):
    code = main(["demo", "--headless", "--steps", "12", "--preset", "tiny", "--out", str(tmp_path), "--json",
                 "--quiet"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["state"] == "finished" and summary["steps"] == 12
    assert summary["widgets"] == ["Training", "Latent space", "Discriminator"] and summary["errors"] == {}
    for title in summary["widgets"]:
        png = Image.open(summary["figures"][title])
        assert png.width > 300 and len(np.unique(np.asarray(png.convert("L")))) > 10, title  # not a blank
    assert Path(summary["checkpoint"]).is_dir() and (tmp_path / "run" / "checkpoints").is_dir()


def test_demo_writes_the_quickstart_once_and_keeps_the_users_edits(tmp_path):
    path = demo.write_quickstart(tmp_path)
    nb = nbformat.read(path, as_version=4)
    assert "gw.studio(" in "".join(c.source for c in nb.cells)
    path.write_text(path.read_text().replace("STEPS = 300", "STEPS = 5"))
    assert demo.write_quickstart(tmp_path) == path and "STEPS = 5" in path.read_text()


@pytest.mark.slow
def test_quickstart_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it with outputs stripped"
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.get("name") == "stdout")
    assert "finished at step 300" in text
    for title in ("Training", "Latent space", "Discriminator"):
        assert f"{title}: quickstart-figures/" in text
    assert len(list((tmp_path / "quickstart-figures").glob("*.png"))) == 3
