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
  dtype, shape and their rounded values (up to :data:`MAX_VALUES` of them); larger float arrays
  as min/max/mean and a text file of their rounded values beside the ``.ambr``
  (:class:`TolerantArrayText`), larger integer arrays as the sha256 of their values.

Floats are compared within one unit of their last kept digit (:func:`trees_match`), not as
text: rounding maps two computations that differ in the last bits (another thread count or
CPU sums in another order) to neighbouring values when the exact result lies near a rounding
boundary (0.17325 may print as 0.1732 or 0.1733). As long as the computation's own error is
below one unit of the last kept digit, the two rounded values are at most one unit apart;
anything further is a real change. Integers, strings, shapes and hashes compare exactly.

Each snapshot states these rules in its ``precision`` entry. :class:`WidgetSnapshot` (the
``widget_snapshot`` fixture of the pytest plugin) asserts the tree in the test module's
``.ambr`` file, each image as a PNG and each large float array as a text file beside it;
``pytest --snapshot-update`` writes them (and leaves alone snapshots that still match).
Snapshot deterministic subjects: a model built from a seed (with a fixed thread count) or
loaded from fixed weights, not one whose state depends on how training went on this machine.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import io
import math
import re
import threading
import tokenize
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from comm.base_comm import BaseComm
from syrupy.extensions.amber import AmberSnapshotExtension
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

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


# ---- large float arrays as text ----------------------------------------------------------------------

_ARRAY_HEADER = re.compile(r"^# (?P<dtype>\w+)\[(?P<shape>[\d, ]*)\]: rounded to (?P<decimals>-?\d+) decimals "
                           r"\((?P<digits>\d+) significant digits of its largest value\)")


def array_text(a: np.ndarray, digits: int = DIGITS) -> str:
    """A float array as text: a header (dtype, shape, precision), then one row per line, rounded.

    The values are those of :func:`round_array` (``digits`` significant digits of the array's
    largest value), written with that many decimals; rows are the first axis (the other axes
    flattened). :func:`parse_array_text` reads it back.
    """
    decimals = array_decimals(a, digits)
    values = round_array(a, digits)
    rows = values.reshape(values.shape[0] if values.ndim else 1, -1)
    places = max(decimals, 0)
    lines = [f"# {_describe(a)}: rounded to {decimals} decimals ({digits} significant digits of its largest value)"]
    lines += [" ".join(f"{v:.{places}f}" if math.isfinite(v) else str(v) for v in row.tolist()) for row in rows]
    return "\n".join(lines) + "\n"


def parse_array_text(text: str) -> tuple[np.ndarray, int]:
    """The values (float64, in the array's shape) and significant digits of an :func:`array_text`.

    Raises:
        ValueError: The text is not an array text.
    """
    header, _, body = text.partition("\n")
    match = _ARRAY_HEADER.match(header)
    if match is None:
        raise ValueError(f"not an array snapshot: {header[:80]!r}")
    shape = tuple(int(n) for n in match["shape"].replace(" ", "").split(",") if n)
    values = np.array([float(v) for v in body.split()], dtype=np.float64)
    if values.size != math.prod(shape):
        raise ValueError(f"array snapshot of shape {list(shape)} holds {values.size} values")
    return values.reshape(shape), int(match["digits"])


