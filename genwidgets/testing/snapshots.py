"""Snapshot tests of widget state: a syrupy serializer that is readable and stable across runs and machines.

A widget's snapshot is what a newly opened front end would see: its synced traits, and the
custom messages it sends when a front end says ``hello``. :func:`capture_widget` records both;
:class:`WidgetStateSerializer` turns them into a plain tree where

* random ids are gone: anywidget's own traits (``layout`` is a random ``IPY_MODEL_`` id,
  ``_esm`` is the whole bundle, ``_model_module_version`` changes with anywidget), ``uid``;
* timing fields (``steps_per_sec``, ``elapsed``, ``remaining``, ``updated``, ``frame_ms``) read
  ``'<timing>'`` when set;
* floats are rounded to :data:`DIGITS` significant digits;
* binary buffers are summarised: ``uint8`` image arrays are stored as PNG files (compared with
  a pixel tolerance, see :class:`~genwidgets.testing.images.TolerantPNG`), other arrays as
  dtype, shape and their rounded values (up to :data:`MAX_VALUES` of them), or min/max/mean
  and the sha256 of the rounded values.

Each snapshot states these rules in its ``precision`` entry. :class:`WidgetSnapshot` (the
``widget_snapshot`` fixture of the pytest plugin) asserts the tree in the test module's
``.ambr`` file and each image as a PNG beside it; ``pytest --snapshot-update`` writes both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from comm.base_comm import BaseComm
from syrupy.extensions.amber import AmberSnapshotExtension

if TYPE_CHECKING:
    from syrupy.assertion import SnapshotAssertion

#: Significant digits floats keep (in traits, messages and array statistics and hashes).
DIGITS = 4
#: Keys whose values depend on the machine's speed or the clock; replaced by :data:`TIMING`.
TIMING_KEYS = frozenset({"steps_per_sec", "elapsed", "remaining", "updated", "frame_ms"})
#: What a timing field reads in a snapshot.
TIMING = "<timing>"
#: Trait names dropped besides anywidget's own synced traits: random ids and the front-end code.
DROP_KEYS = frozenset({"uid", "_esm", "_css", "_anywidget_id"})
#: What the snapshot sends as the front end's first message (every genwidgets widget answers it).
HELLO: Mapping[str, Any] = {"op": "hello", "nonce": "snapshot"}
#: Arrays with at most this many elements are listed in the snapshot; larger ones are hashed.
MAX_VALUES = 64
#: Columns of the grid a batch of images is tiled into for its PNG.
GRID_COLUMNS = 8

_MODEL_ID = re.compile(r"IPY_MODEL_[0-9a-f]{32}")


# ---- recording what a widget sends ---------------------------------------------------------------

class RecordingComm(BaseComm):
    """A comm that keeps every message the widget publishes (and can deliver front-end messages).

    Make widgets use it with ``monkeypatch.setattr(comm, "create_comm", RecordingComm)`` (the
    ``recording_comm`` fixture does this): it plays the role ipywidgets' DummyComm plays outside
    a kernel, but keeps what was sent.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.published: list[tuple[str, Any, list[bytes]]] = []
        self._lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        """Keep the message: ``(msg_type, data, buffers as bytes)``."""
        with self._lock:
            self.published.append((msg_type, data, [bytes(b) for b in buffers or []]))

    def custom(self) -> list[tuple[Any, list[bytes]]]:
        """Custom messages sent to the front end: (content, buffers)."""
        with self._lock:
            return [(d["content"], b) for t, d, b in self.published
                    if t == "comm_msg" and d.get("method") == "custom"]

    def from_front_end(self, content: Any) -> None:
        """Deliver a custom message as the front end would send it."""
        self.handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


# ---- capturing a widget --------------------------------------------------------------------------

@dataclasses.dataclass
class WidgetCapture:
    """What a newly opened front end sees of a widget: its synced state and the messages it is sent.

    Attributes:
        widget: The widget's class name.
        state: ``widget.get_state()`` (JSON-ready trait values).
        messages: Custom messages sent in answer to ``hello``, with buffers unpacked to numpy
            arrays; ``None`` when no hello was sent.
    """

    widget: str
    state: dict[str, Any]
    messages: list[Any] | None = None


