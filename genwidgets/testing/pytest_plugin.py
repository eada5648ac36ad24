"""The genwidgets pytest plugin: the model contract, widget snapshots and widget screenshots.

Installed with genwidgets (entry point ``pytest11: genwidgets``), so every pytest session
loads it; it imports nothing heavy until a fixture or option is used.

Command line:

* ``--genwidgets-contract=NAME[,NAME]``: add the contract suite for these registered models to
  the session, one test per (model, data kind, check), e.g.
  ``genwidgets-contract::test_contract[mymodel-images-outputs]``. ``all`` means every
  registered model. Repeatable.
* ``--genwidgets-contract-checks=CHECK[,CHECK]``: only these checks (names from
  :data:`genwidgets.testing.CHECKS`).
* ``--genwidgets-require-browser``: ``widget_screenshot`` fails instead of skipping where
  Playwright or Chromium is missing (for CI).

Fixtures:

* ``genwidgets_contract``: run contract checks on a model inside a test.
* ``widget_snapshot``: a widget's state in the ``.ambr`` file and its images as PNG files
  (:class:`genwidgets.testing.snapshots.WidgetSnapshot`); ``--snapshot-update`` writes them.
* ``widget_png_snapshot``: syrupy PNG snapshots with a pixel tolerance
  (:class:`~genwidgets.testing.images.TolerantPNG`).
* ``widget_screenshot``: render a widget in headless Chromium and return a PNG of it.
* ``recording_comm``: widgets made in the test talk to a
  :class:`~genwidgets.testing.snapshots.RecordingComm` that keeps what they send.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: Name of the collector that holds the contract tests the command-line option adds.
SUITE = "genwidgets-contract"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``genwidgets`` options."""
    group = parser.getgroup("genwidgets", "genwidgets model contract and widget snapshots")
    group.addoption("--genwidgets-contract", action="append", default=[], metavar="NAME[,NAME]",
                    help="run the genwidgets model contract on these registered models ('all': every one)")
    group.addoption("--genwidgets-contract-checks", default=None, metavar="CHECK[,CHECK]",
                    help="only these contract checks (default: all of genwidgets.testing.CHECKS)")
    group.addoption("--genwidgets-require-browser", action="store_true", default=False,
                    help="fail widget_screenshot tests where Playwright or Chromium is missing, instead of skipping")


