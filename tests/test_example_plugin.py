"""The example third-party plugin (examples/genwidgets-example-plugin) and the plugin author's guide.

CI installs the example package into the test environment (scripts/test.sh); the model contract
suite then covers its ``gaussian`` family in ``test_contract.py`` like every registered family.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

import genwidgets
import genwidgets.hookspecs as specs
from genwidgets.testing import contract_cases

ROOT = Path(__file__).resolve().parents[1]


def _docs_script():
    spec = importlib.util.spec_from_file_location("make_plugin_docs", ROOT / "scripts" / "make_plugin_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plugin_guide_is_generated_from_hookspecs_and_the_example():
    """Protects: docs/plugins.md matches hookspecs.py's docstrings and the example's files (cannot drift)."""
    script = _docs_script()
    page = (ROOT / "docs" / "plugins.md").read_text()
    assert script.render(page) == page, "docs/plugins.md is out of date: run python scripts/make_plugin_docs.py"
    for name in specs.hook_names():
        assert f"### `{name}(" in page


def test_the_guide_check_notices_a_changed_hook_docstring(monkeypatch):
    """The up-to-date check above is not vacuous: editing a hook's docstring makes the page stale."""
    script = _docs_script()
    page = (ROOT / "docs" / "plugins.md").read_text()
    monkeypatch.setattr(specs.register_panels, "__doc__", "Changed.")
    assert script.render(page) != page


def test_the_example_plugin_is_installed_and_covered_by_the_contract_suite():
    """Protects: CI really installs the example through its entry point, so test_contract.py runs on it."""
    plugins = {p["name"]: p for p in genwidgets.list_plugins()}
    if "example" not in plugins:
        pytest.fail("the example plugin is not installed: pip install -e examples/genwidgets-example-plugin "
                    "(scripts/test.sh does this)")
    example = plugins["example"]
    assert example["distribution"] == "genwidgets-example-plugin" and example["error"] is None
    assert example["models"] == ["gaussian"] and example["panels"] == ["gaussian_summary"]
    assert {kind for name, kind in contract_cases() if name == "gaussian"} == {"images", "points"}


def test_the_example_family_trains_and_its_panel_opens_only_for_its_models(recording):
    """The example works end to end: it learns the data's spread, and its panel follows its run."""
    registry = genwidgets.get_registry()
    cls = genwidgets.get_model("gaussian")
    assert [e.name for e in registry.panels_for(cls)] == ["gaussian_summary"]
    assert registry.panels_for(genwidgets.get_model("dcgan")) == []
    run = genwidgets.train("gaussian", data="ring", steps=300, log_every=50, checkpoint_every=None, start=False)
    (entry,) = registry.panels_for(cls)
    panel = entry.factory(run)
    run.start().wait()
    deadline = time.monotonic() + 10
    while "step 300" not in panel.status.value and time.monotonic() < deadline:
        time.sleep(0.02)
    assert panel.status.value.startswith("step 300: loss")
    x = genwidgets.load_data("ring").x
    fitted = run.model.sample(4000)
    assert (fitted.mean(0) - x.mean(0)).abs().max() < 0.3 and (fitted.std(0) / x.std(0) - 1).abs().max() < 0.25
    panel.close()
