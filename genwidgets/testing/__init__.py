"""Testing helpers for model families: the contract every registered model must pass.

Import :mod:`genwidgets.testing.contract` (or the names re-exported here) in a test suite;
see that module for how to parametrise tests over every registered model. Importing this
package imports torch (through the model protocol); the registry does not import it.
"""

from __future__ import annotations

from .contract import (
    CHECKS,
    CONTRACT_DATA,
    build,
    check_capabilities,
    check_checkpoint,
    check_class,
    check_determinism,
    check_editable,
    check_model,
    check_outputs,
    check_train_step,
    contract_cases,
    contract_data,
    contract_kinds,
    contract_runtime,
)

__all__ = [
    "CHECKS",
    "CONTRACT_DATA",
    "build",
    "check_capabilities",
    "check_checkpoint",
    "check_class",
    "check_determinism",
    "check_editable",
    "check_model",
    "check_outputs",
    "check_train_step",
    "contract_cases",
    "contract_data",
    "contract_kinds",
    "contract_runtime",
]