def _wait_idle(widget: Any, timeout: float) -> None:
    wait = getattr(widget, "wait_idle", None)
    if wait is not None and wait(timeout) is False:
        raise AssertionError(f"{type(widget).__name__} did not become idle within {timeout} s")


def capture_widget(widget: Any, *, hello: Mapping[str, Any] | None = HELLO, timeout: float = 30.0) -> WidgetCapture:
    """Record ``widget``'s synced state and what it sends a front end that says ``hello``.

    Works with any ipywidget, on any comm: while the hello is answered, ``widget.send`` is
    wrapped so that what it sends is kept (and still sent). Widgets with a ``wait_idle(timeout)``
    method (every genwidgets widget) are waited for before and after. Snapshot a finished run:
    a run that is still training keeps sending updates.

    Args:
        widget: The widget.
        hello: The front end's first message; ``None`` captures the state only.
        timeout: Seconds to wait for the widget to become idle.
    """
    from ..widgets import wire

    _wait_idle(widget, timeout)
    messages: list[Any] | None = None
    if hello is not None:
        sent: list[tuple[Any, list[bytes]]] = []
        lock = threading.Lock()
        original = widget.send

        def recording_send(content: Any, buffers: Any = None) -> None:
            with lock:
                sent.append((content, [bytes(b) for b in buffers or []]))
            original(content, buffers)

        widget.send = recording_send
        try:
            widget._handle_custom_msg(dict(hello), [])
            _wait_idle(widget, timeout)
        finally:
            del widget.send
        with lock:
            messages = [wire.unpack(content, buffers) for content, buffers in sent]
    return WidgetCapture(type(widget).__name__, widget.get_state(), messages)


# ---- normalising -----------------------------------------------------------------------------------