class WidgetStateSerializer:
    """Turns a :class:`WidgetCapture` (or a widget, or any JSON-like value) into a stable, readable tree.

    Args:
        digits: Significant digits kept by floats, array statistics and array hashes.
        drop: Keys removed wherever they occur in the state (default :data:`DROP_KEYS` plus
            anywidget's own synced traits).
        timing: Keys whose non-None values become ``'<timing>'``.
        images: ``"png"``: image arrays are collected (see :meth:`normalise`) and appear in the
            tree as a reference to their PNG; ``"hash"``: they are summarised like other arrays.
        arrays: ``"file"``: float arrays of more than ``max_values`` values are collected (see
            :meth:`normalise`) and appear in the tree as min/max/mean and a reference to their
            text file; ``"hash"``: as min/max/mean and the sha256 of their rounded values (exact:
            only for subjects that are bit-for-bit the same wherever the test runs).
        hello: What :func:`capture_widget` sends when given a widget.
        max_values: Arrays with at most this many elements are listed (rounded) in the tree.
    """

    def __init__(self, *, digits: int = DIGITS, drop: Iterable[str] | None = None,
                 timing: Iterable[str] = TIMING_KEYS, images: str = "png", arrays: str = "file",
                 hello: Mapping[str, Any] | None = HELLO, max_values: int = MAX_VALUES) -> None:
        if images not in ("png", "hash"):
            raise ValueError(f"images must be 'png' or 'hash', got {images!r}")
        if arrays not in ("file", "hash"):
            raise ValueError(f"arrays must be 'file' or 'hash', got {arrays!r}")
        self.digits = digits
        self.drop = frozenset(drop) if drop is not None else DROP_KEYS | _anywidget_traits()
        self.timing = frozenset(timing)
        self.images = images
        self.arrays = arrays
        self.hello = hello
        self.max_values = max_values

    @property
    def precision(self) -> str:
        """The rules, in words (every snapshot carries this line)."""
        image_rule = ("uint8 images as PNG snapshots (with a pixel tolerance)" if self.images == "png"
                      else "uint8 images hashed like other arrays")
        large = ("larger float arrays as min/max/mean and a text snapshot of the rounded values"
                 if self.arrays == "file" else "larger float arrays as min/max/mean and sha256 of the rounded values")
        return (f"floats to {self.digits} significant digits (arrays: of their largest value), compared within one "
                f"unit of the last kept digit; arrays of up to {self.max_values} values listed, {large}, larger "
                f"integer arrays as sha256; {image_rule}; timing fields as {TIMING!r}")

    def normalise(self, data: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The tree for ``data`` and the arrays it stores beside it, by dotted path.

        Those are the image arrays (``images="png"``: ``uint8``, see :func:`is_image`), stored as
        PNG files, and the large float arrays (``arrays="file"``), stored as text files.
        """
        capture = data if isinstance(data, WidgetCapture) else None
        if capture is None and hasattr(data, "get_state") and hasattr(data, "send"):
            capture = capture_widget(data, hello=self.hello)
        files: dict[str, np.ndarray] = {}
        if capture is None:
            return {"value": self._walk(data, "value", files)}, files
        state = {k: v for k, v in capture.state.items() if k not in self.drop}
        tree: dict[str, Any] = {"widget": capture.widget, "precision": self.precision,
                                "state": self._walk(state, "state", files)}
        if capture.messages is not None:
            tree["messages"] = self._walk(capture.messages, "messages", files)
        return tree, files

    def serialize_tree(self, data: Any) -> dict[str, Any]:
        """Just the tree (the arrays :meth:`normalise` collects for files are not kept)."""
        return self.normalise(data)[0]

    def _walk(self, value: Any, path: str, files: dict[str, np.ndarray]) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if k in self.drop:
                    continue
                out[k] = TIMING if k in self.timing and v is not None else self._walk(v, f"{path}.{k}", files)
            return out
        if isinstance(value, list | tuple):
            return [self._walk(v, f"{path}.{i}", files) for i, v in enumerate(value)]
        if isinstance(value, np.ndarray):
            return self._array(value, path, files)
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

    def _array(self, a: np.ndarray, path: str, files: dict[str, np.ndarray]) -> dict[str, Any]:
        if self.images == "png" and is_image(a):
            files[path] = a
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
        if self.arrays == "file" and not integer:
            files[path] = a
            out["txt"] = path
            return out
        digest = hashlib.sha256(str(list(a.shape)).encode() + np.ascontiguousarray(values).tobytes())
        out["sha256"] = digest.hexdigest()[:16]
        return out


def _anywidget_traits() -> frozenset[str]:
    import anywidget

    return frozenset(anywidget.AnyWidget.class_trait_names(sync=True))


# ---- comparing within the stated precision -----------------------------------------------------------

_PRECISION = re.compile(r"floats to (\d+) significant digits")
_CONTAINERS = ("dict", "list", "tuple")
_NON_FINITE = {"nan": "\x00nan", "inf": "\x00inf", "-inf": "\x00-inf"}


def scalar_unit(a: float, b: float, digits: int = DIGITS) -> float:
    """One unit of the last kept digit of two floats rounded to ``digits`` significant digits (0.0 for zeros)."""
    top = max(abs(a), abs(b))
    return 10.0 ** (math.floor(math.log10(top)) - digits + 1) if top > 0 and math.isfinite(top) else 0.0


def array_unit(*arrays: np.ndarray, digits: int = DIGITS) -> float:
    """One unit of the last kept decimal of arrays rounded by :func:`round_array` (from their largest value).

    Taken over both sides, so that an array whose largest value rounds up to the next power of
    ten (0.99996 to 1.0, one decimal fewer) is still compared at the coarser of the two units.
    """
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    top = max((float(f.max()) for f in finite if f.size), default=0.0)
    return 10.0 ** (math.floor(math.log10(top)) - digits + 1) if top > 0 else 0.0


def arrays_match(snapshot: np.ndarray, received: np.ndarray, digits: int = DIGITS) -> bool:
    """Same shape, same non-finite values, and finite values at most one :func:`array_unit` apart."""
    return not _array_differences(np.asarray(snapshot, np.float64), np.asarray(received, np.float64), digits)


def _array_differences(a: np.ndarray, b: np.ndarray, digits: int) -> str:
    if a.shape != b.shape:
        return f"shape {list(a.shape)} != {list(b.shape)}"
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(a[~fa], b[~fb], equal_nan=True):
        return "non-finite values differ"
    unit = array_unit(a, b, digits=digits)
    off = np.abs(a - b) > unit * (1 + 1e-9)
    if not off.any():
        return ""
    first = tuple(int(i) for i in np.argwhere(off)[0])
    return (f"{int(off.sum())} of {a.size} values differ by more than {unit:g}, first at {list(first)}: "
            f"{a[first]:g} != {b[first]:g}")


def tree_differences(snapshot: Any, received: Any, *, digits: int = DIGITS, path: str = "") -> list[str]:
    """Where two snapshot trees differ beyond the precision, as ``"path: snapshot != received"`` lines.

    Floats may differ by one unit of their last kept digit (:func:`scalar_unit`; for the values
    and statistics of an array entry, :func:`array_unit` of the array); everything else
    (integers, strings, booleans, keys, lengths, shapes, hashes) must be equal.
    """
    where = path or "<root>"
    if isinstance(snapshot, dict) and isinstance(received, dict):
        if snapshot.keys() != received.keys():
            return [f"{where}: keys {sorted(snapshot)} != {sorted(received)}"]
        if _is_float_array(snapshot):
            return _float_array_differences(snapshot, received, digits, where)
        return [line for k in snapshot
                for line in tree_differences(snapshot[k], received[k], digits=digits, path=f"{path}.{k}".lstrip("."))]
    if isinstance(snapshot, list) and isinstance(received, list):
        if len(snapshot) != len(received):
            return [f"{where}: {len(snapshot)} items != {len(received)}"]
        return [line for i, (x, y) in enumerate(zip(snapshot, received, strict=True))
                for line in tree_differences(x, y, digits=digits, path=f"{path}.{i}".lstrip("."))]
    if type(snapshot) is float and type(received) is float:
        same = (snapshot == received or (math.isnan(snapshot) and math.isnan(received))
                or abs(snapshot - received) <= scalar_unit(snapshot, received, digits) * (1 + 1e-9))
        return [] if same else [f"{where}: {snapshot!r} != {received!r} (more than one unit of the last kept digit)"]
    if type(snapshot) is not type(received) or snapshot != received:
        return [f"{where}: {snapshot!r} != {received!r}"]
    return []


def trees_match(snapshot: Any, received: Any, *, digits: int = DIGITS) -> bool:
    """True when :func:`tree_differences` finds nothing."""
    return not tree_differences(snapshot, received, digits=digits)


def _is_float_array(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("array"), str) and entry["array"].startswith("float")


def _float_array_differences(a: dict[str, Any], b: dict[str, Any], digits: int, where: str) -> list[str]:
    out = []
    exact = [k for k in a if k not in ("values", "min", "max", "mean")]
    out += [f"{where}.{k}: {a[k]!r} != {b[k]!r}" for k in exact if a[k] != b[k]]
    if "values" in a:
        problem = _array_differences(np.array(a["values"], np.float64), np.array(b["values"], np.float64), digits)
        out += [f"{where}.values: {problem}"] if problem else []
    stats = [k for k in ("min", "max", "mean") if k in a]
    if stats:
        top = [np.array([a.get("min", 0.0), a.get("max", 0.0)]), np.array([b.get("min", 0.0), b.get("max", 0.0)])]
        unit = array_unit(*top, digits=digits)
        for k in stats:
            if not abs(a[k] - b[k]) <= unit * (1 + 1e-9):
                out.append(f"{where}.{k}: {a[k]!r} != {b[k]!r} (more than {unit:g}, one unit of the array's last "
                           "kept decimal)")
    return out


def parse_amber(text: str) -> Any:
    """The value an amber snapshot text shows (``dict({...})``, ``list([...])``, reprs of scalars).

    Reads what :class:`WidgetStateExtension` writes: dicts, lists, tuples, strings, numbers
    (``nan`` and ``inf`` included), booleans and None.

    Raises:
        ValueError: The text holds something else (or is not amber).
    """
    out: list[tuple[int, str]] = []
    drop_close: list[bool] = []  # per open parenthesis: is it ``dict(`` or ``list(``, whose ``)`` goes too
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    for i, tok in enumerate(tokens):
        follows = tokens[i - 1].string if i else ""
        if tok.type == tokenize.NAME and tok.string in _CONTAINERS and i + 1 < len(tokens) and \
                tokens[i + 1].string == "(":
            continue  # dict({...}) -> {...}, list([...]) -> [...], tuple(...) -> (...)
        if tok.string == "(" and tok.type == tokenize.OP:
            drop_close.append(follows in ("dict", "list"))
            if drop_close[-1]:
                continue
        elif tok.string == ")" and tok.type == tokenize.OP:
            if drop_close and drop_close.pop():
                continue
        elif tok.type == tokenize.NAME and tok.string in _NON_FINITE:
            name = tok.string
            if name == "inf" and out and out[-1] == (tokenize.OP, "-"):
                out.pop()
                name = "-inf"
            tok = tok._replace(type=tokenize.STRING, string=repr(_NON_FINITE[name]))
        elif tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT):
            continue
        out.append((tok.type, tok.string))
    try:
        value = ast.literal_eval(tokenize.untokenize(out).strip())
    except (SyntaxError, ValueError) as exc:
        raise ValueError(f"not an amber snapshot of plain values: {exc}") from None
    return _restore_non_finite(value)


def _restore_non_finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _restore_non_finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_restore_non_finite(v) for v in value)
    if value == _NON_FINITE["nan"]:
        return math.nan
    if value == _NON_FINITE["inf"]:
        return math.inf
    if value == _NON_FINITE["-inf"]:
        return -math.inf
    return value


def stated_digits(tree: Any) -> int:
    """The significant digits a snapshot tree states in its ``precision`` entry (:data:`DIGITS` if none)."""
    match = _PRECISION.search(tree.get("precision", "")) if isinstance(tree, dict) else None
    return int(match[1]) if match else DIGITS


# ---- syrupy ------------------------------------------------------------------------------------------

class WidgetStateExtension(AmberSnapshotExtension):
    """Amber snapshots (the ``.ambr`` file) of widget state, through :class:`WidgetStateSerializer`.

    Use it alone with ``snapshot.use_extension(WidgetStateExtension)``: images and large arrays
    are then hashed (exact). The ``widget_snapshot`` fixture (:class:`WidgetSnapshot`) stores them
    as PNG and text files instead, compared with a tolerance. Subclass and set
    :attr:`widget_serializer` to change the rules.

    A stored snapshot matches when the texts are equal, or when the trees they show differ
    only in floats, by at most one unit of their last kept digit (:func:`tree_differences`);
    :attr:`differences` then says what differed beyond that.
    """

    #: The serializer trees are made with.
    widget_serializer: WidgetStateSerializer | None = None
    #: What the last failed :meth:`matches` found beyond the precision (``path: snapshot != received``).
    differences: list[str] = []  # noqa: RUF012 - replaced, never mutated

    def serialize(self, data: Any, **kwargs: Any) -> str:
        """Normalise ``data`` (a widget, a :class:`WidgetCapture`, a tree) and render it as amber text."""
        if not isinstance(data, _Tree):
            serializer = self.widget_serializer or WidgetStateSerializer(images="hash", arrays="hash")
            data = _Tree(serializer.serialize_tree(data))
        return super().serialize(dict(data), **kwargs)

    def matches(self, *, serialized_data: Any, snapshot_data: Any) -> bool:
        """Equal texts, or trees equal up to one unit of each float's last kept digit."""
        self.differences = []
        if serialized_data == snapshot_data:
            return True
        if not isinstance(serialized_data, str) or not isinstance(snapshot_data, str):
            return False
        try:
            stored, received = parse_amber(snapshot_data), parse_amber(serialized_data)
        except ValueError as exc:
            self.differences = [f"the stored snapshot could not be compared value by value: {exc}"]
            return False
        self.differences = tree_differences(stored, received, digits=stated_digits(stored))
        return not self.differences


class TolerantArrayText(SingleFileSnapshotExtension):
    """A large float array as a text file (:func:`array_text`), matching within one unit of the last kept digit.

    The file is readable and diffs line by line; a stored array matches one that differs only
    where rounding met a boundary (see :func:`arrays_match`).
    """

    file_extension = "txt"
    _write_mode = WriteMode.TEXT

    def matches(self, *, serialized_data: Any, snapshot_data: Any) -> bool:
        """Same header and shape; values at most one unit of the last kept decimal apart."""
        if snapshot_data is None:
            return False
        if serialized_data == snapshot_data:
            return True
        try:
            (stored, digits), (received, received_digits) = (parse_array_text(t) for t in (snapshot_data,
                                                                                           serialized_data))
        except ValueError:
            return False
        return digits == received_digits and arrays_match(stored, received, digits)


class _Tree(dict):
    """A tree that is already normalised (the extension renders it as it is)."""


class WidgetSnapshot:
    """Snapshot a widget: its state in the ``.ambr`` file, its images as PNG files, with a pixel tolerance.

    Made by the ``widget_snapshot`` fixture from syrupy's ``snapshot``; compare it with a widget
    (or a :class:`WidgetCapture`)::

        assert panel == widget_snapshot
        assert explorer == widget_snapshot(name="after-training", hello={"op": "hello"})

    The state snapshot is named after the widget's class (``test_x[TrainingPanel]``), its images
    and large float arrays after their place in the tree
    (``test_x[TrainingPanel.messages.1.images].png``, ``test_x[DiscriminatorHeatmap.messages.0.z].txt``).
    Floats match within one unit of their last kept digit (see :class:`WidgetStateExtension`).
    """

    def __init__(self, snapshot: SnapshotAssertion, *, serializer: WidgetStateSerializer | None = None,
                 png_extension: type | None = None) -> None:
        from .images import TolerantPNG

        self.serializer = serializer or WidgetStateSerializer()
        self._state = snapshot.use_extension(WidgetStateExtension)
        self._png = snapshot.use_extension(png_extension or TolerantPNG)
        self._txt = snapshot.use_extension(TolerantArrayText)
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
        tree, files = self.serializer.normalise(capture)
        name = options.get("name") or self._default_name(capture.widget)
        self.failures = []
        for path, array in files.items():
            file_name = f"{name}.{path}"
            if is_image(array):
                if not self._png(name=file_name) == png_bytes(array):
                    self.failures.append(f"image {path} ({_describe(array)}): no PNG snapshot [{file_name}], or it "
                                         "differs beyond the pixel tolerance")
            elif not self._txt(name=file_name) == array_text(array, self.serializer.digits):
                self.failures.append(f"array {path} ({_describe(array)}): no text snapshot [{file_name}], or a "
                                     "value differs by more than one unit of its last kept decimal")
        self._state.extension.differences = []  # matches() does not run when there is no stored snapshot
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
            beyond = self._state.extension.differences
            if beyond:
                lines += ["state values beyond the stated precision:", *(f"  {line}" for line in beyond),
                          "the text diff (lines within the precision are listed too):"]
            with contextlib.nullcontext() if colors else disable_color():
                lines += [str(line) for line in self._state.get_assert_diff()]
        return lines

    def __repr__(self) -> str:
        return "WidgetSnapshot()"
