"""Meta-tests of the plugin surface: every hook is documented, typed and tested; every hook works.

Like datasette's ``test_plugins.py``: the hook list here is checked against ``hookspecs.py``,
so adding a hook without documentation or a test fails, and each hook is exercised through a
real installed (throwaway) distribution found by its entry point.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import genwidgets
import genwidgets.hookspecs as specs
from genwidgets.hookspecs import hook_names
from genwidgets.metrics import evaluate
from genwidgets.registry import PanelEntry, Registry

TESTS = Path(__file__).parent


def _record(registry, name):
    return {p.name: p for p in registry.list_plugins()}[name]


def test_every_hook_is_documented_and_typed():
    """Protects: a hook added without a docstring (the plugin reference) or type hints."""
    assert hook_names() == ["on_train_event", "register_datasets", "register_metrics", "register_models",
                            "register_panels"]
    for name in hook_names():
        fn = getattr(specs, name)
        assert len(inspect.getdoc(fn) or "") > 200, f"{name} needs a docstring that documents it"
        sig = inspect.signature(fn)
        assert sig.parameters, name
        assert all(p.annotation is not inspect.Parameter.empty for p in sig.parameters.values()), name


def test_every_hook_has_a_test_that_implements_it():
    """Protects: a hook nobody exercises. Some test must define a plugin implementing each hook."""
    sources = "\n".join(p.read_text() for p in TESTS.rglob("test_*.py"))
    for name in hook_names():
        assert re.search(rf"@hookimpl\s*\n\s*def {name}\(", sources), f"no test implements the hook {name!r}"


@pytest.mark.parametrize(("source", "expected"), [
    ("from genwidgets import hookimpl\n@hookimpl\ndef register_panel(register):\n    pass\n",
     "implements unknown hook 'register_panel' (did you mean 'register_panels'?)"),
    ("from genwidgets import hookimpl\n@hookimpl\ndef on_train_events(run, event):\n    pass\n",
     "implements unknown hook 'on_train_events' (did you mean 'on_train_event'?)"),
    ("from genwidgets import hookimpl\n@hookimpl\ndef register_metrics(registr):\n    pass\n",
     "invalid plugin"),
], ids=["hook-name", "event-hook-name", "argument-name"])
def test_a_misspelt_hook_implementation_fails_loudly(install_plugin, capsys, source, expected):
    """Protects: a misspelt hook (or hook argument) that would silently never be called.

    The error is recorded against the plugin and printed by ``genwidgets plugins``.
    """
    install_plugin("gw-typo", "gw_typo", source)
    reg = Registry()
    error = _record(reg, "gw-typo").error
    assert error and expected in error
    if expected == "invalid plugin":
        assert "registr" in error  # names the argument pluggy does not know
    from genwidgets.cli import main

    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "gw-typo  (gw-typo 1.0)" in out and f"  ERROR: {error}\n" in out


# ---- register_panels -----------------------------------------------------------------------------

PANELS = '''
    import ipywidgets
    from genwidgets import hookimpl

    def critic_panel(run):
        return ipywidgets.Label(value=f"critic of {run.model.name}")

    def broken_applies(model_cls):
        raise RuntimeError("applies_to exploded")

    @hookimpl
    def register_panels(register):
        register("critic_view", critic_panel, title="Critic view",
                 applies_to=lambda cls: cls.capabilities.can_discriminate)
        register("everywhere", critic_panel, title="Everywhere")
        register("fragile", critic_panel, title="Fragile", applies_to=broken_applies)
        register("Bad Name", critic_panel, title="x")
        register("no_title", critic_panel, title="  ")
        register("not_callable", "nope", title="x")
        register("everywhere", critic_panel, title="Again")
'''


def test_register_panels_contributes_panels_for_the_models_they_fit(install_plugin):
    """Protects: the register_panels hook, its validation, and panels_for's capability filter."""
    install_plugin("gw-panels", "gw_panels", PANELS)
    reg = Registry()
    rec = _record(reg, "gw-panels")
    assert rec.panels == ["critic_view", "everywhere", "fragile"]
    for reason in ("panel name must be a lowercase identifier (a-z, 0-9, _), got 'Bad Name'",
                   "panel 'no_title' needs a non-empty title string",
                   "factory for panel 'not_callable' is not callable",
                   "panel 'everywhere' is already registered by plugin 'gw-panels'"):
        assert f"rejected panel: {reason}" in rec.error
    dcgan, vae = reg.get_model("dcgan"), reg.get_model("vae")
    assert [e.name for e in reg.panels_for(dcgan)] == ["critic_view", "everywhere"]
    assert [e.name for e in reg.panels_for(vae)] == ["everywhere"]
    assert "panel 'fragile': applies_to raised RuntimeError: applies_to exploded" in rec.error
    entry = reg.panels_for(dcgan)[0]
    assert isinstance(entry, PanelEntry) and (entry.title, entry.plugin) == ("Critic view", "gw-panels")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.title = "changed"  # type: ignore[misc]
    run = genwidgets.train("dcgan", data="digits", preset="tiny", steps=1, start=False, checkpoint_every=None)
    assert entry.factory(run).value == "critic of dcgan"
    assert {p["name"]: p for p in genwidgets.list_plugins()}["gw-panels"]["panels"] == rec.panels


