"""The pytest plugin shipped with genwidgets (``pytest11`` entry point), run as a plugin author would.

Each test writes a small test suite with pytester, runs pytest on it in a subprocess (the plugin
comes from the installed entry point, as in any project) and checks the outcomes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import numpy as np
import pytest

from genwidgets.testing.snapshots import png_bytes

pytest_plugins = ["pytester"]

#: A conftest that registers a GAN whose encoder drops a latent dimension (breaks the 'outputs' rule).
BROKEN_CONFTEST = """
import genwidgets

class Plugin:
    @genwidgets.hookimpl
    def register_models(self, register):
        gan = genwidgets.get_registry().get_model("gan")
        register(type("ShortCodes", (gan,), {
            "name": "short_codes", "__doc__": "A GAN whose codes are one short.",
            "encode": lambda self, x, *, labels=None: gan.encode(self, x, labels=labels)[:, :-1]}))

def pytest_configure(config):
    genwidgets.get_registry().add_plugin(Plugin(), name="broken-plugin")
"""


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner pytest runs in a subprocess (torch cannot be imported twice in one process); one thread."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("GENWIDGETS_NUM_THREADS", "1")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args)


def test_the_plugin_is_registered_as_a_pytest11_entry_point(pytestconfig) -> None:
    (ep,) = [ep for ep in entry_points(group="pytest11") if ep.name == "genwidgets"]
    assert ep.value == "genwidgets.testing.pytest_plugin"
    assert pytestconfig.pluginmanager.get_plugin("genwidgets") is sys.modules[ep.value]


def test_the_plugin_adds_no_heavy_imports_to_pytest_start_up() -> None:
    code = ("import sys, json, genwidgets; before = set(sys.modules); import genwidgets.testing.pytest_plugin; "
            "print(json.dumps(sorted(set(sys.modules) - before)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    added = json.loads(out.splitlines()[-1])
    heavy = ("torch", "syrupy", "PIL", "playwright", "anywidget", "ipywidgets", "comm", "genwidgets.testing.",
             "genwidgets.widgets", "genwidgets_models")
    assert [m for m in added if m.startswith(heavy)] == ["genwidgets.testing.pytest_plugin"]


def test_importing_genwidgets_and_its_pytest_plugin_does_not_import_torch() -> None:
    """Every pytest session in an environment with genwidgets loads the plugin: it must not cost a torch import."""
    code = ("import sys, genwidgets, genwidgets.testing.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'genwidgets_models')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


@pytest.mark.slow
def test_the_contract_option_collects_one_test_per_model_kind_and_check(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--genwidgets-contract=gaussian", "--genwidgets-contract-checks=class,outputs",
                                "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines([
        "genwidgets contract: gaussian",
        "genwidgets-contract::test_contract[[]gaussian-images-class[]] PASSED*",
        "genwidgets-contract::test_contract[[]gaussian-points-outputs[]] PASSED*",
    ])
    selected = run(pytester, "--genwidgets-contract=gaussian,gan", "--genwidgets-contract-checks=class",
                                  "-k", "points", "-p", "no:cacheprovider")
    selected.assert_outcomes(passed=2, deselected=2)


@pytest.mark.slow
def test_a_broken_model_fails_with_the_contract_message(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BROKEN_CONFTEST)
    result = run(pytester, "--genwidgets-contract=short_codes", "--genwidgets-contract-checks=class,outputs",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)  # class passes, outputs fails, on images and on points
    result.stdout.fnmatch_lines([
        "*contract check 'outputs' failed for model 'short_codes' on points data:",
        r"short_codes.encode: shape (5, 3), expected (5, 4)",
        "FAILED genwidgets-contract::test_contract[[]short_codes-images-outputs[]]*",
    ])


@pytest.mark.slow
def test_an_unknown_model_or_check_is_a_collection_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--genwidgets-contract=nope", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["--genwidgets-contract: no registered model 'nope'; registered: *gan*"])
    result = run(pytester, "--genwidgets-contract=gan", "--genwidgets-contract-checks=speed",
                                "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["--genwidgets-contract-checks: unknown check 'speed'; checks: class, outputs*"])


@pytest.mark.slow
def test_the_contract_fixture_runs_checks_by_name(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BROKEN_CONFTEST)
    pytester.makepyfile("""
        import pytest

        def test_good(genwidgets_contract):
            assert genwidgets_contract("gaussian", checks=["class", "outputs"]) == [
                ("images", "class"), ("images", "outputs"), ("points", "class"), ("points", "outputs")]

        def test_broken(genwidgets_contract):
            with pytest.raises(AssertionError, match="short_codes.encode: shape"):
                genwidgets_contract("short_codes", checks=["outputs"], kinds=["points"])
    """)
    run(pytester, "-p", "no:cacheprovider").assert_outcomes(passed=2)


PANEL_TEST = """
import genwidgets as gw
from genwidgets.widgets import TrainingPanel

