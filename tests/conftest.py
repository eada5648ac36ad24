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