# ---- register_metrics ----------------------------------------------------------------------------

METRICS = '''
    import torch
    from genwidgets import hookimpl

    def spread(model, data, *, n, seed):
        x = model.sample(n)
        return {"std": float(x.std()), "n": n, "first": float(torch.randn(1))}

    def only_images(model, data):
        return None if data.spec.kind == "images" else "needs image data"

    def explodes(model, data, *, n, seed):
        raise ValueError("metric exploded")

    @hookimpl
    def register_metrics(register):
        register("sample_spread", spread, description="std of samples", default_n=64)
        register("image_only", spread, description="x", applies=only_images)
        register("fragile_metric", explodes, description="always raises")
        register("modes", spread, description="takes a built-in name")
        register("bad_n", spread, description="x", default_n=0)
'''


def test_register_metrics_adds_metrics_to_evaluate_and_isolates_failures(install_plugin):
    """Protects: register_metrics, its validation, and evaluate running, skipping and isolating plugin metrics."""
    install_plugin("gw-metrics", "gw_metrics", METRICS)
    reg = genwidgets.get_registry()
    rec = _record(reg, "gw-metrics")
    assert rec.metrics == ["sample_spread", "image_only", "fragile_metric"]
    assert "rejected metric: metric name 'modes' is a built-in metric group" in rec.error
    assert "rejected metric: default_n of metric 'bad_n' must be an integer >= 1, got 0" in rec.error
    model = genwidgets.build_model("gan", genwidgets.load_data("ring").spec, preset="tiny")
    result = evaluate(model, data="ring", n=100)
    assert set(result["metrics"]) == {"modes", "sample_spread"}
    assert result["metrics"]["sample_spread"]["n"] == 100 and result["providers"] == {
        "sample_spread": "gw-metrics", "fragile_metric": "gw-metrics"}
    assert result["skipped"]["image_only"] == "needs image data"
    assert result["failed"] == {
        "fragile_metric": "metric 'fragile_metric' of plugin 'gw-metrics' raised ValueError: metric exploded"}
    again = evaluate(model, data="ring", metrics=["sample_spread"])
    assert set(again["metrics"]) == {"sample_spread"} and again["metrics"]["sample_spread"]["n"] == 64
    assert again["metrics"]["sample_spread"]["first"] == evaluate(
        model, data="ring", metrics=["sample_spread"])["metrics"]["sample_spread"]["first"]  # seeded
    with pytest.raises(genwidgets.ConfigError, match="image_only: needs image data"):
        evaluate(model, data="ring", metrics=["image_only"])