def _split(values: Iterable[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


# ---- the contract suite from the command line -----------------------------------------------------

class ContractItem(pytest.Item):
    """One contract check on one registered model and one data kind."""

    def __init__(self, *, model: str, kind: str | None, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model, self.kind, self.check = model, kind, check

    def runtest(self) -> None:
        """Run the check (a model without contract data fails with a message that says so)."""
        from genwidgets.registry import get_registry
        from genwidgets.testing.contract import CHECKS, CONTRACT_DATA, contract_data, contract_runtime

        cls = get_registry().get_model(self.model)
        if self.kind is None:
            raise AssertionError(f"{self.model} declares data_kinds={tuple(cls.data_kinds)!r}; the contract has "
                                 f"data for {', '.join(CONTRACT_DATA)} only")
        tmp = self.config._tmp_path_factory.mktemp(f"contract-{self.model}-{self.check}", numbered=True)
        CHECKS[self.check](cls, contract_data(self.kind), runtime=contract_runtime(), tmp_path=tmp)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        """The contract's own message for a broken rule; the usual traceback for anything else."""
        if isinstance(excinfo.value, AssertionError) and self.config.getoption("tbstyle") != "long":
            return f"contract check {self.check!r} failed for model {self.model!r} on {self.kind} data:\n" \
                   f"{excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the check lives, and what it checks."""
        from genwidgets.testing import contract

        return Path(contract.__file__), None, f"genwidgets contract: {self.check} on {self.model} ({self.kind})"


class ContractSuite(pytest.Collector):
    """The contract tests for the models named with ``--genwidgets-contract``."""

    def __init__(self, *, models: list[str], checks: list[str] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.models, self.checks = models, checks

    def collect(self) -> list[pytest.Item]:
        """One item per (model, data kind, check), named ``test_contract[model-kind-check]``."""
        from genwidgets.registry import get_registry
        from genwidgets.testing.contract import CHECKS, contract_kinds

        registry = get_registry()
        known = registry.model_names()
        models = known if "all" in self.models else self.models
        unknown = [m for m in models if m not in known]
        if unknown:
            raise pytest.UsageError(f"--genwidgets-contract: no registered model {', '.join(map(repr, unknown))}; "
                                    f"registered: {', '.join(known)}")
        checks = self.checks or list(CHECKS)
        bad = [c for c in checks if c not in CHECKS]
        if bad:
            raise pytest.UsageError(f"--genwidgets-contract-checks: unknown check {', '.join(map(repr, bad))}; "
                                    f"checks: {', '.join(CHECKS)}")
        items: list[pytest.Item] = []
        for model in models:
            kinds: list[str | None] = list(contract_kinds(registry.get_model(model))) or [None]
            for kind in kinds:
                for check in checks:
                    items.append(ContractItem.from_parent(
                        self, name=f"test_contract[{model}-{kind or 'no-data'}-{check}]",
                        model=model, kind=kind, check=check))
        return items

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        """A bad model or check name is reported as one line, not a traceback."""
        if isinstance(excinfo.value, pytest.UsageError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Append the contract suite (before ``-k``/``-m`` deselect, so they select among its tests too)."""
    models = _split(config.getoption("genwidgets_contract") or [])
    if not models:
        return
    checks = _split([config.getoption("genwidgets_contract_checks") or ""]) or None
    suite = ContractSuite.from_parent(session, name=SUITE, nodeid=SUITE, models=models, checks=checks)
    report = config.hook.pytest_make_collect_report(collector=suite)
    config.hook.pytest_collectreport(report=report)  # a bad name is a collection error, reported as usual
    items.extend(item for item in report.result if isinstance(item, pytest.Item))


# ---- fixtures -------------------------------------------------------------------------------------

@pytest.fixture
def genwidgets_contract(tmp_path: Path) -> Callable[..., list[tuple[str, str]]]:
    """Run the model contract on a registered model (by name) or a model class, inside a test.

    Call it as ``genwidgets_contract("mymodel")`` or
    ``genwidgets_contract(MyModel, checks=["outputs", "train_step"], kinds=["points"])``;
    it raises the first broken rule's AssertionError and returns the ``(kind, check)`` pairs run.
    """

    def run(model: Any, *, checks: Iterable[str] | None = None, kinds: Iterable[str] | None = None,
            runtime: Any = None) -> list[tuple[str, str]]:
        from genwidgets.registry import get_registry
        from genwidgets.testing.contract import CHECKS, contract_data, contract_kinds, contract_runtime

        cls = get_registry().get_model(model) if isinstance(model, str) else model
        names = list(checks) if checks is not None else list(CHECKS)
        unknown = [c for c in names if c not in CHECKS]
        if unknown:
            raise ValueError(f"unknown contract check {', '.join(map(repr, unknown))}; checks: {', '.join(CHECKS)}")
        todo = list(kinds) if kinds is not None else contract_kinds(cls)
        assert todo, f"{cls.name or cls.__name__} declares no data kind the contract has data for"
        done = []
        for kind in todo:
            for check in names:
                CHECKS[check](cls, contract_data(kind), runtime=runtime or contract_runtime(),
                              tmp_path=tmp_path / f"{kind}-{check}")
                done.append((kind, check))
        return done

    return run


@pytest.fixture
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> type:
    """Widgets created in the test talk to a :class:`~genwidgets.testing.snapshots.RecordingComm`.

    ``widget.comm.custom()`` lists what the widget sent, ``widget.comm.from_front_end(content)``
    delivers a message as a front end would. Returns the class.
    """
    import comm

    from genwidgets.testing.snapshots import RecordingComm

    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    return RecordingComm


def _syrupy_snapshot(request: pytest.FixtureRequest, fixture: str) -> Any:
    try:
        import syrupy  # noqa: F401
    except ImportError:
        pytest.fail(f"{fixture} needs syrupy: pip install 'genwidgets[test]' (or pip install syrupy)")
    return request.getfixturevalue("snapshot")


@pytest.fixture
def widget_snapshot(request: pytest.FixtureRequest) -> Any:
    """Snapshot a widget: ``assert widget == widget_snapshot`` (state in .ambr, images as tolerant PNGs).

    See :class:`genwidgets.testing.snapshots.WidgetSnapshot` (``widget_snapshot(name=..., hello=...)``
    sets options for one comparison). Write or refresh snapshots with ``pytest --snapshot-update``.
    """
    from genwidgets.testing.snapshots import WidgetSnapshot

    return WidgetSnapshot(_syrupy_snapshot(request, "widget_snapshot"))


@pytest.fixture
def widget_png_snapshot(request: pytest.FixtureRequest) -> Any:
    """PNG snapshots compared with a pixel tolerance: ``assert png == widget_png_snapshot``."""
    from genwidgets.testing.images import TolerantPNG

    return _syrupy_snapshot(request, "widget_png_snapshot").use_extension(TolerantPNG)


def _browser_missing(config: pytest.Config) -> None:
    from genwidgets.testing.images import browser_missing

    reason = browser_missing()
    if reason is None:
        return
    if config.getoption("genwidgets_require_browser"):
        pytest.fail(f"{reason} (--genwidgets-require-browser: rendering must run here, not skip)")
    pytest.skip(f"cannot render widgets: {reason}")


@pytest.fixture(scope="session")
def genwidgets_browser(pytestconfig: pytest.Config) -> Iterator[Any]:
    """One headless Chromium (Playwright) per session; skipped with the reason where it is missing."""
    _browser_missing(pytestconfig)
    from playwright.sync_api import sync_playwright

    from genwidgets.testing.images import launch_chromium

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def widget_screenshot(genwidgets_browser: Any) -> Iterator[Callable[..., bytes]]:
    """Render a widget in headless Chromium and return a PNG of it: ``widget_screenshot(widget)``.

    Keyword arguments go to :func:`genwidgets.testing.images.render_widget` (``width``,
    ``height``, ``timeout``). Compare the result with ``widget_png_snapshot``. Skipped, with the
    reason, where Playwright or Chromium is missing (``--genwidgets-require-browser`` fails instead).
    """
    from genwidgets.testing.images import render_widget

    context = genwidgets_browser.new_context(device_scale_factor=1)

    def shoot(widget: Any, **kwargs: Any) -> bytes:
        page = context.new_page()
        return render_widget(page, widget, **kwargs).screenshot(animations="disabled")

    yield shoot
    context.close()


# ---- readable failures -------------------------------------------------------------------------------

def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any, right: Any) -> list[str] | None:
    """Explain a failed ``widget == widget_snapshot``: the state diff and which images differ."""
    module = sys.modules.get("genwidgets.testing.snapshots")
    if module is None or op != "==":
        return None
    for side in (left, right):
        if isinstance(side, module.WidgetSnapshot):
            return ["widget differs from its snapshot", *side.explain(colors=not config.option.no_colors)]
    return None


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say which models the contract runs on, when asked to."""
    models = _split(config.getoption("genwidgets_contract") or [])
    if not models:
        return None
    return f"genwidgets contract: {', '.join(models)}"
