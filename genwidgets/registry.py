"""The plugin registry: discovers plugins, calls their registration hooks, isolates failures.

Plugins are found through the entry-point group ``genwidgets.plugins`` (the built-in model
families and data sets included). Loading is lazy: nothing is imported until the registry is
first asked for something. Every failure — a plugin that does not import, raises in a hook,
registers something that is not a model, or takes a name already taken — is recorded against
that plugin's name with the reason, and everything else still loads.

Environment:
    ``GENWIDGETS_LOAD_PLUGINS``: comma-separated entry-point or distribution names to load
    (an empty value loads none); unset loads all.
    ``GENWIDGETS_TRACE_PLUGINS=1``: print every hook call and its result to stderr.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError

ENTRY_POINT_GROUP = "genwidgets.plugins"
LOAD_ENV = "GENWIDGETS_LOAD_PLUGINS"
#: Metric group names ``evaluate`` computes itself; a plugin metric cannot take them.
BUILTIN_METRIC_GROUPS = ("modes", "images", "likelihood", "disentanglement")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
TRACE_ENV = "GENWIDGETS_TRACE_PLUGINS"


@dataclasses.dataclass
class PluginRecord:
    """What the registry knows about one plugin.

    Attributes:
        name: Entry-point name (or the name given to :meth:`Registry.add_plugin`).
        distribution: The installed distribution that declared it, if any.
        version: That distribution's version.
        module: The object pluggy registered (usually a module), None if it failed to import.
        models / datasets / metrics / panels: Names this plugin registered successfully.
        hooks: Names of the hooks the plugin implements.
        errors: One line per failure (import error, exception in a hook, rejected registration).
    """

    name: str
    distribution: str | None = None
    version: str | None = None
    module: Any = None
    models: list[str] = dataclasses.field(default_factory=list)
    datasets: list[str] = dataclasses.field(default_factory=list)
    metrics: list[str] = dataclasses.field(default_factory=list)
    panels: list[str] = dataclasses.field(default_factory=list)
    hooks: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def error(self) -> str | None:
        """All failures joined into one line, or None if the plugin loaded cleanly."""
        return "; ".join(self.errors) or None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``genwidgets plugins --json``)."""
        return {"name": self.name, "distribution": self.distribution, "version": self.version,
                "models": list(self.models), "datasets": list(self.datasets), "metrics": list(self.metrics),
                "panels": list(self.panels), "hooks": list(self.hooks),
                "error": self.error}


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    """A registered data set: how to load it and what it looks like, known without loading it."""

    name: str
    loader: Callable[..., Any]
    description: str
    kind: str
    shape: tuple[int, ...]
    size: int
    num_classes: int | None
    plugin: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``genwidgets datasets --json``)."""
        return {"name": self.name, "description": self.description, "kind": self.kind,
                "shape": list(self.shape), "size": self.size, "num_classes": self.num_classes,
                "plugin": self.plugin}


@dataclasses.dataclass(frozen=True)
class MetricEntry:
    """A plugin's evaluation metric (``register_metrics``), run by :func:`genwidgets.metrics.evaluate`.

    Attributes:
        name: The metric's key in ``evaluate``'s ``metrics`` dict.
        compute: ``compute(model, data, *, n, seed) -> dict`` of JSON-ready results.
        description: One line for listings.
        applies: ``applies(model, data) -> None | str``: None if it applies, else why not.
        default_n: Examples used when ``evaluate(n=None)``.
        plugin: Name of the plugin that registered it.
    """

    name: str
    compute: Callable[..., Any]
    description: str
    applies: Callable[[Any, Any], str | None] | None
    default_n: int
    plugin: str

    def reason_not_applicable(self, model: Any, data: Any) -> str | None:
        """None if the metric applies to ``model`` on ``data``, else a one-line reason."""
        return None if self.applies is None else self.applies(model, data)


@dataclasses.dataclass(frozen=True)
class PanelEntry:
    """A plugin's widget panel (``register_panels``), shown by the studio for models it fits.

    Attributes:
        name: Unique identifier of the panel.
        title: The tab's label.
        factory: ``factory(run)`` builds the widget for a :class:`~genwidgets.runtime.run.Run`.
        applies_to: ``applies_to(model_cls) -> bool``, or None for every model.
        plugin: Name of the plugin that registered it.
    """

    name: str
    title: str
    factory: Callable[[Any], Any]
    applies_to: Callable[[type], bool] | None
    plugin: str


class Registry:
    """Plugins, model families and data sets, discovered through pluggy."""

    def __init__(self, *, entry_point_group: str = ENTRY_POINT_GROUP) -> None:
        self.group = entry_point_group
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginRecord] = {}
        self._models: dict[str, tuple[type, str]] = {}
        self._datasets: dict[str, DatasetEntry] = {}
        self._metrics: dict[str, MetricEntry] = {}
        self._panels: dict[str, PanelEntry] = {}
        self._loaded = False
        self._lock = threading.RLock()
        self._undo_trace: Callable[[], None] | None = None
        # emit_event's pluggy subset callers, one per plugin, for the plugin set in the key.
        self._event_callers_key: frozenset[int] | None = None
        self._event_callers_cache: list[tuple[str, Callable[..., Any]]] = []

    # ---- discovery ---------------------------------------------------------------------
    def load(self) -> Registry:
        """Discover entry-point plugins and run their registration hooks (once)."""
        with self._lock:
            if self._loaded:
                return self
            self._loaded = True
            if os.environ.get(TRACE_ENV, "").strip() not in ("", "0", "false"):
                self.enable_tracing()
            for ep in self._selected_entry_points():
                dist = getattr(ep, "dist", None)
                record = PluginRecord(ep.name, dist.metadata["Name"] if dist else None, dist.version if dist else None)
                self.plugins[ep.name] = record
                try:
                    module = ep.load()
                except BaseException as exc:  # noqa: BLE001 - a plugin's import may raise anything
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    record.errors.append(f"failed to import {ep.value}: {type(exc).__name__}: {exc}")
                    continue
                self._register_plugin(record, module)
            return self

    def _selected_entry_points(self) -> list[importlib.metadata.EntryPoint]:
        def order(ep: importlib.metadata.EntryPoint) -> tuple[bool, str]:
            # Built-ins first, so a third party cannot take "dcgan" from the real one by sorting first.
            dist = getattr(ep, "dist", None)
            return (dist is None or dist.metadata["Name"] != hookspecs.PROJECT, ep.name)

        eps = sorted(importlib.metadata.entry_points(group=self.group), key=order)
        unique: dict[str, importlib.metadata.EntryPoint] = {}
        for ep in eps:  # the same dist can appear twice on sys.path (editable + build dir)
            unique.setdefault(ep.name, ep)
        wanted = os.environ.get(LOAD_ENV)
        if wanted is None:
            return list(unique.values())
        names = {n.strip() for n in wanted.split(",") if n.strip()}
        return [ep for ep in unique.values()
                if ep.name in names or (getattr(ep, "dist", None) and ep.dist.metadata["Name"] in names)]

    def add_plugin(self, plugin: ModuleType | object, name: str | None = None) -> PluginRecord:
        """Register a plugin object directly (for notebooks and tests; no entry point needed)."""
        self.load()
        with self._lock:
            name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
            if name in self.plugins:
                raise PluginError(f"a plugin named {name!r} is already loaded")
            record = PluginRecord(name)
            self.plugins[name] = record
            self._register_plugin(record, plugin)
            return record

    def _register_plugin(self, record: PluginRecord, module: Any) -> None:
        try:
            self.pm.register(module, name=record.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            record.errors.append(f"invalid plugin: {exc}")
            return
        record.module = module
        record.hooks = sorted(c.name for c in self.pm.get_hookcallers(module) or [])
        self._check_hook_names(record, module)
        self._call_registration(record, "register_models", self._model_registrar(record))
        self._call_registration(record, "register_datasets", self._dataset_registrar(record))
        self._call_registration(record, "register_metrics", self._metric_registrar(record))
        self._call_registration(record, "register_panels", self._panel_registrar(record))

    def _check_hook_names(self, record: PluginRecord, module: Any) -> None:
        """Report hook implementations whose name matches no hook (a misspelling, usually)."""
        known = hookspecs.hook_names()
        for name in dir(module):
            impl = getattr(module, name, None)
            if callable(impl) and hasattr(impl, f"{hookspecs.PROJECT}_impl") and name not in known:
                guess = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean {guess[0]!r}?)" if guess else f" (known hooks: {', '.join(known)})"
                record.errors.append(f"implements unknown hook {name!r}{hint}")

    def _call_registration(self, record: PluginRecord, hook_name: str, register: Callable[..., None]) -> None:
        others = [p for p in self.pm.get_plugins() if p is not record.module]
        caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
        try:
            caller(register=register)
        except Exception as exc:  # noqa: BLE001 - isolate the plugin, keep everything else
            where = traceback.extract_tb(exc.__traceback__)[-1]
            record.errors.append(
                f"{hook_name} raised {type(exc).__name__}: {exc} (at {os.path.basename(where.filename)}:{where.lineno})"
            )

    def _model_registrar(self, record: PluginRecord) -> Callable[[type], None]:
        from .model import check_model_class

        def register(model_cls: type) -> None:
            problems = check_model_class(model_cls)
            if problems:
                record.errors.append("rejected model: " + "; ".join(problems))
                return
            name = model_cls.name  # type: ignore[attr-defined]
            if name in self._models:
                record.errors.append(
                    f"rejected model {name!r}: the name is already registered by plugin {self._models[name][1]!r}"
                )
                return
            self._models[name] = (model_cls, record.name)
            record.models.append(name)

        return register

    def _dataset_registrar(self, record: PluginRecord) -> Callable[..., None]:
        def register(name: str, loader: Callable[..., Any], *, description: str, kind: str,
                     shape: Iterable[int], size: int, num_classes: int | None = None) -> None:
            reason = None
            if not isinstance(name, str) or not name or name != name.lower():
                reason = f"dataset name must be a non-empty lowercase string, got {name!r}"
            elif not callable(loader):
                reason = f"loader for dataset {name!r} is not callable"
            elif kind not in ("images", "points"):
                reason = f"dataset {name!r} has kind {kind!r}; expected 'images' or 'points'"
            elif name in self._datasets:
                reason = f"dataset {name!r} is already registered by plugin {self._datasets[name].plugin!r}"
            if reason:
                record.errors.append("rejected dataset: " + reason)
                return
            self._datasets[name] = DatasetEntry(name, loader, description, kind, tuple(shape), int(size),
                                                num_classes, record.name)
            record.datasets.append(name)

        return register

    def _metric_registrar(self, record: PluginRecord) -> Callable[..., None]:
        def register(name: str, compute: Callable[..., Any], *, description: str,
                     applies: Callable[[Any, Any], str | None] | None = None, default_n: int = 1000) -> None:
            reason = None
            if not isinstance(name, str) or not _IDENTIFIER.match(name):
                reason = f"metric name must be a lowercase identifier (a-z, 0-9, _), got {name!r}"
            elif name in BUILTIN_METRIC_GROUPS:
                reason = f"metric name {name!r} is a built-in metric group; choose another name"
            elif name in self._metrics:
                reason = f"metric {name!r} is already registered by plugin {self._metrics[name].plugin!r}"
            elif not callable(compute):
                reason = f"compute for metric {name!r} is not callable"
            elif applies is not None and not callable(applies):
                reason = f"applies for metric {name!r} must be callable or None"
            elif not isinstance(description, str):
                reason = f"description of metric {name!r} must be a string"
            elif isinstance(default_n, bool) or not isinstance(default_n, int) or default_n < 1:
                reason = f"default_n of metric {name!r} must be an integer >= 1, got {default_n!r}"
            if reason:
                record.errors.append("rejected metric: " + reason)
                return
            self._metrics[name] = MetricEntry(name, compute, description, applies, default_n, record.name)
            record.metrics.append(name)

        return register

    def _panel_registrar(self, record: PluginRecord) -> Callable[..., None]:
        def register(name: str, factory: Callable[[Any], Any], *, title: str,
                     applies_to: Callable[[type], bool] | None = None) -> None:
            reason = None
            if not isinstance(name, str) or not _IDENTIFIER.match(name):
                reason = f"panel name must be a lowercase identifier (a-z, 0-9, _), got {name!r}"
            elif name in self._panels:
                reason = f"panel {name!r} is already registered by plugin {self._panels[name].plugin!r}"
            elif not callable(factory):
                reason = f"factory for panel {name!r} is not callable"
            elif not isinstance(title, str) or not title.strip():
                reason = f"panel {name!r} needs a non-empty title string"
            elif applies_to is not None and not callable(applies_to):
                reason = f"applies_to for panel {name!r} must be callable or None"
            if reason:
                record.errors.append("rejected panel: " + reason)
                return
            self._panels[name] = PanelEntry(name, title, factory, applies_to, record.name)
            record.panels.append(name)

        return register

    # ---- tracing ------------------------------------------------------------------------
    def enable_tracing(self, write: Callable[[str], Any] | None = None) -> None:
        """Print each hook call, its arguments and result (``GENWIDGETS_TRACE_PLUGINS=1``)."""
        out = write or (lambda line: print(line, file=sys.stderr))

        def before(hook_name: str, impls: list, kwargs: dict) -> None:
            out(f"genwidgets trace: {hook_name}({', '.join(kwargs)}) -> {[i.plugin_name for i in impls]}")

        def after(outcome: Any, hook_name: str, impls: list, kwargs: dict) -> None:
            exc = outcome.exception
            out(f"genwidgets trace: {hook_name} " + (f"raised {exc!r}" if exc else "returned"))

        self._undo_trace = self.pm.add_hookcall_monitoring(before, after)

    # ---- queries -------------------------------------------------------------------------
    def list_plugins(self) -> list[PluginRecord]:
        """Every plugin seen, loaded or failed."""
        self.load()
        return list(self.plugins.values())

    def model_names(self) -> list[str]:
        """Names of the registered model families, sorted."""
        self.load()
        return sorted(self._models)

    def get_model(self, name: str) -> type:
        """The model class registered under ``name``."""
        self.load()
        try:
            return self._models[name][0]
        except KeyError:
            raise PluginError(
                f"no model named {name!r}; registered models: {', '.join(sorted(self._models)) or 'none'}"
                " (see `genwidgets plugins` for plugins that failed to load)"
            ) from None

    def model_plugin(self, name: str) -> str:
        """Name of the plugin that registered model ``name``."""
        self.get_model(name)
        return self._models[name][1]

    def list_models(self) -> list[dict[str, Any]]:
        """Each model family with its plugin, paper, capabilities, data kinds and config schema."""
        self.load()
        out = []
        for name in sorted(self._models):
            cls, plugin = self._models[name]
            out.append({"name": name, "plugin": plugin, "paper": cls.paper,
                        "capabilities": cls.capabilities.to_dict(), "score_kind": cls.score_kind,
                        "data_kinds": list(cls.data_kinds),
                        "presets": sorted(cls.Config.presets), "config": cls.Config.schema()})
        return out

    def get_dataset(self, name: str) -> DatasetEntry:
        """The data set registered under ``name``."""
        self.load()
        try:
            return self._datasets[name]
        except KeyError:
            raise PluginError(
                f"no dataset named {name!r}; registered datasets: {', '.join(sorted(self._datasets)) or 'none'}"
            ) from None

    def list_datasets(self) -> list[DatasetEntry]:
        """Every registered data set, sorted by name."""
        self.load()
        return [self._datasets[n] for n in sorted(self._datasets)]

    def list_metrics(self) -> list[MetricEntry]:
        """Every metric registered by plugins, sorted by name."""
        self.load()
        return [self._metrics[n] for n in sorted(self._metrics)]

    def get_metric(self, name: str) -> MetricEntry:
        """The plugin metric registered under ``name``."""
        self.load()
        try:
            return self._metrics[name]
        except KeyError:
            raise PluginError(
                f"no plugin metric named {name!r}; registered: {', '.join(sorted(self._metrics)) or 'none'}"
            ) from None

    def list_panels(self) -> list[PanelEntry]:
        """Every panel registered by plugins, sorted by name."""
        self.load()
        return [self._panels[n] for n in sorted(self._panels)]

    def panels_for(self, model_cls: type) -> list[PanelEntry]:
        """The plugin panels whose ``applies_to`` accepts ``model_cls``, sorted by name.

        An ``applies_to`` that raises counts as "does not apply" and is recorded as an error
        of its plugin (see ``genwidgets plugins``), so one broken plugin cannot break a studio.
        """
        out = []
        for entry in self.list_panels():
            try:
                fits = entry.applies_to is None or bool(entry.applies_to(model_cls))
            except Exception as exc:  # noqa: BLE001 - isolate the plugin
                record = self.plugins.get(entry.plugin)
                if record is not None and len(record.errors) < 100:
                    record.errors.append(f"panel {entry.name!r}: applies_to raised {type(exc).__name__}: {exc}")
                fits = False
            if fits:
                out.append(entry)
        return out

    def emit_event(self, run: Any, event: Any) -> list[tuple[str, Exception]]:
        """Call every plugin's ``on_train_event`` hook through pluggy, isolating each plugin's failures.

        Each plugin's implementations are called through their own pluggy subset caller (as the
        registration hooks are), so pluggy passes an implementation only the arguments it names
        (``def on_train_event(event)`` is valid), runs the plugin's hook wrappers, and traces the
        call under ``GENWIDGETS_TRACE_PLUGINS``; one plugin's exception never stops the others.

        Returns:
            ``(plugin name, exception)`` for each plugin whose hook raised; every failure is also
            kept in the plugin's ``errors``. The run (:mod:`genwidgets.runtime.plugin_events`)
            reports them as ``warning`` events.
        """
        failures: list[tuple[str, Exception]] = []
        for name, caller in self._event_callers():
            try:
                caller(run=run, event=event)
            except Exception as exc:  # noqa: BLE001 - isolate the plugin, keep everything else
                record = self.plugins.get(name)
                if record is not None and len(record.errors) < 100:
                    record.errors.append(f"on_train_event raised {type(exc).__name__}: {exc}")
                failures.append((name, exc))
        return failures

    def _event_callers(self) -> list[tuple[str, Callable[..., Any]]]:
        """One pluggy subset caller of ``on_train_event`` per plugin that implements it (cached per plugin set)."""
        plugins = self.pm.get_plugins()
        key = frozenset(id(p) for p in plugins)
        with self._lock:
            if self._event_callers_key != key:
                owners = {impl.plugin_name: impl.plugin for impl in self.pm.hook.on_train_event.get_hookimpls()}
                self._event_callers_cache = [
                    (name, self.pm.subset_hook_caller("on_train_event",
                                                      remove_plugins=[p for p in plugins if p is not owner]))
                    for name, owner in owners.items()]
                self._event_callers_key = key
            return self._event_callers_cache

    def has_event_hooks(self) -> bool:
        """True if any plugin implements ``on_train_event``."""
        self.load()
        return bool(self.pm.hook.on_train_event.get_hookimpls())


_default: Registry | None = None
_default_lock = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry, created and loaded on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
    return _default.load()


def reset_registry() -> None:
    """Forget the process-wide registry so the next call rediscovers plugins (tests, notebooks)."""
    global _default
    with _default_lock:
        _default = None