def test_panel(widget_snapshot, recording_comm):
    run = gw.train("dcgan", data="mnist", preset="tiny", steps=STEPS, log_every=2, sample_every=2,
                   checkpoint_every=None)
    run.wait()
    panel = TrainingPanel(run)
    assert isinstance(panel.comm, recording_comm)
    assert panel == widget_snapshot
    assert [c["op"] for c, _ in panel.comm.custom()][-2:] == ["reset", "samples"]  # what the snapshot asked for
    panel.close()
"""


@pytest.mark.slow
def test_widget_snapshot_writes_state_and_png_then_catches_a_change(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_panel=PANEL_TEST.replace("STEPS", "4"))
    run(pytester, "--snapshot-update", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    ambr = pytester.path / "__snapshots__" / "test_panel.ambr"
    text = ambr.read_text()
    assert "# name: test_panel[TrainingPanel]" in text and "'precision': \"floats to 4 significant digits" in text
    assert "'elapsed': '<timing>'" in text and "IPY_MODEL_" not in text and "'uid'" not in text
    png = pytester.path / "__snapshots__" / "test_panel" / "test_panel[TrainingPanel.messages.1.images].png"
    assert png.read_bytes().startswith(b"\x89PNG")

    again = run(pytester, "-p", "no:cacheprovider")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["2 snapshots passed."])

    pytester.makepyfile(test_panel=PANEL_TEST.replace("STEPS", "6"))
    changed = run(pytester, "-p", "no:cacheprovider", "--snapshot-no-colors", "-vv")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines([
        "*widget differs from its snapshot",
        "*-       'total': 4,",
        "*+       'total': 6,",
    ])
    png.write_bytes(png_bytes(np.zeros((64, 28, 28, 1), np.uint8)))  # a black grid instead of the samples
    pytester.makepyfile(test_panel=PANEL_TEST.replace("STEPS", "4"))
    black = run(pytester, "-p", "no:cacheprovider")
    black.assert_outcomes(failed=1)
    black.stdout.fnmatch_lines([
        "*image messages.1.images (uint8[[]64, 28, 28, 1[]]): no PNG snapshot "
        "[[]TrainingPanel.messages.1.images[]], or it differs beyond the pixel tolerance"])


def test_widget_screenshot_says_why_it_is_skipped(pytester: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.setenv("GENWIDGETS_CHROMIUM", "/nonexistent/chromium")
    pytester.makepyfile("""
        def test_shot(widget_screenshot):
            raise AssertionError("not reached")
    """)
    skipped = run(pytester, "-rs", "-p", "no:cacheprovider")
    skipped.assert_outcomes(skipped=1)
    skipped.stdout.fnmatch_lines(["*cannot render widgets: GENWIDGETS_CHROMIUM=/nonexistent/chromium is not a file"])
    required = run(pytester, "--genwidgets-require-browser", "-p", "no:cacheprovider")
    required.assert_outcomes(errors=1)
    required.stdout.fnmatch_lines(["*--genwidgets-require-browser: rendering must run here, not skip*"])


@pytest.mark.browser
def test_a_rendered_widget_matches_its_png_snapshot_with_a_tolerance(pytester: pytest.Pytester) -> None:
    from genwidgets.testing.images import browser_missing

    reason = browser_missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: browser tests must run in CI, not skip)")
        pytest.skip(reason)
    pytester.makepyfile("""
        import genwidgets as gw
        from genwidgets.widgets import DiscriminatorHeatmap

        def test_heatmap(widget_screenshot, widget_png_snapshot):
            run = gw.train("gan", data="ring", preset="tiny", steps=SHIFT, checkpoint_every=None)
            run.wait()
            heatmap = DiscriminatorHeatmap(run, resolution=32, arrows=8)
            png = widget_screenshot(heatmap, width=700, height=600, hide=[".gw-heatmap-status"])
            assert png == widget_png_snapshot
            heatmap.close()
    """.replace("SHIFT", "20"))
    run(pytester, "--snapshot-update", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    (png,) = (pytester.path / "__snapshots__" / "test_a_rendered_widget_matches_its_png_snapshot_with_a_tolerance"
              ).glob("*.png")
    from PIL import Image

    image = Image.open(png)
    assert image.width > 400 and image.height > 400 and len(np.unique(np.asarray(image.convert("L")))) > 20
    run(pytester, "-p", "no:cacheprovider").assert_outcomes(passed=1)  # the same run renders the same
    original = png.read_bytes()
    Image.new("RGB", image.size, "white").save(png)  # a changed picture is caught
    run(pytester, "-p", "no:cacheprovider").assert_outcomes(failed=1)
    png.write_bytes(original)
