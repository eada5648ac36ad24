"""What the three widgets share: the LiveWidget base, and one model snapshot per run.

Real runs of real (tiny) models; the only stand-in is the comm (``recording`` in conftest). The
deep copies are counted by wrapping the real ``copy.deepcopy`` (every copy still happens).
"""

from __future__ import annotations

import base64
import copy
import gc
import threading
import types
import weakref
from pathlib import Path
from typing import Any

import pytest
import torch

import genwidgets as gw
from genwidgets.launcher import LaunchedRun
from genwidgets.model import GenerativeModel
from genwidgets.runtime.events import Event
from genwidgets.runtime.model_snapshot import shared_snapshot
from genwidgets.widgets import DiscriminatorHeatmap, LatentExplorer, RunsBoard, TrainingPanel
from genwidgets.widgets.live_widget import LiveWidget

pytestmark = pytest.mark.usefixtures("recording")


def ring_gan(**options: Any) -> gw.Run:
    opts = {"preset": "toy2d", "steps": 40, "log_every": 2, "sample_every": 10, "checkpoint_every": None,
            "start": False, **options}
    return gw.train("gan", data="ring", **opts)


class _Spread:
    """A plugin metric, so that the panel looks at the model too."""

    @gw.hookimpl
    def register_metrics(self, register):
        def spread(model, data, *, n, seed):
            with torch.no_grad():
                return {"std": float(model.sample(n).float().std())}

        register("spread", spread, description="std of samples")


def three_widgets(run: Any) -> list[Any]:
    gw.get_registry().add_plugin(_Spread(), name="acme-spread")
    return [TrainingPanel(run, metrics=["spread"]), LatentExplorer(run, n=100, refresh_interval=0.05),
            DiscriminatorHeatmap(run, resolution=16, max_rate=50)]


