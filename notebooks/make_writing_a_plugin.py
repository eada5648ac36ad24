"""Write notebooks/writing_a_plugin.ipynb (outputs stripped): the example plugin package, end to end.

    .venv/bin/python notebooks/make_writing_a_plugin.py

The plugin is a real package, examples/genwidgets-example-plugin/, which CI installs; CI executes
this notebook (tests/test_notebooks.py). Edit this script, not the .ipynb.
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import write_notebook

CELLS = [
    ("markdown", """\
# Writing a model plugin

A genwidgets plugin is an ordinary Python package with one entry point in the group
`genwidgets.plugins`. Its module implements hooks (`register_models`, `register_panels`,
`register_metrics`, `register_datasets`, `on_train_event`); genwidgets finds it when the package is
installed, exactly as it finds its own built-in families. The full guide is `docs/plugins.md`.

The example here is a real package in this repository, `examples/genwidgets-example-plugin/`,
installed with `pip install -e examples/genwidgets-example-plugin`. It adds a model family,
`gaussian` (a diagonal Gaussian fitted by maximum likelihood), and a panel for it."""),
    ("code", """\
import importlib.metadata
from pathlib import Path

import genwidgets_example

package = Path(genwidgets_example.__file__).parent
entry = [ep for ep in importlib.metadata.entry_points(group="genwidgets.plugins") if ep.name == "example"]
print("entry point:", entry[0].name, "=", entry[0].value)
print((package / "plugin.py").read_text())"""),
    ("markdown", """\
The model is a `GenerativeModel` subclass with a `Config` dataclass (every field validated, with a
`tiny` preset), `Capabilities` flags, `train_step`, and the verbs its flags promise."""),
    ("code", """\
import genwidgets as gw

plugin = next(p for p in gw.list_plugins() if p["name"] == "example")
print("registered:", plugin["models"], "panels:", plugin["panels"], "error:", plugin["error"])
gaussian = gw.get_model("gaussian")
print(gaussian.paper)
print("capabilities:", gaussian.capabilities.names())"""),
    ("markdown", """\
Every widget works with it through its capabilities, and its own panel joins the studio's tabs."""),
    ("code", """\
studio = gw.studio("gaussian", data="digits", steps=300, log_every=10, sample_every=100, checkpoint_every=None)
studio"""),
    ("code", """\
studio.run.wait()
studio.wait_idle()
print("tabs:", list(studio.widgets), "| errors:", studio.errors)"""),
    ("markdown", """\
Before publishing, run the model contract: the checks every family must pass to work in every widget
(shapes and ranges of each verb, capabilities, determinism under a seed, checkpoint round trips,
live hyperparameter edits, the latent explorer). From the command line:
`pytest --genwidgets-contract=gaussian`."""),
    ("code", """\
from genwidgets.testing import CHECKS, check_model

check_model("gaussian")
print(f"gaussian passes all {len(CHECKS)} contract checks:", ", ".join(sorted(CHECKS)))"""),
]


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(CELLS, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "writing_a_plugin.ipynb"))
