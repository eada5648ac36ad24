"""Dependencies point one way: no module imports from a layer above its own (docs/architecture.md).

Every import in ``genwidgets/`` counts, at module top or inside a function, except those under
``if TYPE_CHECKING:`` (annotations only). A module's layer is that of the longest prefix below
that names it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "genwidgets"

#: Lowest first. Keep in step with the drawing in docs/architecture.md.
LAYERS: list[tuple[str, list[str]]] = [
    ("foundation", ["genwidgets.errors", "genwidgets.bounds", "genwidgets._lazy", "genwidgets._version",
                    "genwidgets.config", "genwidgets.images", "genwidgets.hookspecs",
                    "genwidgets.notebook_display"]),
    ("data and device", ["genwidgets.data", "genwidgets.device"]),
    ("model protocol and plugins", ["genwidgets.model", "genwidgets.registry",
                                    "genwidgets.data.plugin", "genwidgets.data.resolve"]),
    ("runtime", ["genwidgets.runtime", "genwidgets.loggers"]),
    ("analysis", ["genwidgets.metrics", "genwidgets.explore", "genwidgets.scores", "genwidgets.runfolders"]),
    ("widgets", ["genwidgets.widgets"]),
    ("application", ["genwidgets", "genwidgets.api", "genwidgets.launcher", "genwidgets.cli",
                     "genwidgets.cli_outputs", "genwidgets.demo", "genwidgets.testing", "genwidgets.__main__"]),
]


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the longest prefix naming ``module`` (None outside genwidgets)."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return None if best is None else best[0]


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _exists(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.is_dir() or path.with_suffix(".py").exists()


class _Imports(ast.NodeVisitor):
    """Collects (imported module, line) for every import outside ``if TYPE_CHECKING:``."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module.split(".") if is_package else module.split(".")[:-1]
        self.found: list[tuple[str, int]] = []

    def visit_If(self, node: ast.If) -> None:  # noqa: N802 - ast's visitor naming
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802
        self.found.extend((alias.name, node.lineno) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        if node.level:
            base = self.package[:len(self.package) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:  # `from . import checkpoint` imports the submodule, not the package
            sub = f"{source}.{alias.name}"
            self.found.append((sub if _exists(sub) else source, node.lineno))


def upward_imports() -> list[str]:
    """Every import from a lower layer to a higher one, as ``file:line: a (layer) -> b (layer)``."""
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module, is_package = _module_name(path)
        own = layer_of(module)
        visitor = _Imports(module, is_package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        for imported, line in visitor.found:
            theirs = layer_of(imported)
            if own is not None and theirs is not None and theirs > own:
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} ({LAYERS[own][0]}) imports "
                                f"{imported} ({LAYERS[theirs][0]})")
    return problems


def test_every_module_of_the_package_has_a_layer():
    unplaced = [str(p) for p in PACKAGE.rglob("*.py") if layer_of(_module_name(p)[0]) is None]
    assert not unplaced


def test_no_module_imports_from_a_layer_above_its_own():
    assert upward_imports() == []


@pytest.mark.parametrize(("source", "expected"), [
    ("from ..api import train\n", "imports genwidgets.api (application)"),
    ("def f():\n    from genwidgets.widgets import TrainingPanel\n", "imports genwidgets.widgets (widgets)"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..api import train\n", None),
])
def test_the_check_sees_an_upward_import_wherever_it_is(tmp_path, monkeypatch, source, expected):
    """The checker itself: an upward import at module top or in a function is found; TYPE_CHECKING is not."""
    fake = tmp_path / "genwidgets"
    (fake / "runtime").mkdir(parents=True)
    for name in ("__init__.py", "api.py", "runtime/__init__.py"):
        (fake / name).write_text("")
    (fake / "widgets").mkdir()
    (fake / "widgets" / "__init__.py").write_text("")
    (fake / "runtime" / "probe.py").write_text(source)
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    found = upward_imports()
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith("genwidgets/runtime/probe.py:") and expected in found[0]


def test_the_package_version_is_the_one_pyproject_declares():
    import tomllib

    from genwidgets import __version__

    declared = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert __version__ == declared
