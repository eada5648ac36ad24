"""Where a widget's front end lives: the ES module esbuild writes to ``genwidgets/static/<name>.js``."""

from __future__ import annotations

import pathlib

#: Folder of the built front ends (git-ignored; built by hatch-jupyter-builder or ``scripts/setup.sh``).
STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"


def bundle_path(name: str) -> pathlib.Path:
    """Path of the bundle built from ``js/src/<name>.ts``."""
    return STATIC / f"{name}.js"


def esm(name: str) -> pathlib.Path | str:
    """The widget's ``_esm``: the built bundle, or a module that says how to build it when it is missing."""
    path = bundle_path(name)
    if path.is_file():
        return path
    label = name.replace("_", " ")
    return (
        "export default { render({ el }) { el.textContent = \"genwidgets: the " + label + " front end is "
        "not built; run `bash scripts/setup.sh` (or `cd js && npm install && npm run build`)\"; } };"
    )
