"""Fixtures for real-browser tests: Jupyter servers, Debian's Chromium via Playwright, a page.

Follows /work/shared/recipes/browser-widget-tests.md. Tests here are marked ``browser``; they
skip when Chromium or Playwright is missing, except under ``CI=true``, where they fail instead.

One JupyterLab and one Notebook 7 server serve every test of a session (of an xdist worker),
started when a test first asks for one (``jupyter``); each test opens its own notebook in a
fresh browser context (``open_notebook``), and that notebook's kernel is shut down after the
test, so nothing a test started (a live training run) outlives it. Voila serves a single
notebook that it runs itself, so its test starts its own server (``server_factory``).
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

from .helpers import FLAGS, KERNEL_READY, RUN_ALL, build_demo_notebook

CHROMIUM = os.environ.get("GENWIDGETS_CHROMIUM", "/usr/bin/chromium")
#: The notebook front ends the browser tests run in, by test id: the ``jupyter`` application each one is.
FRONT_ENDS = {"lab": "lab", "notebook7": "notebook"}


def front_end_params(**ids_to_values: object) -> list[object]:
    """``parametrize`` values over every front end, with the front end as id (values default to the id).

    Under pytest-xdist every browser test runs on one worker (``WORKER_GROUPS`` in tests/conftest.py).
    """
    return [pytest.param(ids_to_values.get(name, name), id=name) for name in FRONT_ENDS]


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

    def notebook_url(self, name: str) -> str:
        """The page that opens notebook ``name`` (a file in the root folder) alone, with the server's token."""
        if self.app == "lab":  # &reset: a fresh workspace, not the tabs an earlier test left open
            return f"{self.url}/lab/tree/{name}?token={self.token}&reset"
        return f"{self.url}/notebooks/{name}?token={self.token}"

    def _sessions(self, notebook: str | None) -> list[dict]:
        with urllib.request.urlopen(f"{self.url}/api/sessions?token={self.token}", timeout=5) as r:
            sessions = json.load(r)
        return [s for s in sessions if notebook is None or s.get("path") == notebook]

    def kernel_connection_file(self, notebook: str | None = None) -> Path:
        """The connection file of the kernel of ``notebook`` (of the only session when None)."""
        if self.app == "voila":  # one kernel per page; Voila has no sessions API
            files = sorted(Path(self.env["JUPYTER_RUNTIME_DIR"]).glob("kernel-*.json"), key=lambda f: f.stat().st_mtime)
            if not files:
                raise FileNotFoundError("Voila has not started a kernel yet (open the page first)")
            return files[-1]
        sessions = self._sessions(notebook)
        if len(sessions) != 1:
            raise LookupError(f"expected one session for {notebook or 'the server'}, found {len(sessions)}")
        kernel_id = sessions[0]["kernel"]["id"]
        return Path(self.env["JUPYTER_RUNTIME_DIR"]) / f"kernel-{kernel_id}.json"

    def shut_down(self, notebook: str) -> None:
        """End ``notebook``'s sessions and their kernels (and so whatever the kernel still runs)."""
        for session in self._sessions(notebook):
            request = urllib.request.Request(f"{self.url}/api/sessions/{session['id']}?token={self.token}",
                                             method="DELETE")
            with urllib.request.urlopen(request, timeout=60):
                pass

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
    """Start a server of its own for this test (Voila, which serves one notebook); stopped after the test."""
    servers: list[JupyterServer] = []

    def start(app: str, **options: object) -> JupyterServer:
        server = JupyterServer(app, tmp_path / app, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], JupyterServer]]:
    """``jupyter(front_end)``: the session's one server of that front end ("lab" or "notebook7"), started once."""
    servers: dict[str, JupyterServer] = {}

    def get(front_end: str) -> JupyterServer:
        if front_end not in servers:
            servers[front_end] = JupyterServer(FRONT_ENDS[front_end], tmp_path_factory.mktemp(front_end))
        return servers[front_end]

    yield get
    for server in servers.values():
        server.stop()


@pytest.fixture
def _opened() -> Iterator[list[tuple[JupyterServer, str]]]:
    """The notebooks a test opened; their kernels are shut down after the test, once its page is closed."""
    opened: list[tuple[JupyterServer, str]] = []
    yield opened
    for server, name in opened:
        server.shut_down(name)


@pytest.fixture
def open_notebook(jupyter: Callable[[str], JupyterServer], page: object,
                  _opened: list[tuple[JupyterServer, str]]) -> Callable[..., tuple[JupyterServer, Path]]:
    """``open_notebook(front_end, write)``: write a notebook into the shared server's root folder
    (``write(root)`` returns its file name), open it in ``page``, wait for its kernel, run all cells.

    Returns the server and the connection file of the notebook's kernel (for :func:`helpers.kernel_eval`).
    """

    def open_(front_end: str, write: Callable[[Path], str]) -> tuple[JupyterServer, Path]:
        server = jupyter(front_end)
        name = write(server.root)
        _opened.append((server, name))
        page.goto(server.notebook_url(name))
        page.wait_for_function(KERNEL_READY)
        page.evaluate(RUN_ALL)
        return server, server.kernel_connection_file(name)

    return open_


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         _opened: list[tuple[JupyterServer, str]]) -> Iterator[object]:
    """A fresh page (1280x1200) that records console errors; a failing test leaves a screenshot.

    It asks for ``_opened`` only to be closed (and screenshotted) before the kernels of the test's notebooks end.
    """
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