@pytest.fixture
def deep_copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Steps of the models deep-copied while the test runs (the real copy is made)."""
    copied: list[int] = []
    real = copy.deepcopy

    def counting(x: Any, memo: Any = None, _nil: Any = ()) -> Any:
        if isinstance(x, GenerativeModel):
            copied.append(1)
        return real(x, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)
    return copied


# ---- the base class ------------------------------------------------------------------------------
def test_every_widget_is_a_live_widget_whose_bundle_carries_its_png() -> None:
    data = gw.load_data("ring")
    gan = gw.build_model("gan", data.spec, preset="tiny")
    run = ring_gan()
    for widget in (TrainingPanel(run), LatentExplorer(gan, data, n=50), DiscriminatorHeatmap(gan, data=data)):
        assert isinstance(widget, LiveWidget) and len(widget.uid) == 32
        assert widget.wait_idle()
        bundle, _ = widget._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert base64.b64decode(bundle["image/png"]) == widget.to_png()
        widget.close()
        assert widget.closed and all(part.closed for part, _ in widget._parts)
        assert widget._subscription is None or widget._subscription.closed


class _Recorder(LiveWidget):
    """The smallest live widget: records the run's events and the front end's requests."""

    _esm = "export default {};"

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []
        self.delivered = threading.Event()
        self.hellos: list[str] = []
        self.requests: list[Any] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self.delivered.set()

    def _hello(self, nonce: str) -> None:
        self.hellos.append(nonce)

    def _request(self, op: Any, content: dict[str, Any]) -> None:
        self.requests.append(op)

    def to_png(self) -> bytes:
        return b""


def test_events_wait_until_the_widget_has_read_the_run_and_none_is_missed() -> None:
    """Protects: a widget reading the run (history, samples) while subscribing never sees an event
    before it has read the run (the replay used to race the panel's constructor), and loses none."""
    run = ring_gan(log_every=1)
    run.step(3)
    widget = _Recorder()
    with widget._following(run, widget.on_event, kinds=("metrics",)) as subscription:
        run.step(2)                                   # published while the widget reads the run
        assert not widget.delivered.wait(0.3), "an event was delivered inside the block"
        assert widget._subscription is None
    assert subscription.flush(5.0) and widget._subscription is subscription
    assert [(e.step, bool(e.data.get("replay"))) for e in widget.events] == [(3, True), (4, False), (5, False)]
    widget.close()
    assert subscription.closed


def test_a_widget_that_fails_while_reading_the_run_gets_no_event_and_no_subscription() -> None:
    run = ring_gan()
    run.step(2)
    widget = _Recorder()
    with pytest.raises(RuntimeError, match="broken"), widget._following(run, widget.on_event) as subscription:
        raise RuntimeError("broken")
    assert subscription.closed and widget._subscription is None
    assert subscription.flush(5.0) and widget.events == []


def test_the_hello_and_requests_reach_their_handlers_and_other_messages_are_ignored() -> None:
    widget = _Recorder()
    for content in ({"op": "hello", "nonce": "page-1"}, {"op": "hello"}, {"op": "probe", "x": 1}, "hello", None):
        widget.comm.from_front_end(content)
    assert widget.hellos == ["page-1", ""] and widget.requests == ["probe"]
    widget.close()


# ---- one snapshot per run ------------------------------------------------------------------------
def test_three_widgets_of_a_training_run_share_one_copy_taken_once_per_samples_event(deep_copies) -> None:
    """Protects: the explorer, the heatmap and a panel's live metrics look at one frozen copy of the
    model per run, and while the run trains it is copied at most once per samples event (it used to be
    copied by the explorer and by the live metrics at every event, and reloaded by the heatmap per frame)."""
    run = ring_gan()
    widgets = three_widgets(run)
    assert all(w.wait_idle(30) for w in widgets)
    del deep_copies[:]
    run.start().wait()
    assert all(w.wait_idle(30) for w in widgets)
    samples_events = run.steps // run.sample_every
    assert 1 <= len(deep_copies) <= samples_events
    panel, explorer, heatmap = widgets
    snapshot = shared_snapshot(run).get()
    assert snapshot.step == run.step_count == 40 and not snapshot.model.training
    assert explorer.session.view.model is snapshot.model and explorer.map_info["step"] == 40
    with heatmap._frames.view() as look:
        assert look.model is snapshot.model and heatmap.step == 40
    assert "spread.std" in panel.feed.series.columns
    for w in widgets:
        w.close()


def test_a_run_moved_by_hand_is_seen_at_once_without_a_copy_per_widget(deep_copies) -> None:
    run = ring_gan(log_every=1)
    widgets = three_widgets(run)
    assert all(w.wait_idle(30) for w in widgets)
    del deep_copies[:]
    run.step(3)                                           # no samples event: a paused run, stepped by hand
    explorer, heatmap = widgets[1], widgets[2]
    explorer.refresh()
    assert all(w.wait_idle(30) for w in widgets)
    assert heatmap.step == 3 and explorer.map_info["step"] == 3
    assert len(deep_copies) <= 3                           # at most one per step taken, however many widgets
    for w in widgets:
        w.close()


def test_the_snapshot_goes_away_with_its_widgets_and_never_keeps_the_run_alive() -> None:
    data = gw.load_data("ring")
    # No plugin-event forwarder: its subscription thread would keep the run alive by itself.
    run = gw.Run(gw.build_model("gan", data.spec, preset="tiny"), data, steps=4, checkpoint_every=None,
                 plugin_events=False)
    held = shared_snapshot(run)
    assert shared_snapshot(run) is held                  # one per run while something holds it
    model = weakref.ref(held.get().model)
    holder, run_ref = weakref.ref(held), weakref.ref(run)
    del held
    gc.collect()
    assert holder() is None and model() is None         # no widget holds it: the copy is freed
    kept = shared_snapshot(run)
    del run
    gc.collect()
    assert run_ref() is None, "the snapshot kept its run alive"
    with pytest.raises(ReferenceError):
        kept.get()


# ---- runs are RunHandles, models are models ------------------------------------------------------
def test_widgets_open_on_a_launched_run_and_share_its_snapshot(tmp_path: Path) -> None:
    data = gw.load_data("ring")
    model = gw.build_model("gan", data.spec, preset="toy2d")
    run = LaunchedRun({"steps": 10, "data_source": {"name": "ring"}}, model=model, data=data, processes=2,
                      work_dir=tmp_path)
    panel, explorer, heatmap = (TrainingPanel(run), LatentExplorer(run, n=50), DiscriminatorHeatmap(run, resolution=8))
    assert panel.title == "gan on ring" and explorer.live and heatmap.state == "created"
    with heatmap._frames.view() as look:
        assert look.model is explorer.session.view.model is shared_snapshot(run).current.model
    for w in (panel, explorer, heatmap):
        w.close()


def test_an_object_that_only_looks_like_a_run_is_refused() -> None:
    model = gw.build_model("gan", gw.load_data("ring").spec, preset="tiny")
    duck = types.SimpleNamespace(model=model, between_steps=threading.Lock)
    with pytest.raises(TypeError, match="expected a genwidgets model or Run, got SimpleNamespace"):
        LatentExplorer(duck)
    with pytest.raises(gw.CapabilityError, match="needs a genwidgets model"):
        DiscriminatorHeatmap(duck)


@pytest.mark.parametrize("widget", [TrainingPanel, LatentExplorer, DiscriminatorHeatmap], ids=lambda w: w.__name__)
def test_no_widget_trait_shadows_one_of_ipywidgets(widget):
    """A trait named like one of DOMWidget's (``layout`` is a Layout widget the front end builds a view of)
    breaks every view of the widget ("Cannot read properties of undefined (reading 'then')" in the page)."""
    import anywidget

    base = set(anywidget.AnyWidget.class_trait_names())
    own = {name for name in widget.class_trait_names() if name not in base or
           widget.class_traits()[name] is not anywidget.AnyWidget.class_traits()[name]}
    assert not own & base, f"{widget.__name__} redefines ipywidgets' traits {sorted(own & base)}: rename them"


@pytest.mark.parametrize("widget", [TrainingPanel, LatentExplorer, DiscriminatorHeatmap, RunsBoard],
                         ids=lambda w: w.__name__)
def test_no_widget_method_shadows_one_of_ipywidgets(widget):
    """A method named like one of Widget's breaks it quietly: ``open`` (ipywidgets opens the comm with it) made
    the board's constructor fail, ``_send`` (ipywidgets sends every message through it) recursed for ever."""
    import anywidget

    inherited = {name for cls in anywidget.AnyWidget.__mro__ for name in vars(cls)}
    allowed = {"close", "__init__", "__doc__", "__module__", "__qualname__", "__firstlineno__",
               "__static_attributes__", "_repr_mimebundle_", "_esm", "_css", "__annotations__",
               # what traitlets' metaclass writes into every HasTraits class
               "_all_trait_default_generators", "_descriptors", "_instance_inits", "_static_immutable_initial_values",
               "_trait_default_generators", "_traits"}
    ours = {name for cls in widget.__mro__ if issubclass(cls, LiveWidget) for name in vars(cls)}
    traits = set(widget.class_trait_names())
    clash = sorted((ours & inherited) - allowed - traits)
    assert not clash, f"{widget.__name__} redefines ipywidgets' attributes {clash}: rename them"
