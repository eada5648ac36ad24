"""Reading a checkpoint's ``state.json`` within bounds: its size, its nesting, and the fields that size things.

A checkpoint may come from anywhere (a download, a shared folder), so its ``state.json`` is read
as untrusted input:

* its size is checked before it is read: at most :data:`MAX_STATE_BYTES` (64 MiB). A real one is
  far smaller: a GAN's after 10,500 steps logged at every step (a history of 5,250 points of four
  metrics, the most a history keeps being 10,000) is 0.55 MB, so the cap leaves ample headroom.
  Raise it with the environment variable ``GENWIDGETS_MAX_STATE_BYTES``;
* its nesting is checked before it is parsed: at most :data:`MAX_STATE_DEPTH` levels (genwidgets
  writes 6), so a deeply nested file is an error naming the file, not a ``RecursionError``;
* :func:`validate_state` checks the fields a reader sizes or counts by: ``step`` (an integer
  >= 0) and the data spec (kind, a shape of positive integers, a bounded class count), so a
  doctored file cannot make a model allocate without bound or a run count from -5.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..bounds import env_limit, json_depth
from ..errors import CheckpointError, DataError

#: The two files of a checkpoint folder (here, without torch, for readers that only look at folders).
WEIGHTS_FILE = "weights.safetensors"
STATE_FILE = "state.json"

#: Most bytes a ``state.json`` may have (see the module docstring for what a real one weighs).
MAX_STATE_BYTES = 64 * 2**20
#: Environment variable that raises (or lowers) :data:`MAX_STATE_BYTES`.
ENV_MAX_STATE_BYTES = "GENWIDGETS_MAX_STATE_BYTES"
#: Most levels of nested JSON arrays/objects a ``state.json`` may have (genwidgets writes 6).
MAX_STATE_DEPTH = 64

_DAMAGED = "the file is damaged or was edited; use another checkpoint of the run (genwidgets keeps several)"


def state_bytes_limit() -> int:
    """The size cap for ``state.json``: ``GENWIDGETS_MAX_STATE_BYTES`` if set, else :data:`MAX_STATE_BYTES`.

    Raises:
        CheckpointError: the environment variable is set but is not a positive integer.
    """
    return env_limit(ENV_MAX_STATE_BYTES, MAX_STATE_BYTES, CheckpointError)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (genwidgets never writes it)")


def load_state_json(path: str | os.PathLike, *, max_bytes: int | None = None) -> dict[str, Any]:
    """Read and parse a checkpoint's ``state.json``, bounded in size and nesting.

    Args:
        path: The ``state.json`` file.
        max_bytes: Size cap (default: :func:`state_bytes_limit`).

    Returns:
        The parsed JSON object.

    Raises:
        CheckpointError: the file is missing or not a regular file, larger than the cap (the
            message says how to raise it), nested more than :data:`MAX_STATE_DEPTH` levels, not
            UTF-8 JSON, or not a JSON object; the message names the file.
    """
    p = Path(path)
    limit = state_bytes_limit() if max_bytes is None else max_bytes
    try:
        if not stat.S_ISREG(p.stat().st_mode):
            raise CheckpointError(f"checkpoint file {p} is not a regular file; {_DAMAGED}")
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise _too_big(p, size, limit)
            raw = fh.read(limit + 1)
    except OSError as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"could not read checkpoint file {p}: {exc}") from None
    if len(raw) > limit:  # it grew while being read
        raise _too_big(p, len(raw), limit)
    depth = json_depth(raw)
    if depth > MAX_STATE_DEPTH:
        raise CheckpointError(
            f"checkpoint file {p} nests JSON {depth:,} levels deep, more than the {MAX_STATE_DEPTH} genwidgets "
            f"reads (it writes 6); {_DAMAGED}")
    try:
        state = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"checkpoint file {p} is corrupt: {exc}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint file {p} holds a JSON {type(state).__name__}, not an object; {_DAMAGED}")
    return state


def _too_big(path: Path, size: int, limit: int) -> CheckpointError:
    return CheckpointError(
        f"checkpoint file {path} is {size:,} bytes, more than the {limit:,} bytes genwidgets reads (a real one is "
        f"under a few MB); if you trust it, raise the limit with the environment variable {ENV_MAX_STATE_BYTES}")


def validate_state(state: Mapping[str, Any], path: str | os.PathLike | None = None) -> None:
    """Check the fields of a checkpoint's state that readers count or size things by.

    ``step`` must be an integer >= 0; ``data.spec`` must be a valid data spec (see
    :meth:`genwidgets.data.base.DataSpec.from_dict`: kind, a shape of positive integers, a
    bounded class count). A field that is absent is left to the reader that needs it (which
    reports it missing), so bare checkpoints written by hand still read.

    Args:
        state: The parsed ``state.json``.
        path: The file it came from, named in the message.

    Raises:
        CheckpointError: a field is invalid; the message names the file and the field.
    """
    where = f"checkpoint file {path}" if path is not None else "checkpoint state"
    if "step" in state:
        step = state["step"]
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise CheckpointError(f"{where}: field 'step' is {_short(step)}; expected an integer >= 0; {_DAMAGED}")
    if "data" not in state:
        return
    data = state["data"]
    if not isinstance(data, Mapping):
        raise CheckpointError(f"{where}: field 'data' is {type(data).__name__}, not an object; {_DAMAGED}")
    if "spec" not in data:
        return
    from ..data.base import DataSpec

    try:
        DataSpec.from_dict(data["spec"])
    except DataError as exc:
        raise CheckpointError(f"{where}: field 'data.spec': {exc}; {_DAMAGED}") from None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
