"""Where the widgets' front end lives, and the small ``_esm`` each widget sends to load it.

esbuild (``js/build.mjs``) writes two ES modules to ``genwidgets/static/``:

* ``frontend.js``: the three widgets and the one plotly.js build they share (~1.4 MB);
* ``loader.js``: a ~1 kB module with two placeholders, the widget's kind and ``frontend.js``'s hash.

A widget's ``_esm`` is the loader with both filled in (:func:`esm`). In the browser the first widget
of a page asks its Python side for the front end (``{"op": "library"}``, answered by
:func:`library_message` with the module as one binary buffer) and keeps it under the hash for every
later widget of the page, so a studio of three widgets loads 1.4 MB once, not three bundles.
"""

from __future__ import annotations

import functools
import hashlib
import pathlib
from typing import Any

#: Folder of the built front end (git-ignored; built by hatch-jupyter-builder or ``scripts/setup.sh``).
STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
#: The bundle that holds every widget (``js/src/frontend.ts``).
FRONTEND = STATIC / "frontend.js"
#: The per-widget module that loads it (``js/src/loader.ts``).
LOADER = STATIC / "loader.js"
#: The widget kinds ``frontend.js`` exports.
KINDS = ("training_panel", "latent_explorer", "discriminator_heatmap", "runs_board")


def bundle_path(name: str = "frontend") -> pathlib.Path:
    """Path of a built module: ``frontend`` (every widget) or ``loader``."""
    return STATIC / f"{name}.js"


@functools.lru_cache(maxsize=4)
def _library(mtime_ns: int) -> tuple[bytes, str]:
    data = FRONTEND.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


def library() -> tuple[bytes, str]:
    """``frontend.js``'s bytes and hash (re-read when the file changes, e.g. after ``npm run build``)."""
    return _library(FRONTEND.stat().st_mtime_ns)


def library_message() -> tuple[dict[str, Any], list[bytes]]:
    """The answer to a front end's ``{"op": "library"}``: content and the module as one buffer."""
    data, digest = library()
    return {"op": "library", "hash": digest}, [data]


def esm(kind: str) -> str:
    """The ``_esm`` of the widget ``kind``: the loader, or a module that says how to build the front end."""
    if kind not in KINDS:
        raise ValueError(f"unknown widget kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not (FRONTEND.is_file() and LOADER.is_file()):
        label = kind.replace("_", " ")
        return (
            "export default { render({ el }) { el.textContent = \"genwidgets: the " + label + " front end is "
            "not built; run `bash scripts/setup.sh` (or `cd js && npm install && npm run build`)\"; } };"
        )
    return LOADER.read_text().replace("__GENWIDGETS_KIND__", kind).replace("__GENWIDGETS_HASH__", library()[1])
