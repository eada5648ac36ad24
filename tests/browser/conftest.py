"""Fixtures for real-browser tests: a Jupyter server, Debian's Chromium via Playwright, a page.

Follows /work/shared/recipes/browser-widget-tests.md. Tests here are marked ``browser``; they
skip when Chromium or Playwright is missing, except under ``CI=true``, where they fail instead.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .helpers import FLAGS, build_demo_notebook

CHROMIUM = os.environ.get("GENWIDGETS_CHROMIUM", "/usr/bin/chromium")


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run in CI, not skip)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """A JupyterLab, Notebook 7 or Voila server on 127.0.0.1 with its own home, config and root folder.

    Voila serves one notebook, given as ``notebook`` (a file name in the root folder, written by
    ``prepare(root)`` before the server starts); it runs the notebook itself when the page opens.
    """

    def __init__(self, app: str, base: Path, *, notebook: str | None = None,
                 prepare: Callable[[Path], object] | None = None) -> None:
        self.app, self.port, self.token = app, _free_port(), secrets.token_hex(16)
        self.home, self.root = base / "home", base / "root"
        self.root.mkdir(parents=True)
        self.env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "GENWIDGETS_NUM_THREADS": "1",
                    "PYTHONUNBUFFERED": "1"}
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
            self.env[var] = str(self.home / sub)
        if app == "lab":  # the news toast (Notebook 7 has no schema for this file and errors on it)
            settings = self.home / "settings" / "@jupyterlab" / "apputils-extension"
            settings.mkdir(parents=True)
            (settings / "notification.jupyterlab-settings").write_text(
                json.dumps({"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}))
        build_demo_notebook(self.root / "demo.ipynb")
        if prepare is not None:
            prepare(self.root)
        if app == "voila":  # no token: bound to 127.0.0.1 only (the recipe's setup)
            cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={self.port}", "--Voila.port_retries=0",
                   "--Voila.ip=127.0.0.1", notebook or "demo.ipynb"]
        else:
            cmd = [sys.executable, "-m", "jupyter", app, "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                   "--expose-app-in-browser"]
        if app == "lab":
            cmd += ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        self.log = open(base / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited with {self.proc.returncode}; see {self.log.name}")
            try:
                # Voila: any HTTP answer means ready (requesting "/" would run the notebook).
                probe = "/voila/static/x" if self.app == "voila" else f"/api/status?token={self.token}"
                with urllib.request.urlopen(f"{self.url}{probe}", timeout=2) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError:
                if self.app == "voila":
                    return
                time.sleep(0.1)
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"jupyter {self.app} did not answer within {timeout} s")

    def kernel_connection_file(self) -> Path:
        if self.app == "voila":  # one kernel per page; Voila has no sessions API
            files = sorted(Path(self.env["JUPYTER_RUNTIME_DIR"]).glob("kernel-*.json"), key=lambda f: f.stat().st_mtime)
            if not files:
                raise FileNotFoundError("Voila has not started a kernel yet (open the page first)")
            return files[-1]
        with urllib.request.urlopen(f"{self.url}/api/sessions?token={self.token}", timeout=5) as r:
            sessions = json.load(r)
        kernel_id = sessions[0]["kernel"]["id"]
        return Path(self.env["JUPYTER_RUNTIME_DIR"]) / f"kernel-{kernel_id}.json"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed; `pip install -e '.[test]'`")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: object) -> Iterator[object]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[[str], JupyterServer]]:
    servers: list[JupyterServer] = []

    def start(app: str, **options: object) -> JupyterServer:
        server = JupyterServer(app, tmp_path / app, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A fresh page (1280x1200) that records console errors; a failing test leaves a screenshot."""
    context = browser.new_context(viewport={"width": 1280, "height": 1200}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        shot = Path(os.environ.get("GENWIDGETS_TEST_ARTIFACTS") or tmp_path_factory.getbasetemp()) / (
            f"{request.node.name}.png")
        page.screenshot(path=str(shot))
        print(f"screenshot of the failed page: {shot}")
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