def round_sig(x: float, digits: int = DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (non-finite values unchanged, -0.0 becomes 0.0)."""
    if not math.isfinite(x) or x == 0:
        return x + 0.0
    return float(f"{x:.{digits}g}") + 0.0


def array_decimals(a: np.ndarray, digits: int = DIGITS) -> int:
    """Decimals that keep ``digits`` significant digits of the array's largest finite magnitude.

    Arrays are rounded to one absolute precision, set by their largest value: noise around zero
    (the mean of centred data, a coordinate that is 1e-9 instead of 0) rounds to 0 instead of
    keeping four digits of noise.
    """
    finite = np.abs(a[np.isfinite(a)]) if a.dtype.kind == "f" else np.abs(a.astype(np.float64))
    top = float(finite.max()) if finite.size else 0.0
    return digits - 1 - math.floor(math.log10(top)) if top > 0 else 0


def round_array(a: np.ndarray, digits: int = DIGITS) -> np.ndarray:
    """``a`` as float64 rounded to :func:`array_decimals` (non-finite values kept, -0.0 made 0.0)."""
    return np.round(a.astype(np.float64), array_decimals(a, digits)) + 0.0


def is_image(a: np.ndarray) -> bool:
    """Whether an array is stored as a PNG: ``uint8`` (H, W), (H, W, C) or (N, H, W, C) with C in 1, 3, 4."""
    if a.dtype != np.uint8 or a.size == 0:
        return False
    return a.ndim == 2 or (a.ndim in (3, 4) and a.shape[-1] in (1, 3, 4))


def png_bytes(a: np.ndarray, *, columns: int = GRID_COLUMNS) -> bytes:
    """Encode an image array (see :func:`is_image`) as a PNG; a batch is tiled ``columns`` wide."""
    from PIL import Image

    if a.ndim == 2:
        a = a[..., None]
    if a.ndim == 4:
        n, h, w, c = a.shape
        cols = min(columns, n)
        rows = -(-n // cols)
        grid = np.zeros((rows * h, cols * w, c), dtype=np.uint8)
        for i in range(n):
            r, k = divmod(i, cols)
            grid[r * h:(r + 1) * h, k * w:(k + 1) * w] = a[i]
        a = grid
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[a.shape[-1]]
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a[..., 0] if mode == "L" else a), mode=mode).save(out, format="PNG")
    return out.getvalue()


def _describe(a: np.ndarray) -> str:
    return f"{a.dtype.name}{list(a.shape)}"


class WidgetStateSerializer:
    """Turns a :class:`WidgetCapture` (or a widget, or any JSON-like value) into a stable, readable tree.

    Args:
        digits: Significant digits kept by floats, array statistics and array hashes.
        drop: Keys removed wherever they occur in the state (default :data:`DROP_KEYS` plus
            anywidget's own synced traits).
        timing: Keys whose non-None values become ``'<timing>'``.
        images: ``"png"``: image arrays are collected (see :meth:`normalise`) and appear in the
            tree as a reference to their PNG; ``"hash"``: they are summarised like other arrays.
        hello: What :func:`capture_widget` sends when given a widget.
        max_values: Arrays with at most this many elements are listed (rounded) instead of hashed.
    """

    def __init__(self, *, digits: int = DIGITS, drop: Iterable[str] | None = None,
                 timing: Iterable[str] = TIMING_KEYS, images: str = "png",
                 hello: Mapping[str, Any] | None = HELLO, max_values: int = MAX_VALUES) -> None:
        if images not in ("png", "hash"):
            raise ValueError(f"images must be 'png' or 'hash', got {images!r}")
        self.digits = digits
        self.drop = frozenset(drop) if drop is not None else DROP_KEYS | _anywidget_traits()
        self.timing = frozenset(timing)
        self.images = images
        self.hello = hello
        self.max_values = max_values

    @property
    def precision(self) -> str:
        """The rules, in words (every snapshot carries this line)."""
        image_rule = ("uint8 images as PNG snapshots (with a pixel tolerance)" if self.images == "png"
                      else "uint8 images hashed like other arrays")
        return (f"floats to {self.digits} significant digits (arrays: of their largest value); arrays of up to "
                f"{self.max_values} values listed, larger ones as min/max/mean and sha256 of the rounded values; "
                f"{image_rule}; timing fields as {TIMING!r}")

    def normalise(self, data: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The tree for ``data`` and the image arrays it refers to, by dotted path (``images="png"``)."""
        capture = data if isinstance(data, WidgetCapture) else None
        if capture is None and hasattr(data, "get_state") and hasattr(data, "send"):
            capture = capture_widget(data, hello=self.hello)
        images: dict[str, np.ndarray] = {}
        if capture is None:
            return {"value": self._walk(data, "value", images)}, images
        state = {k: v for k, v in capture.state.items() if k not in self.drop}
        tree: dict[str, Any] = {"widget": capture.widget, "precision": self.precision,
                                "state": self._walk(state, "state", images)}
        if capture.messages is not None:
            tree["messages"] = self._walk(capture.messages, "messages", images)
        return tree, images

    def serialize_tree(self, data: Any) -> dict[str, Any]:
        """Just the tree (images collected by :meth:`normalise` are not kept)."""
        return self.normalise(data)[0]

    def _walk(self, value: Any, path: str, images: dict[str, np.ndarray]) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if k in self.drop:
                    continue
                out[k] = TIMING if k in self.timing and v is not None else self._walk(v, f"{path}.{k}", images)
            return out
        if isinstance(value, list | tuple):
            return [self._walk(v, f"{path}.{i}", images) for i, v in enumerate(value)]
        if isinstance(value, np.ndarray):
            return self._array(value, path, images)
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
            return {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()[:16]}
        if isinstance(value, bool | None):
            return value
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float):
            return round_sig(value, self.digits)
        if isinstance(value, str):
            return _MODEL_ID.sub("IPY_MODEL_<id>", value)
        return value

    def _array(self, a: np.ndarray, path: str, images: dict[str, np.ndarray]) -> dict[str, Any]:
        if self.images == "png" and is_image(a):
            images[path] = a
            return {"image": _describe(a), "png": path}
        out: dict[str, Any] = {"array": _describe(a)}
        if a.size == 0:
            return out
        integer = a.dtype.kind in "biu"
        values = a.astype("<i8") if integer else round_array(a, self.digits).astype("<f8")
        if a.size <= self.max_values:
            out["values"] = values.tolist()
            return out
        finite = values if integer else values[np.isfinite(values)]
        if finite.size:
            mean = float(np.mean(a if integer else a[np.isfinite(a)], dtype=np.float64))
            mean = round_sig(mean, self.digits) if integer else round(mean, array_decimals(a, self.digits)) + 0.0
            out.update(min=finite.min().item(), max=finite.max().item(), mean=mean)
        if finite.size < values.size:
            out["non_finite"] = int(values.size - finite.size)
        digest = hashlib.sha256(str(list(a.shape)).encode() + np.ascontiguousarray(values).tobytes())
        out["sha256"] = digest.hexdigest()[:16]
        return out


def _anywidget_traits() -> frozenset[str]:
    import anywidget

    return frozenset(anywidget.AnyWidget.class_trait_names(sync=True))


# ---- syrupy ------------------------------------------------------------------------------------------

class WidgetStateExtension(AmberSnapshotExtension):
    """Amber snapshots (the ``.ambr`` file) of widget state, through :class:`WidgetStateSerializer`.

    Use it alone with ``snapshot.use_extension(WidgetStateExtension)``: images are then hashed
    like other arrays. The ``widget_snapshot`` fixture (:class:`WidgetSnapshot`) stores them as
    PNG files instead. Subclass and set :attr:`widget_serializer` to change the rules.
    """

    #: The serializer trees are made with.
    widget_serializer: WidgetStateSerializer | None = None

    def serialize(self, data: Any, **kwargs: Any) -> str:
        """Normalise ``data`` (a widget, a :class:`WidgetCapture`, a tree) and render it as amber text."""
        if not isinstance(data, _Tree):
            serializer = self.widget_serializer or WidgetStateSerializer(images="hash")
            data = _Tree(serializer.serialize_tree(data))
        return super().serialize(dict(data), **kwargs)


class _Tree(dict):
    """A tree that is already normalised (the extension renders it as it is)."""


class WidgetSnapshot:
    """Snapshot a widget: its state in the ``.ambr`` file, its images as PNG files, with a pixel tolerance.

    Made by the ``widget_snapshot`` fixture from syrupy's ``snapshot``; compare it with a widget
    (or a :class:`WidgetCapture`)::

        assert panel == widget_snapshot
        assert explorer == widget_snapshot(name="after-training", hello={"op": "hello"})

    The state snapshot is named after the widget's class (``test_x[TrainingPanel]``), its images
    after their place in the tree (``test_x[TrainingPanel.messages.1.images].png``).
    """

    def __init__(self, snapshot: SnapshotAssertion, *, serializer: WidgetStateSerializer | None = None,
                 png_extension: type | None = None) -> None:
        from .images import TolerantPNG

        self.serializer = serializer or WidgetStateSerializer()
        self._state = snapshot.use_extension(WidgetStateExtension)
        self._png = snapshot.use_extension(png_extension or TolerantPNG)
        self._names: dict[str, int] = {}
        self._options: dict[str, Any] = {}
        self.failures: list[str] = []
        self._state_failed = False

    def __call__(self, *, name: str | None = None, hello: Mapping[str, Any] | None = HELLO) -> WidgetSnapshot:
        """Options for the next comparison only: its snapshot ``name``, the ``hello`` sent (None: state only)."""
        self._options = {"name": name, "hello": hello}
        return self

    def __eq__(self, other: Any) -> bool:
        options, self._options = self._options, {}
        hello = options.get("hello", HELLO)
        capture = other if isinstance(other, WidgetCapture) else capture_widget(other, hello=hello)
        tree, images = self.serializer.normalise(capture)
        name = options.get("name") or self._default_name(capture.widget)
        self.failures = []
        for path, array in images.items():
            png_name = f"{name}.{path}"
            if not self._png(name=png_name) == png_bytes(array):
                self.failures.append(f"image {path} ({_describe(array)}): no PNG snapshot [{png_name}], or it "
                                     "differs beyond the pixel tolerance")
        self._state_failed = not self._state(name=name) == _Tree(tree)
        return not (self.failures or self._state_failed)

    __hash__ = None  # type: ignore[assignment]

    def _default_name(self, widget: str) -> str:
        n = self._names.get(widget, 0)
        self._names[widget] = n + 1
        return widget if n == 0 else f"{widget}.{n}"

    def explain(self, *, colors: bool = True) -> list[str]:
        """Why the last comparison failed, as lines (the pytest plugin shows them under the assert).

        The state's diff comes from syrupy (``-`` snapshot, ``+`` received); ``colors=False``
        leaves out its terminal colours.
        """
        import contextlib

        from syrupy.terminal import disable_color

        lines = list(self.failures)
        if self._state_failed:
            with contextlib.nullcontext() if colors else disable_color():
                lines += [str(line) for line in self._state.get_assert_diff()]
        return lines

    def __repr__(self) -> str:
        return "WidgetSnapshot()"
