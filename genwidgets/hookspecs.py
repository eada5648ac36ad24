"""Every pluggy hook genwidgets calls: the reference documentation for plugin authors.

A plugin is a module (or object) listed under the entry-point group ``genwidgets.plugins``
that implements some of these hooks with :data:`hookimpl`::

    # pyproject.toml of your package
    [project.entry-points."genwidgets.plugins"]
    my_models = "my_package.genwidgets_plugin"

    # my_package/genwidgets_plugin.py
    from genwidgets import hookimpl

    @hookimpl
    def register_models(register):
        from .model import MyGAN   # import torch-heavy code here, not at module top
        register(MyGAN)

The built-in families and data sets register through this same group.

Hooks are grouped by phase. Registration hooks hand the plugin a ``register`` callback owned by
genwidgets, which validates what it is given on the spot and records which plugin gave it;
an invalid registration is reported under the plugin's name and skipped. A hook
implementation whose name matches no hook here (``register_model`` for ``register_models``)
is reported as an error under the plugin's name, with the closest hook name, rather than
silently never being called.

``docs/plugins.md`` includes this file's hook reference, generated from these docstrings by
``scripts/make_plugin_docs.py`` (a test fails when the committed page is out of date).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .runtime.events import Event
    from .runtime.run import Run

PROJECT = "genwidgets"

#: Marker for hook specifications (used only in this file).
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marker plugins put on their hook implementations.
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---- registration: called once, when the registry first loads ----------------------------

@hookspec
def register_models(register: Callable[[type], None]) -> None:
    """Register model families.

    Call ``register(ModelClass)`` once per family. ``ModelClass`` must subclass
    :class:`genwidgets.GenerativeModel`, with a unique lowercase ``name``, a ``Config``
    dataclass deriving from :class:`genwidgets.ModelConfig`, and ``capabilities`` flags that
    match the verbs it implements (``sample``, ``encode``, ``decode``, ``discriminate``).
    A class that breaks these rules, or whose name is taken, is rejected with the reason and
    reported under this plugin's name; the plugin's other registrations still count.
    """


@hookspec
def register_datasets(register: Callable[..., None]) -> None:
    """Register data sets that ship with the plugin (nothing may be downloaded at run time).

    Call ``register(name, loader, *, description, kind, shape, size, num_classes=None)``:

    * ``loader(**options)`` returns a :class:`genwidgets.data.GenData`; it is called only
      when the data set is used, so registering is cheap;
    * ``kind`` is ``"images"`` or ``"points"``, ``shape`` the shape of one example,
      ``size`` the number of examples, ``num_classes`` the label count (None if unlabelled).
    """


@hookspec
def register_metrics(register: Callable[..., None]) -> None:
    """Register evaluation metrics that :func:`genwidgets.metrics.evaluate` runs beside its own.

    Call ``register(name, compute, *, description, applies=None, default_n=1000)``:

    * ``name`` is a lowercase identifier (letters, digits, ``_``) not taken by a built-in
      metric group (``modes``, ``images``, ``likelihood``, ``disentanglement``) or another plugin;
    * ``compute(model, data, *, n, seed)`` returns a dict of JSON-ready results (numbers,
      strings, lists, nested dicts) for a :class:`genwidgets.GenerativeModel` and a
      :class:`genwidgets.data.GenData`, from ``n`` examples and reproducibly from ``seed``;
    * ``applies(model, data)`` returns None when the metric applies, else a one-line reason
      (default: always applies); decide from capabilities and data properties, never names;
    * ``default_n`` is the example count used when ``evaluate(n=None)``.

    ``evaluate`` lists the result under ``metrics[name]`` and the plugin under
    ``providers[name]``. A ``compute`` or ``applies`` that raises is reported under
    ``failed[name]`` naming the plugin; the other metrics still run.
    """


@hookspec
def register_panels(register: Callable[..., None]) -> None:
    """Register widget panels that the studio shows beside its own for the models they fit.

    Call ``register(name, factory, *, title, applies_to=None)``:

    * ``name`` is a lowercase identifier unique across plugins;
    * ``factory(run)`` builds the widget (any ipywidgets ``DOMWidget``, anywidget included)
      for a :class:`genwidgets.RunHandle` (a Run or a LaunchedRun; see "Reading a run's state
      from a panel" in docs/plugins.md); it is called only when a studio opens for that run;
    * ``title`` is the tab's label (shown as text, never as HTML);
    * ``applies_to(model_cls)`` says whether the panel fits a model class (decide from
      ``model_cls.capabilities``, not its name); None means every model.

    ``genwidgets.get_registry().panels_for(model_cls)`` lists the matching
    :class:`genwidgets.registry.PanelEntry` objects. A factory that raises is shown in its
    tab as an error naming the plugin; the other widgets keep working.
    """


# ---- training: called while runs train ---------------------------------------------------

@hookspec
def on_train_event(run: Run, event: Event) -> None:
    """React to an event of any training run (for loggers: CSV, TensorBoard, ...).

    Called from a delivery thread of the run's event bus, never from the training loop, so a
    slow logger delays only itself. ``event.kind`` is one of ``"state"``, ``"metrics"``,
    ``"samples"``, ``"checkpoint"``, ``"error"``, ``"hparams"``, ``"warning"``; see
    :class:`genwidgets.runtime.events.Event`. As with any pluggy hook, an implementation may take
    only the arguments it needs (``def on_train_event(event): ...``). Each plugin is called on its
    own: an exception is kept in the plugin's errors and published once per kind on the run as a
    ``warning`` event (which this hook then also receives); it never stops the run or other plugins.
    """


def hook_names() -> list[str]:
    """Names of every hook specified here (for meta-tests and docs)."""
    return sorted(name for name, obj in globals().items() if callable(obj) and hasattr(obj, f"{PROJECT}_spec"))

