"""The example plugin passes the genwidgets model contract, as installed (through its entry point)."""

from __future__ import annotations

import pytest

import genwidgets
from genwidgets.testing import CHECKS, contract_cases, contract_data, contract_runtime


def test_the_plugin_is_found_through_its_entry_point() -> None:
    """The installed package's entry point registers the model and loads without errors."""
    plugins = {p["name"]: p for p in genwidgets.list_plugins()}
    assert plugins["example"]["distribution"] == "genwidgets-example-plugin"
    assert plugins["example"]["models"] == ["gaussian"] and plugins["example"]["error"] is None


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize(("model", "kind"), contract_cases(["gaussian"]))
def test_contract(model: str, kind: str, check: str, tmp_path) -> None:
    """Every contract check, on every data kind the family declares."""
    CHECKS[check](genwidgets.get_model(model), contract_data(kind), runtime=contract_runtime(), tmp_path=tmp_path)
