"""How the training panel's data travels to the front end: binary buffers, never JSON lists or base64.

Arrays go as ``{"$b": index, "dtype": ..., "shape": [...]}`` placeholders in a message's JSON
content, with the bytes in the message's binary ``buffers`` (jupyter-scatter's
``{buffer, dtype, shape}`` serializer, split so that the comm can carry the bytes raw).
The front end's ``js/src/lib/wire.ts`` puts the buffers back.

Metric appends are the most frequent message, so they have the smallest frame: their content is
the bare opcode :data:`APPEND` (one byte of JSON) and their one buffer is a float32 matrix of
rows ``[step, metric_1, ..., metric_k]`` in the column order of the last ``columns`` or
``reset`` message. Every other message is a JSON object with an ``"op"`` key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Content of a metric-append message (its one buffer holds float32 rows).
APPEND = 0
#: Key that marks a buffer placeholder inside a message's content.
BUFFER_KEY = "$b"
#: dtypes the front end understands (see ``js/src/lib/ndarray.ts``).
WIRE_DTYPES = ("uint8", "int32", "float32", "float64")

Buffers = list[memoryview]


def pack(content: Any) -> tuple[Any, Buffers]:
    """Replace every numpy array inside ``content`` by a placeholder; return (content, buffers).

    Arrays must have one of :data:`WIRE_DTYPES`; they are made C-contiguous (copying only if
    they are not) and travel as raw bytes.
    """
    buffers: Buffers = []

    def walk(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            if value.dtype.name not in WIRE_DTYPES:
                allowed = ", ".join(WIRE_DTYPES)
                raise TypeError(f"cannot send {value.dtype} arrays; convert to one of {allowed}")
            array = np.ascontiguousarray(value)
            buffers.append(_bytes_view(array))
            return {BUFFER_KEY: len(buffers) - 1, "dtype": array.dtype.name, "shape": list(array.shape)}
        if isinstance(value, Mapping):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    return walk(content), buffers


def unpack(content: Any, buffers: Sequence[bytes | memoryview]) -> Any:
    """Inverse of :func:`pack`: placeholders become numpy arrays (read-only views of the buffers)."""

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            if BUFFER_KEY in value and "dtype" in value and "shape" in value:
                raw = buffers[int(value[BUFFER_KEY])]
                return np.frombuffer(raw, dtype=value["dtype"]).reshape(value["shape"])
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(content)


def append_message(rows: np.ndarray) -> tuple[int, Buffers]:
    """The smallest frame for new metric rows: content :data:`APPEND`, one float32 buffer."""
    if rows.ndim != 2 or rows.dtype != np.float32:
        raise TypeError(f"metric rows must be a 2-D float32 array, got {rows.dtype} {rows.shape}")
    return APPEND, [_bytes_view(np.ascontiguousarray(rows))]


def _bytes_view(array: np.ndarray) -> memoryview:
    """The bytes of a C-contiguous array, without copying (empty arrays included)."""
    return memoryview(array.reshape(-1).view(np.uint8))


def payload_size(content: Any, buffers: Sequence[bytes | memoryview]) -> int:
    """Bytes a message puts on the comm: its compact JSON content plus its binary buffers."""
    text = json.dumps(content, separators=(",", ":"), allow_nan=False)
    return len(text.encode()) + sum(memoryview(b).nbytes for b in buffers)
