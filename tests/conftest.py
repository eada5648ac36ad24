"""Shared fixtures: an isolated registry, throwaway installed plugins, small real data, a recording comm."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import comm
import pytest
import torch

import genwidgets
from genwidgets.registry import reset_registry
from genwidgets.testing.snapshots import RecordingComm


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test sees a registry built from what is installed now, and starts with one torch thread."""
    monkeypatch.delenv("GENWIDGETS_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("GENWIDGETS_TRACE_PLUGINS", raising=False)
    monkeypatch.delenv("GENWIDGETS_DEVICE", raising=False)
    reset_registry()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models run fastest on one thread and do not spin-wait on a shared CPU
    yield
    reset_registry()
    torch.set_num_threads(threads)


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Install a throwaway distribution with a ``genwidgets.plugins`` entry point on sys.path.

    This is a real installed distribution as importlib.metadata sees it (a ``.dist-info``
    folder with METADATA and entry_points.txt beside the module), not a mock.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def install(dist: str, module: str, source: str, *, version: str = "1.0", entry_name: str | None = None) -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[genwidgets.plugins]\n{entry_name or dist} = {module}\n")
        sys.modules.pop(module, None)
        return site

    yield install
    for name in list(sys.modules):
        mod = sys.modules[name]
        if getattr(mod, "__file__", None) and str(site) in str(mod.__file__):
            del sys.modules[name]


@pytest.fixture
def digits() -> genwidgets.GenData:
    """scikit-learn's 8x8 digits: real images, small enough for many training steps per second."""
    return genwidgets.load_data("digits")


@pytest.fixture
def ring() -> genwidgets.GenData:
    """The 8-Gaussian ring toy set."""
    return genwidgets.load_data("ring")


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widgets created in the test talk to a :class:`RecordingComm` instead of a kernel's comm.

    The only stand-in in the widget tests is this transport (the role ipywidgets' own DummyComm
    plays outside a kernel); everything the widget computes and sends is real.
    """
    monkeypatch.setattr(comm, "create_comm", RecordingComm)  # what the plugin's recording_comm fixture does


# ---- scheduling: the long tests first ----------------------------------------------------------------------
#: Unmarked tests whose call took longer than this are named at the end of the run (they should be marked slow).
SLOW_SECONDS = 15.0
_unmarked_slow: list[tuple[float, str]] = []


def _is_long(keywords: object) -> bool:
    return "slow" in keywords or "browser" in keywords


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the tests marked ``slow`` or ``browser`` first, each group in collection order.

    Under pytest-xdist (scripts/test.sh runs ``-n 2 --dist loadgroup``) a worker takes the next test
    when it is free, so long tests started first overlap with the many short ones, instead of one
    of them starting last and running alone while the other worker idles. ``-m "not slow"`` leaves
    them out of a quick local run.
    """
    items.sort(key=lambda item: not _is_long(item.keywords))


#: Tests that one xdist worker runs one after another, by node-id prefix: every browser test (one server
#: of each front end per run, one Chromium page with a live kernel at a time) and the demo's two
#: JupyterLab runs. (pytest-xdist 3.8's own ``xdist_group`` marks do nothing under pytest 9.2: the
#: group is added to ``item._nodeid``, which pytest 9.2 no longer reads.)
WORKER_GROUPS = {
    "tests/browser/": "browser",
    "tests/test_demo.py::test_demo_opens_jupyterlab": "demo-lab",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under ``--dist loadgroup``: a free worker takes the next test, or the whole of one of ``WORKER_GROUPS``."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((group for prefix, group in WORKER_GROUPS.items() if nodeid.startswith(prefix)), nodeid)

    return GroupScheduling(config, log)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.duration > SLOW_SECONDS and not _is_long(report.keywords):
        _unmarked_slow.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the unmarked tests that ran long, so that the ``slow`` marker (and the scheduling above) stays true."""
    if _unmarked_slow:
        terminalreporter.section(f"tests over {SLOW_SECONDS:.0f} s not marked slow")
        for duration, nodeid in sorted(_unmarked_slow, reverse=True):
            terminalreporter.write_line(f"{duration:6.1f}s {nodeid}")


@pytest.fixture(autouse=True)
def _pytester_runs_outside_xdist(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that runs pytest itself (``pytester``) gets a plain session, also when this one is an xdist worker.

    syrupy reads ``PYTEST_XDIST_WORKER``: seen in the inner session, it would lock snapshot files
    (leaving ``.lock`` files) and print no snapshot report, which those tests check.
    """
    if "pytester" in request.fixturenames:
        for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
            monkeypatch.delenv(name, raising=False)
