"""The runs board in a real Chromium: in JupyterLab (a notebook cell) and as its own page (`genwidgets board`, Voila).

Two finished beta-VAE runs (beta 1 and 4) and a damaged run folder sit under ``board-runs/``. The board must
list the three (the damaged one as an error row), overlay both runs' curves, change the grids when the
step slider moves, sort by the varied field, open a run in the latent explorer below the board, and pick
up a run that starts training in the kernel while the board is open. The standalone page shows the same
table and curves from the command line. Every wait is on what the page shows.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .conftest import _free_port
from .helpers import VOILA_CDN, VOILA_NOISE, kernel_eval, relevant_errors, wait_for_content

pytestmark = pytest.mark.browser
expect.set_options(timeout=90_000)

NOTEBOOK = "board.ipynb"
BOARD = ".gw-board"
BOARD_CELL = """\
import genwidgets as gw
b = gw.board("board-runs", interval=0.5)
b"""
#: Starts a run in the notebook's kernel (ended with the kernel after the test).
LIVE = ("globals().setdefault('live', __import__('genwidgets').train('beta_vae', data='digits', preset='tiny', "
        "config={'beta': 2.0}, steps=1_000_000, out='board-runs/live', log_every=5, sample_every=1000, "
        "checkpoint_every=None)).state == 'running'")


def write_runs(root: Path) -> Path:
    """Under ``root/board-runs``: two finished tiny beta-VAE runs with grids at steps 10-40, and a folder with a
    damaged run card. Returns that folder."""
    import genwidgets as gw

    runs = root / "board-runs"
    for beta in (1.0, 4.0):
        gw.train("beta_vae", data="digits", preset="tiny", config={"beta": beta}, steps=40,
                 out=runs / f"beta={beta}", log_every=5, sample_every=10, checkpoint_every=20).wait()
    broken = runs / "broken"
    broken.mkdir(parents=True)
    (broken / "run.json").write_text("{not json")
    return runs


def write_notebook(root: Path) -> str:
    write_runs(root)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(BOARD_CELL)]
    nbformat.write(nb, root / NOTEBOOK)
    return NOTEBOOK


def check_table_and_curves(page: Page) -> None:
    """Three rows (one an error row naming the damage) and both runs' curves drawn."""
    board = page.locator(BOARD)
    expect(board).to_have_attribute("data-rendered", "true")
    wait_for_content(page, "() => document.querySelector('.gw-board')?.dataset.rows === '3'", "the board's 3 rows")
    error_row = board.locator("tr.gw-row-error[data-id='broken']")
    expect(error_row).to_contain_text("run.json cannot be read")
    expect(board.locator("th.gw-varied", has_text="beta")).to_have_count(1)
    wait_for_content(page, "() => (document.querySelector('.gw-board')?.dataset.curves ?? '').split('|')"
                     ".filter((c) => /:[1-9]/.test(c)).length === 2", "both runs' curves")
    assert board.locator(".gw-board-curves-plot .scatterlayer .trace, .gw-board-curves-plot canvas").count() > 0


def test_board_in_jupyterlab(open_notebook, page: Page) -> None:
    _, connection = open_notebook("lab", write_notebook)
    check_table_and_curves(page)
    board = page.locator(BOARD)

    # The step slider scrubs the grids: newest (40) first, then the first saved step (10).
    expect(board).to_have_attribute("data-grid-steps", "beta=1.0:40|beta=4.0:40")
    first_src = board.locator(".gw-board-grid img").first.get_attribute("src")
    slider = board.locator(".gw-board-step")
    slider.fill("0")
    expect(board).to_have_attribute("data-grid-steps", "beta=1.0:10|beta=4.0:10")
    assert board.locator(".gw-board-grid img").first.get_attribute("src") != first_src

    # Sorting by the varied field, descending, puts beta=4 first.
    header = board.locator("th[data-column='config:beta']")
    header.click()
    header.click()
    expect(header).to_have_attribute("data-sort", "desc")
    expect(board.locator("tbody tr").first).to_have_attribute("data-id", "beta=4.0")

    # A run opens in the latent explorer, below the board.
    board.locator("tr[data-id='beta=1.0'] .gw-board-open-explorer").click()
    expect(page.locator(".gw-latent-explorer")).to_have_attribute("data-rendered", "true")
    expect(board.locator(".gw-board-message")).to_contain_text("opened beta=1.0 in the explorer")

    # A run that starts training in the kernel appears, live, and its step moves on.
    assert kernel_eval(connection, LIVE) == "True"
    live = board.locator("tr[data-id='live']")
    expect(live.locator(".gw-board-state")).to_have_attribute("data-state", "running")
    expect(board).to_have_attribute("data-rows", "4")
    step_cell = "tr[data-id='live'] td.gw-num"  # "35 / 1,000,000"
    first_step = int(live.locator("td.gw-num").first.text_content().split("/")[0].replace(",", "").strip() or 0)
    wait_for_content(page, f"() => parseInt(document.querySelector(\"{step_cell}\").textContent.replace(/,/g, '')) "
                     f"> {first_step}", "the live run's step moving on")
    errors = relevant_errors(page.console_errors)
    assert not errors, "browser console errors:\n" + "\n".join(errors)


def test_board_as_its_own_page(tmp_path: Path, page: Page) -> None:
    runs = write_runs(tmp_path)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "genwidgets", "board", str(runs), "--port",
                               str(port), "--no-browser", "--interval", "0.5"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    failed: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}/voila/static/x"  # answers (404) once the server is up, without a kernel
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
            except urllib.error.HTTPError:
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else "server exited"
                assert time.monotonic() < deadline, "genwidgets board did not start serving within 120 s"
                time.sleep(0.5)
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(f"http://127.0.0.1:{port}/")
        check_table_and_curves(page)
        expect(page.locator(BOARD)).to_have_attribute("data-param-points", "2")  # loss against beta, a point per run
        cdn = [url for url in failed if not url.startswith(VOILA_CDN)]
        assert not cdn, f"requests that failed (the board must need nothing from the network): {cdn}"
        errors = [e for e in relevant_errors(page.console_errors) if not any(n in e for n in VOILA_NOISE)]
        assert not errors, "browser console errors:\n" + "\n".join(errors)
    finally:
        server.terminate()
        server.wait(20)
    assert not list(runs.glob("*.ipynb")), "the page's notebook must not be written into the runs folder"
