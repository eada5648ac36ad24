"""The studio: one call that trains a model and shows every widget that fits it, sharing one run.

    import genwidgets as gw
    studio = gw.studio("dcgan", data="mnist")
    studio                    # tabs: training panel, latent explorer, discriminator heatmap

Which widgets appear follows the model's capabilities, never its name: the training panel
always, the latent explorer for models that decode, the discriminator heatmap for models that
discriminate, and any panel a plugin registered for the model (``register_panels``). A widget
that fails to open shows its error as plain text in its tab (naming the plugin for plugin
panels); the others work on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets

from ..model import GenerativeModel
from ..runtime.handle import RunHandle
from .png import with_png

log = logging.getLogger(__name__)


class Studio:
    """The training panel, latent explorer and discriminator heatmap of one run, as tabs.

    Attributes:
        run: The run every widget watches (one run, one runtime).
        panel: The :class:`~genwidgets.widgets.TrainingPanel`.
        explorer: The :class:`~genwidgets.widgets.LatentExplorer`, or None when the model cannot decode.
        heatmap: The :class:`~genwidgets.widgets.DiscriminatorHeatmap`, or None when it cannot discriminate.
        extra: Widgets from plugins' ``register_panels``, by title.
        errors: Why a widget that should have opened did not, by tab title.
        widget: The ipywidgets ``Tab`` holding them (what a notebook displays).
    """

    def __init__(self, run: RunHandle, *, explorer: bool = True, heatmap: bool = True, plugin_panels: bool = True,
                 explorer_options: dict[str, Any] | None = None) -> None:
        from . import DiscriminatorHeatmap, LatentExplorer, TrainingPanel

        self.run = run
        caps = run.model.capabilities
        self.errors: dict[str, str] = {}
        tabs: list[tuple[str, Any]] = []
        self.panel = TrainingPanel(run)
        tabs.append(("Training", self.panel))
        self.explorer = None
        if explorer and caps.can_decode:
            self.explorer = self._open("Latent space", lambda: LatentExplorer(run, **(explorer_options or {})))
            tabs.append(("Latent space", self.explorer or self._error_view("Latent space")))
        self.heatmap = None
        if heatmap and caps.can_discriminate:
            self.heatmap = self._open("Discriminator", lambda: DiscriminatorHeatmap(run))
            tabs.append(("Discriminator", self.heatmap or self._error_view("Discriminator")))
        self.extra: dict[str, Any] = {}
        if plugin_panels:
            for entry in _plugin_panels(type(run.model)):
                title = f"{entry.title} ({entry.plugin})"
                made = self._open(title, lambda entry=entry: entry.factory(run), plugin=entry.plugin)
                if made is not None:
                    self.extra[title] = made
                tabs.append((title, made if isinstance(made, ipywidgets.DOMWidget) else self._error_view(title)))
        self.widget = ipywidgets.Tab(children=[w for _, w in tabs], titles=[t for t, _ in tabs])

    def _open(self, title: str, make: Callable[[], Any], *, plugin: str | None = None) -> Any:
        try:
            return make()
        except Exception as exc:  # noqa: BLE001 - one widget failing must not take the studio down
            who = f" (from plugin {plugin!r})" if plugin else ""
            self.errors[title] = f"{title}{who} could not open: {type(exc).__name__}: {exc}"
            log.warning("genwidgets studio: %s", self.errors[title], exc_info=exc)
            return None

    def _error_view(self, title: str) -> ipywidgets.Widget:
        # A Label shows text as text: nothing from a plugin or an exception becomes HTML.
        return ipywidgets.Label(value=self.errors.get(title, f"{title}: not a widget"))

    @property
    def widgets(self) -> dict[str, Any]:
        """Every open widget, by tab title."""
        out: dict[str, Any] = {"Training": self.panel}
        if self.explorer is not None:
            out["Latent space"] = self.explorer
        if self.heatmap is not None:
            out["Discriminator"] = self.heatmap
        return {**out, **self.extra}

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every widget has shown what the run has published so far."""
        return all(w.wait_idle(timeout) for w in self.widgets.values() if hasattr(w, "wait_idle"))

    def save_figures(self, folder: str | Path) -> dict[str, Path]:
        """Write each widget's static view (its PNG fallback) to ``folder``; returns the paths by tab title."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for title, widget in self.widgets.items():
            to_png = getattr(widget, "to_png", None)
            if to_png is None:
                continue
            path = folder / (title.lower().replace(" ", "_").replace("(", "").replace(")", "") + ".png")
            path.write_bytes(to_png())
            written[title] = path
        return written

    def close(self) -> None:
        """Close every widget (the run goes on)."""
        for widget in self.widgets.values():
            widget.close()
        self.widget.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | dict | None:
        """The tabs, plus the training panel's PNG for viewers that cannot run widgets."""
        return with_png(self.widget._repr_mimebundle_(**kwargs), self.panel.to_png)

    def __repr__(self) -> str:
        return f"<Studio {self.run!r}: {', '.join(self.widgets)}>"


def _plugin_panels(model_cls: type[GenerativeModel]) -> list[Any]:
    from ..registry import get_registry

    panels_for = getattr(get_registry(), "panels_for", None)  # the register_panels hook
    return list(panels_for(model_cls)) if panels_for is not None else []
