"""The quickstart: `genwidgets demo --headless` and the quickstart notebook (executed)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbclient
import nbformat
import numpy as np
import pytest
from PIL import Image

from genwidgets import demo
from genwidgets.cli import main

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.slow
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

    first = {p.relative_to(tmp_path / "run") for p in (tmp_path / "run").rglob("*")}
    again = main(["demo", "--headless", "--steps", "4", "--preset", "tiny", "--out", str(tmp_path), "--quiet"])
    assert again == 0, capsys.readouterr().err  # the README's main command runs twice in a row
    assert "the previous demo run moved to" in capsys.readouterr().err
    (previous,) = (tmp_path / "previous").iterdir()  # nothing of the first run was deleted
    assert {p.relative_to(previous) for p in previous.rglob("*")} == first


def test_demo_writes_the_quickstart_once_and_keeps_the_users_edits(tmp_path):
    path = demo.write_quickstart(tmp_path)
    nb = nbformat.read(path, as_version=4)
    assert "gw.studio(" in "".join(c.source for c in nb.cells)
    path.write_text(path.read_text().replace("STEPS = 300", "STEPS = 5"))
    assert demo.write_quickstart(tmp_path) == path and "STEPS = 5" in path.read_text()


#: The quickstart's STEPS, and what the test runs instead: the notebook's checks (it finishes, every widget
#: saves its figure) do not depend on how long it trains, and 300 steps of the full DCGAN took 3 minutes of
#: a loaded 2-core machine. 60 steps still log (every 10) and draw samples (every 50) during the run.
QUICKSTART_STEPS, TEST_STEPS = "STEPS = 300\n", "STEPS = 60\n"


@pytest.mark.slow
def test_quickstart_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it with outputs stripped"
    (setup,) = [c for c in nb.cells if c.cell_type == "code" and QUICKSTART_STEPS in c.source]
    setup.source = setup.source.replace(QUICKSTART_STEPS, TEST_STEPS)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.get("name") == "stdout")
    assert "finished at step 60" in text
    for title in ("Training", "Latent space", "Discriminator"):
        assert f"{title}: quickstart-figures/" in text
    assert len(list((tmp_path / "quickstart-figures").glob("*.png"))) == 3


def test_lab_command_adds_allow_root_only_for_root_and_passes_options_through(tmp_path):
    cmd = demo.lab_command(tmp_path / "quickstart.ipynb", ["--no-browser", "--port", "8899"])
    assert cmd[1:5] == ["-m", "jupyter", "lab", "quickstart.ipynb"]  # run from the notebook's folder
    assert cmd[5:8] == ["--no-browser", "--port", "8899"]
    assert ("--allow-root" in cmd) == (os.geteuid() == 0)
    assert demo.lab_command("nb.ipynb", ["--allow-root"]).count("--allow-root") == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_sigint() -> None:
    """In the child: SIGINT as a terminal gives it (default), whatever the test process inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _lab_api(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.mark.slow
@pytest.mark.parametrize(("stop", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_demo_opens_jupyterlab_even_as_root_and_ctrl_c_stops_the_server(tmp_path, stop, status):
    """`genwidgets demo` starts a real JupyterLab (as root too: it refused before) that Ctrl-C or kill shuts down."""
    # Under xdist the two cases run one after the other (WORKER_GROUPS in conftest.py), never side by side.
    port = _free_port()
    # Jupyter's folders of its own (as tests/browser does), not the ones another test's server may be using.
    env = {**os.environ, **{var: str(tmp_path / sub) for var, sub in (
        ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"))}}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("genwidgets")), "demo", "--out", str(tmp_path / "nb"),
                             "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
                             "--ServerApp.ip=127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True, preexec_fn=_default_sigint)
    try:
        deadline = time.monotonic() + 120
        while (api := _lab_api(port)) is None and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert api is not None and "version" in api, proc.stderr.read() if proc.poll() is not None else "timeout"
        assert (tmp_path / "nb" / "quickstart.ipynb").exists()
        os.kill(proc.pid, stop)  # the signal reaches genwidgets only: it must stop the server itself
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == status, stderr
        assert _lab_api(port) is None  # the server is gone, not orphaned
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
